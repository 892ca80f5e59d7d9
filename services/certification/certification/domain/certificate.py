"""The certificate aggregate (pure): issued on a passed exam or imported as an old-style 岗位证书; valid while
continuing education is kept up.

States and transitions (no expiry date; validity is a state):

    有效 valid ──(too few hours over two cycles)──▶ 已失效 lapsed
    有效 valid ──(holder renews an old-style certificate)──▶ 已更新 superseded   (a new certificate is issued)
    有效 valid / 已失效 lapsed ──(blacklist or administrator)──▶ 已注销 revoked

Every decision takes the stream's history and returns the new events (or raises a DomainError).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from events import (
    CertificateIssued,
    CertificateLapsed,
    CertificateReinstated,
    CertificateRenewed,
    CertificateRevoked,
    ContinuingEducationCompleted,
    ContinuingEducationRecorded,
    ContinuingEducationReminderDue,
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
    records_by_key: dict[str, HoursRecord] = field(default_factory=dict)  # natural key → record
    source_refs: set[str] = field(default_factory=set)  # training plans credited ("<plan>:<applicant>")
    lapsed: CertificateLapsed | None = None  # the latest lapse (None once reinstated)
    retraining: list[HoursRecord] = field(default_factory=list)  # training-plan records since the lapse
    reinstated_on: date | None = None  # lapse judging restarts from here
    reminders: list[ContinuingEducationReminderDue] = field(default_factory=list)

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
            record = HoursRecord(
                event.studied_on,
                event.hours,
                event.kind,
                event.course,
                record_id=event.record_id,
                source=event.source,
                source_ref=event.source_ref,
            )
            self.records.append(record)
            self.record_ids.add(event.record_id)
            self.record_institutions.append(event.institution_id)
            self.records_by_key.setdefault(self.key_of(record), record)
            if event.source == "training_plan":
                # keyed again by hand or by sheet (course = the plan's name, its last day, the kind): the same
                # hours, so a duplicate of the credited record rather than a second one
                self.records_by_key.setdefault(self.key_of(replace(record, source="manual")), record)
            if event.source_ref:
                self.source_refs.add(event.source_ref)
            if self.state == "lapsed" and event.source == "training_plan":
                self.retraining.append(record)
        elif isinstance(event, CertificateLapsed):
            self.state = "lapsed"
            self.lapsed = event
            self.retraining = []
        elif isinstance(event, CertificateReinstated):
            self.state = "valid"
            self.lapsed = None
            self.retraining = []
            self.reinstated_on = event.reinstated_on
        elif isinstance(event, ContinuingEducationReminderDue):
            self.reminders.append(event)
        elif isinstance(event, CertificateRenewed) and event.previous_certificate_id == self.certificate_id:
            self.state = "superseded"
            self.renewed_by = event.certificate_id
            self.renewed_by_number = event.certificate_number
        elif isinstance(event, CertificateRevoked):
            self.state = "revoked"
            self.revoked_reason = event.reason

    def key_of(self, record: HoursRecord) -> str:
        plan_id = record.source_ref.split(":", 1)[0] if record.source_ref else None
        return rules_of_hours.natural_key(
            certificate_id=self.certificate_id,
            source=record.source,
            course=record.course,
            studied_on=record.studied_on,
            kind=record.kind,
            plan_id=plan_id,
        )

    def judged_from(self) -> date | None:
        """Cycles starting before this are not judged for lapse: for an imported old-style certificate, those
        before the import; after a reinstatement, those before it."""
        starts = [d for d in (self.imported_on if self.legacy else None, self.reinstated_on) if d is not None]
        return max(starts) if starts else None

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
    source: Literal["manual", "import"] = "manual",
) -> list[DomainEvent]:
    """A continuing-education record by an institution (`institution_id`) or the administrator (None); only
    those `may_record_hours` allows (403 `not_training_institution` otherwise). The same natural key
    (`hours.natural_key`) with the same hours decides nothing (the record exists); with other hours it is
    refused (409 `hours_record_conflict`)."""
    cert = Certificate.from_history(history)
    require_hours_recorder(cert, institution_id=institution_id, trains_holder=trains_holder)
    if record_id in cert.record_ids:
        return []
    existing = duplicate_of(cert, studied_on=studied_on, kind=kind, course=course, source=source)
    if existing is not None:
        if abs(existing.hours - hours) < 1e-9:
            return []  # the same record again: it is recorded once (the caller answers the existing one)
        raise Conflict(
            f"该证书在 {studied_on} 已登记课程“{existing.course}”（{KIND_LABEL.get(kind, kind)}）"
            f"{existing.hours:g} 学时，不能再登记 {hours:g} 学时；同一天同一课程同一类别只能登记一条",
            code="hours_record_conflict",
            details={
                "record_id": existing.record_id,
                "studied_on": existing.studied_on.isoformat(),
                "course": existing.course,
                "kind": existing.kind,
                "hours": existing.hours,
            },
        )
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
            source=source,
        )
    ]


KIND_LABEL = rules_of_hours.KIND_LABELS


def duplicate_of(
    cert: Certificate, *, studied_on: date, kind: str, course: str, source: str = "manual"
) -> HoursRecord | None:
    """The record already kept under the same natural key, if any."""
    key = rules_of_hours.natural_key(
        certificate_id=cert.certificate_id, source=source, course=course, studied_on=studied_on, kind=kind
    )
    return cert.records_by_key.get(key)


def training_ref(completed: ContinuingEducationCompleted) -> str:
    """The source_ref of a completed training plan: credited once per (plan, applicant)."""
    return f"{completed.plan_id}:{completed.applicant_id}"


def credit_training(
    history: Sequence[DomainEvent],
    *,
    completed: ContinuingEducationCompleted,
    record_id_for: Callable[[str], str],
    today: date,
    rules: HoursRules,
) -> list[DomainEvent]:
    """Credit a completed continuing-education training plan to the holder's certificate (valid or lapsed):
    its declared professional and general hours as one record each (none for 0 hours), dated on the plan's
    last day, course = the plan's name. Once per source_ref: a redelivery or a replay decides nothing. The
    per-record limits of keyed hours do not apply (a plan declares its hours as a whole).

    On a lapsed certificate the training is retraining: when the training-plan hours credited since the lapse
    meet the reinstatement rule (`hours.reinstatement_decision`), CertificateReinstated follows."""
    cert = Certificate.from_history(history)
    ref = training_ref(completed)
    if ref in cert.source_refs:
        return []
    if cert.state not in ("valid", "lapsed"):
        raise Conflict(
            f"证书状态为“{cert.state_label}”，不能登记继续教育学时",
            code="certificate_not_valid",
            details={"state": cert.state, "state_label": cert.state_label},
        )
    out: list[DomainEvent] = []
    for kind, amount in (
        ("professional", completed.professional_hours),
        ("general", completed.general_hours),
    ):
        if amount <= 0:
            continue
        record = ContinuingEducationRecorded(
            record_id=record_id_for(kind),
            certificate_id=cert.certificate_id,
            certificate_number=cert.number,
            id_number=cert.id_number,
            institution_id=completed.institution_id,
            studied_on=completed.completed_on,
            hours=amount,
            kind=kind,
            course=completed.plan_name.strip() or completed.plan_id,
            recorded_by="enrollment",
            source="training_plan",
            source_ref=ref,
            applicant_id=completed.applicant_id,
        )
        if record.record_id in cert.record_ids:
            continue
        cert.apply(record)
        out.append(record)
    if cert.state == "lapsed" and out:
        decision = rules_of_hours.reinstatement_decision(cert.retraining, rules)
        if decision.reinstated:
            out.append(
                CertificateReinstated(
                    certificate_id=cert.certificate_id,
                    certificate_number=cert.number,
                    id_number=cert.id_number,
                    holder_name=cert.holder_name,
                    position=cert.position,
                    reinstated_on=today,
                    hours=decision.hours,
                    professional_hours=decision.professional,
                    required_hours=decision.required_hours,
                    required_professional_hours=decision.required_professional,
                    training_refs=sorted({r.source_ref for r in cert.retraining if r.source_ref}),
                )
            )
    return out


def remind(history: Sequence[DomainEvent], *, today: date, rules: HoursRules) -> list[DomainEvent]:
    """ContinuingEducationReminderDue when a valid certificate's holder is short of hours 60 (then 30) days
    before the current cycle ends; once per certificate, cycle and threshold."""
    cert = Certificate.from_history(history)
    if cert.state != "valid":
        return []
    due = rules_of_hours.reminder_due(
        cert.issued_on,
        cert.records,
        today,
        rules,
        sent=[(r.cycle, r.days_before) for r in cert.reminders],
        judged_from=cert.judged_from(),
    )
    if due is None:
        return []
    return [
        ContinuingEducationReminderDue(
            certificate_id=cert.certificate_id,
            certificate_number=cert.number,
            id_number=cert.id_number,
            holder_name=cert.holder_name,
            position=cert.position,
            cycle=due.cycle.cycle.index,
            cycle_starts_on=due.cycle.cycle.starts_on,
            cycle_ends_on=due.cycle.cycle.ends_on,
            days_before=due.days_before,
            hours=due.cycle.total,
            required_hours=rules.hours_per_cycle,
            professional_hours=due.cycle.professional,
            required_professional_hours=rules.professional_hours_per_cycle,
            lapses_on=due.lapses_on,
        )
    ]


# -- at most one valid certificate per person and position ------------------------------------------------

SecondCertificateRule = Literal["renew", "refuse"]


def second_certificate(
    valid_same_position: Sequence[Certificate], rule: SecondCertificateRule
) -> Literal["issue", "renew", "refuse"]:
    """A passed exam for a position the person already holds a valid certificate for: `renew` (default)
    issues the new certificate and marks the old one 已更新 (CertificateRenewed); `refuse` issues nothing
    and records why (CertificateIssueRefused, internal). No valid certificate: issue."""
    if not valid_same_position:
        return "issue"
    return rule


def supersede(
    history: Sequence[DomainEvent], *, new_certificate_id: str, new_number: str, today: date
) -> list[DomainEvent]:
    """The old certificate's end when a new certificate for the same person and position is issued."""
    cert = Certificate.from_history(history)
    if cert.state != "valid":
        return []
    return [
        CertificateRenewed(
            certificate_id=new_certificate_id,
            certificate_number=new_number,
            previous_certificate_id=cert.certificate_id,
            previous_certificate_number=cert.number,
            id_number=cert.id_number,
            holder_name=cert.holder_name,
            position=cert.position,
            renewed_on=today,
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
            lapsed_on=today,
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
