"""The electronic certificate: issued on a passed exam; valid while continuing education is kept up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from events import CertificateIssued, DomainEvent, ExamPassed

STATES = {"valid": "有效", "lapsed": "已失效", "superseded": "已更新", "revoked": "已注销"}


def issue(
    history: Sequence[DomainEvent], *, passed: ExamPassed, certificate_id: str, number: str, issued_on: date
) -> list[DomainEvent]:
    """Issue once per passed attempt: a redelivered ExamPassed finds the certificate and changes nothing."""
    if history:
        return []
    return [
        CertificateIssued(
            certificate_id=certificate_id,
            certificate_number=number,
            applicant_id=passed.applicant_id,
            id_number=passed.id_number,
            holder_name=passed.name,
            gender=passed.gender,
            position=passed.position,
            specialisation=passed.specialisation,
            institution_id=passed.institution_id,
            issued_on=issued_on,
            attempt_id=passed.attempt_id,
        )
    ]
