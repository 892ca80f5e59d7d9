"""The certificate aggregate (pure): issued on a passed exam or imported as an old-style 岗位证书; valid while
continuing education is kept up.

States and transitions (no expiry date; validity is a state):

    有效 valid ──(too few hours over two cycles)──▶ 已失效 lapsed
    有效 valid ──(holder renews an old-style certificate)──▶ 已更新 superseded   (a new certificate is issued)
    有效 valid / 已失效 lapsed ──(blacklist or administrator)──▶ 已注销 revoked

Every decision takes the stream's history and returns the new events (or raises a DomainError).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from events import (
    CertificateIssued,
    CertificateLapsed,
    CertificateRenewed,
    CertificateRevoked,
    ContinuingEducationRecorded,
    DomainEvent,
    ExamPassed,
    LegacyCertificateImported,
)
from servicekit.errors import Conflict, DomainError, Forbidden, NotFound

from . import hours as rules_of_hours
from .hours import HoursRecord, HoursRules

STATES = {"valid": "有效", "lapsed": "已失效", "superseded": "已更新", "revoked": "已注销"}
State = Literal["valid", "lapsed", "superseded", "revoked"]


@dataclass
class Certificate:
    certificate_id: str
    number: str
    id_number: str
    holder_name: str
    gender: str
    position: str
    specialisation: str | None
    issued_on: date
    institution_id: str | None
    institution_name: str = ""
    enterprise_id: str | None = None
    legacy: bool = False
    issuer: str = ""
    imported_on: date | None = None
    imported_by: str = ""  # the importer of an old-style certificate: an institution id or `admin:<account>`
    head_photo_bucket: str | None = None
    head_photo_key: str | None = None
    renews: str | None = None
    state: State = "valid"
    renewed_by: str | None = None
    renewed_by_number: str | None = None
    revoked_reason: str | None = None
    records: list[HoursRecord] = field(default_factory=list)
    record_ids: set[str] = field(default_factory=set)
    record_institutions: list[str] = field(default_factory=list)  # institution of each record, in order

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Certificate:
        if not history:
            raise NotFound("未找到该证书", code="certificate_not_found")
        first = history[0]
        if isinstance(first, CertificateIssued):
            cert = cls(
                certificate_id=first.certificate_id,
                number=first.certificate_number,
                id_number=first.id_number,
                holder_name=first.holder_name,
                gender=first.gender,
                position=first.position,
                specialisation=first.specialisation,
                issued_on=first.issued_on,
                institution_id=first.institution_id,
                institution_name=first.institution_name,
                enterprise_id=first.enterprise_id,
                head_photo_bucket=first.head_photo_bucket,
                head_photo_key=first.head_photo_key,
                renews=first.renews,
            )
        elif isinstance(first, LegacyCertificateImported):
            cert = cls(
                certificate_id=first.certificate_id,
                number=first.certificate_number,
                id_number=first.id_number,
                holder_name=first.holder_name,
                gender=first.gender,
                position=first.position,
                specialisation=first.specialisation,
                issued_on=first.issued_on,
                institution_id=None,
                legacy=True,
                issuer=first.issuer,
                imported_on=first.imported_on,
                imported_by=first.imported_by,
            )
        else:
            raise AssertionError(f"a certificate stream starts with {type(first).__name__}")
        for event in history[1:]:
            cert.apply(event)
        return cert

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, ContinuingEducationRecorded):
            self.records.append(HoursRecord(event.studied_on, event.hours, event.kind, event.course))
            self.record_ids.add(event.record_id)
            self.record_institutions.append(event.institution_id)
        elif isinstance(event, CertificateLapsed):
            self.state = "lapsed"
        elif isinstance(event, CertificateRenewed) and event.previous_certificate_id == self.certificate_id:
            self.state = "superseded"
            self.renewed_by = event.certificate_id
            self.renewed_by_number = event.certificate_number
        elif isinstance(event, CertificateRevoked):
            self.state = "revoked"
            self.revoked_reason = event.reason

    def judged_from(self) -> date | None:
        """For an imported old-style certificate, cycles before the import are not judged for lapse."""
        return self.imported_on if self.legacy else None

    @property
    def own_institution(self) -> str | None:
        """The institution the certificate belongs to: the one that trained the holder (an issued
        certificate), or the institution that imported an old-style certificate (None when an administrator
        imported it)."""
        if not self.legacy:
            return self.institution_id or None
        if self.imported_by and not self.imported_by.startswith("admin:"):
            return self.imported_by
        return None

    def require_valid(self, action: str) -> None:
        if self.state != "valid":
            raise Conflict(
                f"证书状态为“{self.state_label}”，不能{action}",
                code="certificate_not_valid",
                details={"state": self.state, "state_label": self.state_label},
            )


def issue(
    history: Sequence[DomainEvent],
    *,
    passed: ExamPassed,
    certificate_id: str,
    number: str,
    issued_on: date,
    institution_name: str = "",
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
            institution_name=institution_name,
            enterprise_id=passed.enterprise_id,
            issued_on=issued_on,
            attempt_id=passed.attempt_id,
            head_photo_bucket=passed.head_photo_bucket,
            head_photo_key=passed.head_photo_key,
        )
    ]


def import_legacy(history: Sequence[DomainEvent], imported: LegacyCertificateImported) -> list[DomainEvent]:
    if history:
        raise Conflict(
            f"证书编号 {imported.certificate_number} 已导入，不能重复导入", code="certificate_exists"
        )
    return [imported]


NOT_TRAINING_INSTITUTION = "not_training_institution"


def may_record_hours(cert: Certificate, *, institution_id: str | None, trains_holder: bool = False) -> bool:
    """Who may record continuing-education hours (and so move the certificate towards lapse or renewal):
    the administrator (`institution_id` None), the certificate's own institution (`own_institution`), or an
    institution that holds a continuing-education enrollment of the holder (`trains_holder`, from
    enrollment's events). Recording hours never grants reading the certificate."""
    if institution_id is None:
        return True
    if not institution_id:
        return False
    return institution_id == cert.own_institution or trains_holder


def require_hours_recorder(
    cert: Certificate, *, institution_id: str | None, trains_holder: bool = False
) -> None:
    if not may_record_hours(cert, institution_id=institution_id, trains_holder=trains_holder):
        raise Forbidden(
            f"本机构未培训证书 {cert.number} 的持证人，不能登记其继续教育学时；"
            "只有颁证培训机构、持证人报名继续教育的培训机构或管理员可以登记",
            code=NOT_TRAINING_INSTITUTION,
        )


def recording_institution(cert: Certificate, institution_id: str | None) -> str:
    """The institution a record names: the recording institution, or for the administrator the
    certificate's own institution (empty when it has none)."""
    return institution_id if institution_id is not None else cert.own_institution or ""


def record_hours(
    history: Sequence[DomainEvent],
    *,
    record_id: str,
    institution_id: str | None,
    studied_on: date,
    hours: float,
    kind: str,
    course: str,
    recorded_by: str,
    today: date,
    rules: HoursRules,
    trains_holder: bool = False,
) -> list[DomainEvent]:
    """A continuing-education record by an institution (`institution_id`) or the administrator (None); only
    those `may_record_hours` allows (403 `not_training_institution` otherwise)."""
    cert = Certificate.from_history(history)
    require_hours_recorder(cert, institution_id=institution_id, trains_holder=trains_holder)
    if record_id in cert.record_ids:
        return []
    cert.require_valid("登记继续教育学时")
    problems = rules_of_hours.record_problems(
        studied_on=studied_on,
        hours=hours,
        kind=kind,
        course=course,
        issued_on=cert.issued_on,
        today=today,
        rules=rules,
    )
    if problems:
        raise DomainError(
            "继续教育学时记录不正确：" + "；".join(m for _, _, m in problems),
            code="invalid_hours_record",
            details=[{"field": f, "code": c, "message": m} for f, c, m in problems],
        )
    return [
        ContinuingEducationRecorded(
            record_id=record_id,
            certificate_id=cert.certificate_id,
            certificate_number=cert.number,
            id_number=cert.id_number,
            institution_id=recording_institution(cert, institution_id),
            studied_on=studied_on,
            hours=hours,
            kind=kind,
            course=course.strip(),
            recorded_by=recorded_by,
        )
    ]


def lapse(history: Sequence[DomainEvent], *, today: date, rules: HoursRules) -> list[DomainEvent]:
    """CertificateLapsed when the two most recent complete cycles hold too few hours (idempotent)."""
    cert = Certificate.from_history(history)
    if cert.state != "valid":
        return []
    decision = rules_of_hours.lapse_decision(
        cert.issued_on, cert.records, today, rules, judged_from=cert.judged_from()
    )
    if decision is None or not decision.lapsed:
        return []
    return [
        CertificateLapsed(
            certificate_id=cert.certificate_id,
            certificate_number=cert.number,
            id_number=cert.id_number,
            cycles_from=decision.cycles_from,
            cycles_to=decision.cycles_to,
            hours=decision.hours,
            required_hours=decision.required_hours,
        )
    ]


@dataclass(frozen=True)
class Renewal:
    """What a renewal decided: the event for the old stream and the one that opens the new stream."""

    renewed: CertificateRenewed
    issued: CertificateIssued


def renew(
    history: Sequence[DomainEvent],
    *,
    holder_id_number: str,
    new_certificate_id: str,
    new_number: str,
    today: date,
    rules: HoursRules,
    institution_id: str,
    institution_name: str,
    head_photo_bucket: str | None = None,
    head_photo_key: str | None = None,
) -> Renewal:
    """The holder updates an old-style certificate once they have the required hours: a new electronic
    certificate is issued and the old one becomes void (已更新)."""
    cert = Certificate.from_history(history)
    if cert.id_number != holder_id_number:
        raise NotFound("未找到该证书", code="certificate_not_found")
    if not cert.legacy:
        raise Conflict("只有旧版岗位证书可以更新为电子证书", code="not_legacy_certificate")
    cert.require_valid("更新")
    decision = rules_of_hours.renewal_decision(cert.issued_on, cert.records, today, rules)
    if not decision.eligible:
        raise DomainError(
            "继续教育学时未达到更新要求：" + decision.reason, code="renewal_hours_insufficient", status=422
        )
    renewed = CertificateRenewed(
        certificate_id=new_certificate_id,
        certificate_number=new_number,
        previous_certificate_id=cert.certificate_id,
        previous_certificate_number=cert.number,
        id_number=cert.id_number,
        holder_name=cert.holder_name,
        position=cert.position,
        renewed_on=today,
    )
    issued = CertificateIssued(
        certificate_id=new_certificate_id,
        certificate_number=new_number,
        applicant_id="",
        id_number=cert.id_number,
        holder_name=cert.holder_name,
        gender=cert.gender,
        position=cert.position,
        specialisation=cert.specialisation,
        institution_id=institution_id,
        institution_name=institution_name,
        issued_on=today,
        head_photo_bucket=head_photo_bucket,
        head_photo_key=head_photo_key,
        renews=cert.certificate_id,
    )
    return Renewal(renewed=renewed, issued=issued)


def revoke(
    history: Sequence[DomainEvent],
    *,
    reason: str,
    source: Literal["blacklist", "admin"],
    revoked_by: str,
    blacklist_id: str | None = None,
) -> list[DomainEvent]:
    """Revoke (已注销). A blacklisting revokes what is still valid or lapsed and is idempotent; the
    administrator is told when there is nothing to revoke."""
    cert = Certificate.from_history(history)
    if cert.state in ("revoked", "superseded"):
        if source == "blacklist":
            return []
        raise Conflict(f"证书状态为“{cert.state_label}”，不能注销", code="certificate_not_revocable")
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写注销原因", code="reason_required", status=422)
    return [
        CertificateRevoked(
            certificate_id=cert.certificate_id,
            certificate_number=cert.number,
            id_number=cert.id_number,
            reason=reason,
            source=source,
            blacklist_id=blacklist_id,
            revoked_by=revoked_by,
        )
    ]
