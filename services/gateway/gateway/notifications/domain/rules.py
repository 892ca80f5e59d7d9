"""Who is told what: the messages one public event gives (pure: the caller looks the facts up).

Recipients are principals, not accounts: `enterprise:<id>`, `person:<ID number>`, `institution:<id>`. A
person who has no account yet finds the messages when they activate one. Every message goes to the inbox;
the rules say which also go by SMS (to the enterprise's contact mobile or the person's mobile, when known).
The enterprise is not sent an SMS per applicant for the news it sees in its inbox anyway (a batch of 10,000
qualified applicants would be 10,000 texts to one contact): only the person is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from events import DomainEvent
from events.certification import CertificateIssued, CertificateRevoked, ContinuingEducationReminderDue
from events.enrollment import ApplicantQualified, ApplicantRejected, TrainingPlanned
from events.exam import ExamFailed, ExamPassed, ExamScheduled, PersonBlacklisted
from events.payment import OrderPaid, VoucherRejected
from events.registration import EnterpriseApproved, EnterpriseRejected
from servicekit.auth import Identity, Role

CHINA = ZoneInfo("Asia/Shanghai")

ENTERPRISE = "enterprise"
PERSON = "person"
INSTITUTION = "institution"

# The event types the consumer reads (the lookups' events come in addition).
NOTIFIED_EVENTS: tuple[type[DomainEvent], ...] = (
    EnterpriseApproved,
    EnterpriseRejected,
    ApplicantQualified,
    ApplicantRejected,
    OrderPaid,
    VoucherRejected,
    TrainingPlanned,
    ExamScheduled,
    ExamPassed,
    ExamFailed,
    CertificateIssued,
    ContinuingEducationReminderDue,
    PersonBlacklisted,
    CertificateRevoked,
)


def principal(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def principal_of(identity: Identity) -> str:
    """The principal whose inbox an account reads: its organisation (enterprise, institution), its ID number
    (person), or the account itself (reviewers and administrators are told nothing yet)."""
    if identity.role is Role.ENTERPRISE and identity.org_id:
        return principal(ENTERPRISE, identity.org_id)
    if identity.role is Role.PERSON and identity.org_id:
        return principal(PERSON, identity.org_id.strip().upper())
    if identity.role is Role.INSTITUTION and identity.org_id:
        return principal(INSTITUTION, identity.org_id)
    return principal("account", identity.account_id)


@dataclass(frozen=True)
class Facts:
    """What the consumer knows beside the event: the enterprise's name and contact mobile, the person's ID
    number (from the event, or from the applicant's import for events that carry only the applicant
    id), name and mobile, and the text of what to bring to an exam."""

    enterprise_name: str = ""
    enterprise_mobile: str = ""
    id_number: str = ""
    person_name: str = ""
    person_mobile: str = ""
    exam_bring: str = ""


@dataclass(frozen=True)
class Delivery:
    """One message of one event to one principal: always to the inbox, by SMS to `sms_to` when set."""

    kind: str
    recipient: str
    values: dict[str, str] = field(default_factory=dict)
    sms_to: str = ""


def china_time(at: datetime) -> str:
    """`2026年12月3日 09:00` in China time."""
    local = at.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def china_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _hours(value: float) -> str:
    return f"{value:g}"


def is_stale(occurred_at: datetime, now: datetime, max_age: timedelta) -> bool:
    """An event older than `max_age` tells nobody anything (the consumer's first start on a platform with a
    history reads every topic from its beginning: old news must not become a flood of texts)."""
    return now - occurred_at > max_age


def person_id_number(event: DomainEvent) -> str:
    """The ID number an event carries itself ('' when it names only an applicant)."""
    value = getattr(event, "id_number", "")
    return value.strip().upper() if isinstance(value, str) else ""


def plan(event: DomainEvent, facts: Facts) -> list[Delivery]:
    """The messages `event` gives (empty: nothing to tell)."""
    enterprise_id = getattr(event, "enterprise_id", None) or ""
    ent = principal(ENTERPRISE, enterprise_id) if enterprise_id else ""
    person = principal(PERSON, facts.id_number) if facts.id_number else ""
    e_name = facts.enterprise_name or getattr(event, "name", "") or "贵单位"

    def to_enterprise(kind: str, values: dict[str, str], *, sms: bool) -> list[Delivery]:
        if not ent:
            return []
        return [
            Delivery(kind, ent, {"enterprise_name": e_name, **values}, facts.enterprise_mobile if sms else "")
        ]

    def to_person(kind: str, values: dict[str, str]) -> list[Delivery]:
        if not person:
            return []
        return [Delivery(kind, person, values, facts.person_mobile)]

    match event:
        case EnterpriseApproved():
            return to_enterprise("registration_approved", {"enterprise_name": event.name or e_name}, sms=True)
        case EnterpriseRejected():
            return to_enterprise("registration_rejected", {"reason": event.reason}, sms=True)
        case ApplicantQualified():
            values = {"name": event.name, "position": event.position}
            return to_enterprise("applicant_qualified", values, sms=False) + to_person(
                "applicant_qualified", values
            )
        case ApplicantRejected():
            return to_enterprise(
                "applicant_rejected", {"applicant_id": event.applicant_id, "reason": event.reason}, sms=True
            )
        case OrderPaid():
            if event.method != "offline":
                return []  # paid online: the enterprise paid on the spot, no voucher was confirmed
            values = {
                "order_number": event.order_number,
                "amount": f"{event.amount_fen / 100:.2f}",
                "applicant_count": str(len(event.applicant_ids)),
            }
            return to_enterprise("voucher_confirmed", values, sms=True)
        case VoucherRejected():
            return to_enterprise("voucher_rejected", {"reason": event.reason}, sms=True)
        case TrainingPlanned():
            values = {
                "name": facts.person_name,
                "starts_on": china_date(event.starts_on),
                "ends_on": china_date(event.ends_on),
                "place": event.place or "另行通知",
                "training_mode": event.training_mode,
            }
            return to_person("training_planned", values) + to_enterprise(
                "training_planned", values, sms=False
            )
        case ExamScheduled():
            values = {
                "name": event.name,
                "position": event.position,
                "starts_at": china_time(event.starts_at),
                "room": event.room,
                "address": event.address or "见准考信息",
                "seat": str(event.seat),
                "bring": facts.exam_bring,
            }
            return to_person("exam_scheduled", values)
        case ExamPassed() | ExamFailed():
            kind = "exam_passed" if isinstance(event, ExamPassed) else "exam_failed"
            name = event.name if isinstance(event, ExamPassed) else facts.person_name
            values = {
                "name": name,
                "position": event.position,
                "score": str(event.score),
                "pass_mark": str(event.pass_mark),
            }
            return to_person(kind, values) + to_enterprise(kind, values, sms=False)
        case CertificateIssued():
            values = {
                "name": event.holder_name,
                "position": event.position,
                "certificate_number": event.certificate_number,
                "issued_on": china_date(event.issued_on),
            }
            return to_person("certificate_issued", values)
        case ContinuingEducationReminderDue():
            values = {
                "name": event.holder_name,
                "position": event.position,
                "certificate_number": event.certificate_number,
                "cycle_ends_on": china_date(event.cycle_ends_on),
                "hours": _hours(event.hours),
                "required_hours": _hours(event.required_hours),
                "days_before": str(event.days_before),
            }
            return to_person("ce_reminder", values)
        case PersonBlacklisted():
            values = {
                "name": event.name or facts.person_name,
                "until": china_date(event.until),
                "reason": event.reason,
            }
            return to_person("person_blacklisted", values)
        case CertificateRevoked():
            values = {"certificate_number": event.certificate_number, "reason": event.reason}
            return to_person("certificate_revoked", values)
    return []
