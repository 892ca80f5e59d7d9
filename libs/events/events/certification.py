"""Certification context: certificates issued and renewed."""

from __future__ import annotations

from datetime import date

from events.base import DomainEvent
from events.registry import event

CONTEXT = "certification"


@event(CONTEXT, "CertificateIssued")
class CertificateIssued(DomainEvent):
    """A certificate was issued to a holder who passed the exam."""

    certificate_id: str
    certificate_number: str
    applicant_id: str
    id_number: str
    holder_name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    institution_id: str
    issued_on: date
    attempt_id: str | None = None


@event(CONTEXT, "CertificateRenewed")
class CertificateRenewed(DomainEvent):
    """A certificate was renewed, replacing the previous one."""

    certificate_id: str
    certificate_number: str
    previous_certificate_id: str
    previous_certificate_number: str
    id_number: str
    holder_name: str
    position: str
    renewed_on: date
