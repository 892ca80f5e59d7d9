"""Certification context: certificates issued, continuing-education hours, lapse, renewal and revocation."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from events.base import (
    DocumentNumber,
    DomainEvent,
    Identifier,
    IdNumber,
    OrgName,
    PersonName,
    Reason,
    ShortText,
)
from events.registry import event

CONTEXT = "certification"

HoursKind = Literal["professional", "general"]


@event(CONTEXT, "CertificateIssued")
class CertificateIssued(DomainEvent):
    """A certificate was issued to a holder who passed the exam (or renewed an old one, `renews` set)."""

    certificate_id: Identifier
    certificate_number: DocumentNumber
    applicant_id: Identifier
    id_number: IdNumber
    holder_name: PersonName
    gender: ShortText = ""
    position: ShortText
    specialisation: ShortText | None = None
    institution_id: Identifier
    institution_name: OrgName = ""
    issued_on: date
    attempt_id: Identifier | None = None
    head_photo_bucket: ShortText | None = None
    head_photo_key: str | None = None
    renews: Identifier | None = None  # certificate id of the certificate this one replaces
    enterprise_id: Identifier | None = None  # the enterprise that enrolled the holder (from ExamPassed)


@event(CONTEXT, "LegacyCertificateImported")
class LegacyCertificateImported(DomainEvent):
    """An old-style 岗位证书 issued before the electronic system was recorded, so that it can be renewed."""

    certificate_id: Identifier
    certificate_number: DocumentNumber
    id_number: IdNumber
    holder_name: PersonName
    gender: ShortText = ""
    position: ShortText
    specialisation: ShortText | None = None
    issued_on: date
    issuer: OrgName = ""
    imported_by: Identifier = ""
    imported_on: date | None = None  # cycles starting before it are not judged for lapse


@event(CONTEXT, "ContinuingEducationRecorded")
class ContinuingEducationRecorded(DomainEvent):
    """An institution recorded continuing-education hours for a certificate."""

    record_id: Identifier
    certificate_id: Identifier
    certificate_number: DocumentNumber
    id_number: IdNumber
    institution_id: Identifier
    studied_on: date
    hours: float
    kind: HoursKind
    course: ShortText
    recorded_by: Identifier = ""
    # Where the record comes from: keyed one by one or by sheet (`manual`, `import`), or credited by a
    # completed continuing-education training plan (`training_plan`, `source_ref` =
    # "<plan_id>:<applicant_id>", `applicant_id` set). The same source_ref is credited once.
    source: Literal["manual", "import", "training_plan"] = "manual"
    source_ref: Identifier | None = None
    applicant_id: Identifier | None = None


@event(CONTEXT, "CertificateLapsed")
class CertificateLapsed(DomainEvent):
    """Too few hours over two cycles: the certificate is no longer valid (已失效); the holder must retrain."""

    certificate_id: Identifier
    certificate_number: DocumentNumber
    id_number: IdNumber
    cycles_from: date
    cycles_to: date
    hours: float
    required_hours: float
    lapsed_on: date | None = None  # the business date of the check that judged it (None: older events)


@event(CONTEXT, "CertificateReinstated")
class CertificateReinstated(DomainEvent):
    """A lapsed certificate is valid again (有效): the holder's retraining was credited — continuing-education
    training-plan hours credited after the lapse that meet one cycle's requirement. Lapse judging restarts
    from `reinstated_on` (the cycles before it are not judged again)."""

    certificate_id: Identifier
    certificate_number: DocumentNumber
    id_number: IdNumber
    holder_name: PersonName
    position: ShortText
    reinstated_on: date
    hours: float
    professional_hours: float
    required_hours: float
    required_professional_hours: float
    training_refs: list[Identifier] = Field(
        default_factory=list
    )  # source_ref ("<plan_id>:<applicant_id>") of the counted trainings


@event(CONTEXT, "CertificateRenewed")
class CertificateRenewed(DomainEvent):
    """A certificate was renewed: the new one is issued and the previous one is void (已更新)."""

    certificate_id: Identifier
    certificate_number: DocumentNumber
    previous_certificate_id: Identifier
    previous_certificate_number: DocumentNumber
    id_number: IdNumber
    holder_name: PersonName
    position: ShortText
    renewed_on: date


@event(CONTEXT, "CertificateRevoked")
class CertificateRevoked(DomainEvent):
    """A certificate was revoked (已注销): after a blacklisting, or by the administrator with a reason."""

    certificate_id: Identifier
    certificate_number: DocumentNumber
    id_number: IdNumber
    reason: Reason
    source: Literal["blacklist", "admin"]
    blacklist_id: Identifier | None = None
    revoked_by: Identifier = ""


@event(CONTEXT, "ContinuingEducationReminderDue")
class ContinuingEducationReminderDue(DomainEvent):
    """A holder is short of hours 60 (or 30) days before the current cycle ends: a reminder for the holder
    and their enterprise (the notifications of a later issue send it; until then: the holder's page data)."""

    certificate_id: Identifier
    certificate_number: DocumentNumber
    id_number: IdNumber
    holder_name: PersonName
    position: ShortText
    cycle: int
    cycle_starts_on: date
    cycle_ends_on: date
    days_before: Literal[60, 30]
    hours: float
    required_hours: float
    professional_hours: float
    required_professional_hours: float
    lapses_on: date | None = None  # when the certificate would lapse if the cycle stays short
