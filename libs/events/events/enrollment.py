"""Enrollment context: applicants are imported, qualified, enrolled, trained and apply for the exam."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from events.base import DomainEvent
from events.registry import event

CONTEXT = "enrollment"


class ImportedApplicant(BaseModel):
    """One row of an imported summary sheet (附件4): the applicant's own data."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    applicant_id: str
    name: str
    gender: str
    id_number: str
    mobile: str = ""
    education: str = ""
    employer: str = ""
    major: str = ""
    graduated_on: date | None = None
    years_in_post: int | None = None


@event(CONTEXT, "ApplicantsImported")
class ApplicantsImported(DomainEvent):
    """An enterprise imported a batch of applicants for one position and institution."""

    batch_id: str
    enterprise_id: str
    institution_id: str
    position: str
    specialisation: str | None = None
    training_mode: str
    applicants: list[ImportedApplicant]
    continuing_education: bool = False


@event(CONTEXT, "ApplicantQualified")
class ApplicantQualified(DomainEvent):
    """An applicant passed the institution's qualification review."""

    applicant_id: str
    batch_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    training_mode: str
    continuing_education: bool = False
    reviewer_id: str = ""


@event(CONTEXT, "ApplicantRejected")
class ApplicantRejected(DomainEvent):
    """An applicant failed the qualification review."""

    applicant_id: str
    batch_id: str
    enterprise_id: str
    institution_id: str
    reason: str
    reviewer_id: str = ""


@event(CONTEXT, "Enrolled")
class Enrolled(DomainEvent):
    """A qualified applicant is enrolled once the order covering them is paid."""

    applicant_id: str
    enterprise_id: str
    institution_id: str
    order_id: str
    id_number: str
    name: str
    position: str
    specialisation: str | None = None
    training_mode: str


@event(CONTEXT, "TrainingPlanned")
class TrainingPlanned(DomainEvent):
    """The institution planned an applicant's training."""

    plan_id: str
    applicant_id: str
    institution_id: str
    enterprise_id: str
    training_mode: str
    starts_on: date
    ends_on: date
    place: str = ""


@event(CONTEXT, "ExamApplied")
class ExamApplied(DomainEvent):
    """An enrolled applicant applied for the exam."""

    applicant_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    head_photo_key: str | None = None
    head_photo_bucket: str | None = None
    training_mode: str | None = None
    retake: bool = False  # applied again after a failed attempt (补考)


class OfferLine(BaseModel):
    """One position an institution trains for, with its fee per training mode (None: mode not offered)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    position: str
    specialisation: str | None = None
    fee_online_fen: int | None = None
    fee_offline_fen: int | None = None


@event(CONTEXT, "OfferPublished")
class OfferPublished(DomainEvent):
    """A training institution published its offer (the whole offer; it replaces the previous one)."""

    institution_id: str
    name: str
    city: str
    offers: list[OfferLine]
    features: str = ""
    exam_locations: list[str] = Field(default_factory=list)
    payment_methods: list[str] = Field(default_factory=lambda: ["offline"])
    demo: bool = False


@event(CONTEXT, "PersonDocumentUploaded")
class PersonDocumentUploaded(DomainEvent):
    """A person uploaded a document of their own profile (我的资料): the head photo or the ID card's sides.

    `document` is `head_photo`, `id_card_front` or `id_card_back`; each upload replaces the previous one.
    The object lives in enrollment's bucket (`bucket`, `key`).
    """

    id_number: str
    document: str
    bucket: str
    key: str
    content_type: str
    size: int
