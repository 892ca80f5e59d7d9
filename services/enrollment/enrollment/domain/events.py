"""The enrollment context's internal events: stored in its own event store, never published to Kafka, not part
of the contract in `libs/events` (they may change freely; see `DomainEvent.public`)."""

from __future__ import annotations

from datetime import date

from events import DomainEvent, event
from events.base import TEXT_MAX_LENGTH, Identifier, IdNumber, Reason, ShortText
from events.enrollment import ImportedApplicant
from pydantic import BaseModel, ConfigDict, Field

CONTEXT = "enrollment"


class MaterialDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    document: ShortText
    object_key: str
    content_type: ShortText
    size: int


class HeadPhotoProblem(BaseModel):
    """A head-photo rule that failed: `rule` (adapters/photos.RULE_NAMES), stable `code`, Chinese message —
    what 我的资料's head-photo upload answers too."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    rule: ShortText = ""
    code: ShortText
    message: str


# The code given to a problem recorded before problems had codes (only its message was kept).
LEGACY_PHOTO_CODE = "photo_invalid"


class ApplicantMaterials(BaseModel):
    """One applicant's part of an upload. `photo_ok`: the zip's head photo was checked (None: it had none);
    one that failed is not stored (`documents` has no 头像) and `head_photo_problems` says why."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    applicant_id: Identifier
    id_number: IdNumber
    documents: list[MaterialDocument]
    photo_ok: bool | None = None
    head_photo_problems: list[HeadPhotoProblem] = Field(default_factory=list)
    # events recorded before the codes: the messages only (a failing photo was then stored all the same)
    photo_problems: list[ShortText] = Field(default_factory=list)

    def photo_findings(self) -> list[HeadPhotoProblem]:
        """The failed head-photo rules, with codes (a message recorded without one gets LEGACY_PHOTO_CODE)."""
        if self.head_photo_problems or not self.photo_problems:
            return list(self.head_photo_problems)
        return [HeadPhotoProblem(code=LEGACY_PHOTO_CODE, message=m) for m in self.photo_problems]


class BatchHeader(BaseModel):
    """What an applicant takes from its batch: one enterprise, institution, position and training mode."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    position: ShortText
    specialisation: ShortText | None = None
    training_mode: ShortText
    continuing_education: bool = False


@event(CONTEXT, "ApplicantRegistered", public=False)
class ApplicantRegistered(DomainEvent):
    """The first event of an applicant's own stream (`applicant-<id>`), written with the batch's import: the
    applicant's record and its batch's header, so that a decision on the applicant reads its stream alone
    (the batch's public ApplicantsImported chunks carry the same records for the other contexts)."""

    applicant_id: Identifier
    batch: BatchHeader
    record: ImportedApplicant
    # the batch stream's version once imported (its ApplicantsImported chunks): the batch's later events, its
    # materials, come after it, so that reading them skips the chunks
    batch_version: int = 0


@event(CONTEXT, "MaterialsUploaded", public=False)
class MaterialsUploaded(DomainEvent):
    """Documents of applicants of a batch were stored (each replaces the same document uploaded before)."""

    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    applicants: list[ApplicantMaterials]


@event(CONTEXT, "ApplicantCorrected", public=False)
class ApplicantCorrected(DomainEvent):
    """The enterprise corrected a rejected applicant's data; the applicant is reviewed again."""

    applicant_id: Identifier
    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    record: ImportedApplicant
    changes: dict[str, str] = Field(default_factory=dict)


@event(CONTEXT, "TrainingPlanCreated", public=False)
class TrainingPlanCreated(DomainEvent):
    """An institution created a training plan (dates, place for offline, platform for online, schedule)."""

    plan_id: Identifier
    institution_id: Identifier
    name: ShortText
    training_mode: ShortText
    position: ShortText
    starts_on: date
    ends_on: date
    place: ShortText = ""
    platform: ShortText = ""
    schedule: str = ""
    # a plan for continuing-education trainees declares the hours each completed trainee is credited
    continuing_education: bool = False
    professional_hours: float | None = None
    general_hours: float | None = None


@event(CONTEXT, "TrainingCompleted", public=False)
class TrainingCompleted(DomainEvent):
    """The institution recorded that a trainee completed the plan's training."""

    plan_id: Identifier
    applicant_id: Identifier
    institution_id: Identifier
    enterprise_id: Identifier


@event(CONTEXT, "HeadPhotoLocked", public=False)
class HeadPhotoLocked(DomainEvent):
    """The person's head photo became the exam's reference photo (first application for the exam): from now
    on it can no longer be changed (the exam record and the certificate carry it)."""

    id_number: IdNumber
    applicant_id: Identifier
    bucket: ShortText
    key: str
    reason: Reason = "exam_applied"


@event(CONTEXT, "ExamResultNoted", public=False)
class ExamResultNoted(DomainEvent):
    """Enrollment noted the exam's result of an applicant (from exam's ExamPassed / ExamFailed): a failed
    applicant may be applied for the exam again (补考), a passed one is closed (考试合格)."""

    applicant_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    attempt_id: Identifier
    passed: bool
    score: int
    pass_mark: int


@event(CONTEXT, "EnrollmentClosed", public=False)
class EnrollmentClosed(DomainEvent):
    """The applicant's enrollment reached or abandoned its purpose: it no longer counts for the rule "one open
    enrollment per person, position and kind" (the applicant index's row is closed in the same transaction).

    `reason`: `certificate_issued` (certification's CertificateIssued, `ref` its certificate id),
    `hours_credited` (certification's ContinuingEducationRecorded of a training plan, `ref` its source_ref),
    `withdrawn` (the enterprise withdrew the applicant, `ref` empty, `note` its reason) or `rejected` (the
    institution's review; a correction or a later approval opens it again: EnrollmentReopened)."""

    applicant_id: Identifier
    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    reason: ShortText
    ref: ShortText = ""
    note: Reason = ""


@event(CONTEXT, "EnrollmentReopened", public=False)
class EnrollmentReopened(DomainEvent):
    """A rejected applicant (closed by the rejection) was corrected or approved: its enrollment is open again
    (checked first: no other open enrollment of the same person, position and kind)."""

    applicant_id: Identifier
    batch_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
