"""Enrollment context: applicants are imported, qualified, enrolled, trained and apply for the exam."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from events.base import (
    TEXT_MAX_LENGTH,
    DomainEvent,
    Identifier,
    IdNumber,
    Mobile,
    OrgName,
    PersonName,
    Reason,
    ShortText,
)
from events.registry import event

CONTEXT = "enrollment"


class ImportedApplicant(BaseModel):
    """One row of an imported summary sheet (附件4): the applicant's own data."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    applicant_id: Identifier
    name: PersonName
    gender: ShortText
    id_number: IdNumber
    mobile: Mobile = ""
    education: ShortText = ""
    employer: OrgName = ""
    major: ShortText = ""
    graduated_on: date | None = None
    years_in_post: int | None = None


@event(CONTEXT, "ApplicantsImported")
class ApplicantsImported(DomainEvent):
    """An enterprise imported a batch of applicants for one position and institution."""

    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    position: ShortText
    specialisation: ShortText | None = None
    training_mode: ShortText
    applicants: list[ImportedApplicant]
    continuing_education: bool = False


@event(CONTEXT, "ApplicantQualified")
class ApplicantQualified(DomainEvent):
    """An applicant passed the institution's qualification review."""

    applicant_id: Identifier
    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    id_number: IdNumber
    name: PersonName
    gender: ShortText = ""
    position: ShortText
    specialisation: ShortText | None = None
    training_mode: ShortText
    continuing_education: bool = False
    reviewer_id: Identifier = ""


@event(CONTEXT, "ApplicantRejected")
class ApplicantRejected(DomainEvent):
    """An applicant failed the qualification review."""

    applicant_id: Identifier
    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    reason: Reason
    reviewer_id: Identifier = ""


@event(CONTEXT, "Enrolled")
class Enrolled(DomainEvent):
    """A qualified applicant is enrolled once the order covering them is paid."""

    applicant_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    order_id: Identifier
    id_number: IdNumber
    name: PersonName
    position: ShortText
    specialisation: ShortText | None = None
    training_mode: ShortText


@event(CONTEXT, "TrainingPlanned")
class TrainingPlanned(DomainEvent):
    """The institution planned an applicant's training."""

    plan_id: Identifier
    applicant_id: Identifier
    institution_id: Identifier
    enterprise_id: Identifier
    training_mode: ShortText
    starts_on: date
    ends_on: date
    place: ShortText = ""


@event(CONTEXT, "ExamApplied")
class ExamApplied(DomainEvent):
    """An enrolled applicant applied for the exam."""

    applicant_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    id_number: IdNumber
    name: PersonName
    gender: ShortText = ""
    position: ShortText
    specialisation: ShortText | None = None
    head_photo_key: str | None = None
    head_photo_bucket: ShortText | None = None
    training_mode: ShortText | None = None
    retake: bool = False  # applied again after a failed attempt (补考)


class OfferLine(BaseModel):
    """One position an institution trains for, with its fee per training mode (None: mode not offered)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    position: ShortText
    specialisation: ShortText | None = None
    fee_online_fen: int | None = None
    fee_offline_fen: int | None = None


@event(CONTEXT, "OfferPublished")
class OfferPublished(DomainEvent):
    """A training institution published its offer (the whole offer; it replaces the previous one)."""

    institution_id: Identifier
    name: OrgName
    city: ShortText
    offers: list[OfferLine]
    features: str = ""
    exam_locations: list[ShortText] = Field(default_factory=list)
    payment_methods: list[ShortText] = Field(default_factory=lambda: ["offline"])
    demo: bool = False


@event(CONTEXT, "PersonDocumentUploaded")
class PersonDocumentUploaded(DomainEvent):
    """A person uploaded a document of their own profile (我的资料): the head photo or the ID card's sides.

    `document` is `head_photo`, `id_card_front` or `id_card_back`; each upload replaces the previous one.
    The object lives in enrollment's bucket (`bucket`, `key`).
    """

    id_number: IdNumber
    document: ShortText
    bucket: ShortText
    key: str
    content_type: ShortText
    size: int


@event(CONTEXT, "ContinuingEducationCompleted")
class ContinuingEducationCompleted(DomainEvent):
    """A continuing-education trainee completed a training plan: certification credits the plan's hours (as
    the plan declares them, professional and general) to the holder's current cycle of the certificate for
    this position — once, keyed by (plan_id, applicant_id)."""

    applicant_id: Identifier
    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    plan_id: Identifier
    plan_name: ShortText
    id_number: IdNumber
    name: PersonName
    position: ShortText
    specialisation: ShortText | None = None
    professional_hours: float = Field(ge=0, le=200)
    general_hours: float = Field(ge=0, le=200)
    completed_on: date  # the plan's last day, in China time


@event(CONTEXT, "InstitutionSanctioned")
class InstitutionSanctioned(DomainEvent):
    """The administrator recorded a sanction against a training institution (处理：警告、暂停招生、
    暂停考试安排).

    `kind` is `warning` (recorded and shown, blocks nothing), `suspend_enrollment` (no new batches; its offers
    leave the search and the comparison) or `suspend_exam_sessions` (no new exam sessions). A suspension is in
    force from `starts_on` to `ends_on` inclusive (dates in China time) unless lifted; it ends by itself
    (no event at expiry). A warning has `ends_on` None. Stream `sanctions-<institution_id>`.
    """

    sanction_id: Identifier
    institution_id: Identifier
    institution_name: OrgName = ""
    kind: ShortText
    reason: Reason
    starts_on: date
    ends_on: date | None = None
    recorded_by: Identifier


@event(CONTEXT, "InstitutionSanctionLifted")
class InstitutionSanctionLifted(DomainEvent):
    """The administrator lifted a sanction before its end (with a reason); from then on it blocks nothing."""

    sanction_id: Identifier
    institution_id: Identifier
    reason: Reason
    lifted_by: Identifier
