"""Certification context: certificates issued, continuing-education hours, lapse, renewal and revocation."""

from __future__ import annotations

from datetime import date
from typing import Literal

from events.base import DomainEvent
from events.registry import event

CONTEXT = "certification"

HoursKind = Literal["professional", "general"]


@event(CONTEXT, "CertificateIssued")
class CertificateIssued(DomainEvent):
    """A certificate was issued to a holder who passed the exam (or renewed an old one, `renews` set)."""

    certificate_id: str
    certificate_number: str
    applicant_id: str
    id_number: str
    holder_name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    institution_id: str
    institution_name: str = ""
    issued_on: date
    attempt_id: str | None = None
    head_photo_bucket: str | None = None
    head_photo_key: str | None = None
    renews: str | None = None  # certificate id of the certificate this one replaces
    enterprise_id: str | None = None  # the enterprise that enrolled the holder (from ExamPassed)


@event(CONTEXT, "LegacyCertificateImported")
class LegacyCertificateImported(DomainEvent):
    """An old-style 岗位证书 issued before the electronic system was recorded, so that it can be renewed."""

    certificate_id: str
    certificate_number: str
    id_number: str
    holder_name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    issued_on: date
    issuer: str = ""
    imported_by: str = ""
    imported_on: date | None = None  # cycles starting before it are not judged for lapse


@event(CONTEXT, "ContinuingEducationRecorded")
class ContinuingEducationRecorded(DomainEvent):
    """An institution recorded continuing-education hours for a certificate."""

    record_id: str
    certificate_id: str
    certificate_number: str
    id_number: str
    institution_id: str
    studied_on: date
    hours: float
    kind: HoursKind
    course: str
    recorded_by: str = ""


@event(CONTEXT, "CertificateLapsed")
class CertificateLapsed(DomainEvent):
    """Too few hours over two cycles: the certificate is no longer valid (已失效); the holder must retrain."""

    certificate_id: str
    certificate_number: str
    id_number: str
    cycles_from: date
    cycles_to: date
    hours: float
    required_hours: float


@event(CONTEXT, "CertificateRenewed")
class CertificateRenewed(DomainEvent):
    """A certificate was renewed: the new one is issued and the previous one is void (已更新)."""

    certificate_id: str
    certificate_number: str
    previous_certificate_id: str
    previous_certificate_number: str
    id_number: str
    holder_name: str
    position: str
    renewed_on: date


@event(CONTEXT, "CertificateRevoked")
class CertificateRevoked(DomainEvent):
    """A certificate was revoked (已注销): after a blacklisting, or by the administrator with a reason."""

    certificate_id: str
    certificate_number: str
    id_number: str
    reason: str
    source: Literal["blacklist", "admin"]
    blacklist_id: str | None = None
    revoked_by: str = ""
