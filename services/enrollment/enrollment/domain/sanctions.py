"""Sanctions against a training institution (stream `sanctions-<institution_id>`): the administrator's
warnings and suspensions, and their lifting. Pure: no I/O; "today" (a date in China time) is passed in.

- `warning`: recorded and shown; blocks nothing; no period (`ends_on` None), lifting withdraws it.
- `suspend_enrollment`: while in force, no new batches for the institution and its offer leaves the search
  and the comparison; existing batches, orders and training carry on.
- `suspend_exam_sessions`: while in force, the exam service refuses the institution's new exam sessions;
  existing sessions carry on.

A suspension is in force on `day` when `starts_on <= day <= ends_on` (inclusive dates in China time) and it
has not been lifted: it ends by itself, no event is recorded at expiry. Sanctions may overlap (each has its
own period and reason). A start before today is refused; the period is at most `max_days` days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from events import DomainEvent, InstitutionSanctioned, InstitutionSanctionLifted
from servicekit.errors import Conflict, DomainError, NotFound

DEFAULT_MAX_DAYS = 365
REASON_MIN = 4


class Kind(StrEnum):
    WARNING = "warning"
    SUSPEND_ENROLLMENT = "suspend_enrollment"
    SUSPEND_EXAM_SESSIONS = "suspend_exam_sessions"


KIND_LABELS: dict[str, str] = {
    Kind.WARNING: "警告",
    Kind.SUSPEND_ENROLLMENT: "暂停招生（新报名）",
    Kind.SUSPEND_EXAM_SESSIONS: "暂停考试安排（新考场）",
}
SUSPENSIONS = (Kind.SUSPEND_ENROLLMENT, Kind.SUSPEND_EXAM_SESSIONS)


@dataclass
class Sanction:
    sanction_id: str
    kind: str
    reason: str
    starts_on: date
    ends_on: date | None
    recorded_by: str
    lifted: bool = False
    lift_reason: str = ""
    lifted_by: str = ""

    def in_force(self, day: date) -> bool:
        """A suspension blocks on `day` (inclusive period, not lifted); a warning never blocks."""
        return (
            self.kind in SUSPENSIONS
            and not self.lifted
            and self.ends_on is not None
            and self.starts_on <= day <= self.ends_on
        )

    def state(self, day: date) -> str:
        """`lifted`, `ended`, `scheduled`, `in_force`, or `recorded` (a warning)."""
        if self.lifted:
            return "lifted"
        if self.kind == Kind.WARNING:
            return "recorded"
        if self.ends_on is not None and day > self.ends_on:
            return "ended"
        if day < self.starts_on:
            return "scheduled"
        return "in_force"


STATE_LABELS = {
    "lifted": "已解除",
    "ended": "已到期",
    "scheduled": "未开始",
    "in_force": "执行中",
    "recorded": "已记录",
}


@dataclass
class InstitutionSanctions:
    institution_id: str = ""
    sanctions: dict[str, Sanction] = field(default_factory=dict)

    @classmethod
    def from_history(cls, history: Iterable[DomainEvent]) -> InstitutionSanctions:
        state = cls()
        for event in history:
            match event:
                case InstitutionSanctioned():
                    state.institution_id = event.institution_id
                    state.sanctions[event.sanction_id] = Sanction(
                        sanction_id=event.sanction_id,
                        kind=event.kind,
                        reason=event.reason,
                        starts_on=event.starts_on,
                        ends_on=event.ends_on,
                        recorded_by=event.recorded_by,
                    )
                case InstitutionSanctionLifted():
                    found = state.sanctions.get(event.sanction_id)
                    if found is not None:
                        found.lifted, found.lift_reason, found.lifted_by = True, event.reason, event.lifted_by
        return state

    def in_force(self, kind: str, day: date) -> list[Sanction]:
        """The suspensions of that kind in force on `day`, the one ending last first."""
        found = [s for s in self.sanctions.values() if s.kind == kind and s.in_force(day)]
        return sorted(found, key=lambda s: (s.ends_on or day, s.sanction_id), reverse=True)


def period_text(starts_on: date, ends_on: date | None) -> str:
    return f"{starts_on.isoformat()} 至 {ends_on.isoformat()}" if ends_on else f"{starts_on.isoformat()} 起"


def suspension_message(kind: str, sanction: Sanction, institution_label: str) -> str:
    """The refusal's text: what is suspended, the period and the reason."""
    what = "暂停招生，不能向其新报名" if kind == Kind.SUSPEND_ENROLLMENT else "暂停考试安排，不能新建考场"
    period = period_text(sanction.starts_on, sanction.ends_on)
    return (
        f"{institution_label}已被省级主管部门{what}（处理期间 {period}，原因：{sanction.reason}）；"
        "已有的报名批次、订单、培训和考场不受影响"
    )


def ensure_not_suspended(
    history: Sequence[DomainEvent], *, kind: str, today: date, institution_label: str
) -> None:
    """Refuse (409 `institution_suspended`) when a suspension of that kind is in force today."""
    in_force = InstitutionSanctions.from_history(history).in_force(kind, today)
    if in_force:
        first = in_force[0]
        raise DomainError(
            suspension_message(kind, first, institution_label),
            code="institution_suspended",
            status=409,
            details={
                "kind": kind,
                "sanction_id": first.sanction_id,
                "starts_on": first.starts_on.isoformat(),
                "ends_on": first.ends_on.isoformat() if first.ends_on else None,
                "reason": first.reason,
            },
        )


def sanction(
    history: Sequence[DomainEvent],
    *,
    sanction_id: str,
    institution_id: str,
    institution_name: str,
    kind: str,
    reason: str,
    starts_on: date | None,
    ends_on: date | None,
    today: date,
    max_days: int,
    recorded_by: str,
) -> list[DomainEvent]:
    """Record a sanction; every problem of the form at once (field + code + message)."""
    state = InstitutionSanctions.from_history(history)
    if sanction_id in state.sanctions:
        raise Conflict("该处理记录已存在", code="sanction_exists")
    problems: list[dict[str, str]] = []

    def problem(field_name: str, code: str, message: str) -> None:
        problems.append({"field": field_name, "code": code, "message": message})

    text = reason.strip()
    if len(text) < REASON_MIN:
        problem("reason", "reason_required", f"请填写处理原因（至少 {REASON_MIN} 个字）")
    start = starts_on or today
    if kind not in KIND_LABELS:
        problem(
            "kind",
            "invalid_kind",
            "处理类型应为 warning（警告）、suspend_enrollment（暂停招生）"
            "或 suspend_exam_sessions（暂停考试安排）",
        )
    elif kind == Kind.WARNING:
        if ends_on is not None:
            problem("ends_on", "warning_has_no_period", "警告不设期限，请不要填写结束日期")
        if start != today:
            problem("starts_on", "warning_starts_today", "警告自记录之日起生效，请不要填写其他开始日期")
    else:
        if start < today:
            problem(
                "starts_on",
                "starts_in_past",
                f"开始日期 {start.isoformat()} 早于今天（{today.isoformat()}），不能补记过去的暂停",
            )
        if ends_on is None:
            problem("ends_on", "ends_on_required", "暂停须填写结束日期（含当天）")
        elif ends_on < start:
            problem(
                "ends_on",
                "period_reversed",
                f"结束日期 {ends_on.isoformat()} 早于开始日期 {start.isoformat()}",
            )
        elif (ends_on - start).days + 1 > max_days:
            problem(
                "ends_on",
                "period_too_long",
                f"暂停期限最长 {max_days} 天（{start.isoformat()} 起最晚至 "
                f"{(start + timedelta(days=max_days - 1)).isoformat()}）",
            )
    if problems:
        raise DomainError(
            "处理信息不正确：" + "；".join(p["message"] for p in problems),
            code="invalid_sanction",
            details=problems,
        )
    return [
        InstitutionSanctioned(
            sanction_id=sanction_id,
            institution_id=institution_id,
            institution_name=institution_name,
            kind=kind,
            reason=text,
            starts_on=start,
            ends_on=ends_on if kind != Kind.WARNING else None,
            recorded_by=recorded_by,
        )
    ]


def lift(
    history: Sequence[DomainEvent], *, sanction_id: str, reason: str, today: date, lifted_by: str
) -> list[DomainEvent]:
    """Lift a sanction that is not lifted and has not ended (a scheduled one is cancelled, a warning
    withdrawn)."""
    state = InstitutionSanctions.from_history(history)
    found = state.sanctions.get(sanction_id)
    if found is None:
        raise NotFound("未找到该处理记录", code="sanction_not_found")
    if found.lifted:
        raise Conflict("该处理已解除，无需重复解除", code="sanction_lifted")
    if found.ends_on is not None and today > found.ends_on:
        raise Conflict(f"该处理已于 {found.ends_on.isoformat()} 到期结束，无需解除", code="sanction_ended")
    text = reason.strip()
    if len(text) < REASON_MIN:
        raise DomainError(
            f"请填写解除原因（至少 {REASON_MIN} 个字）",
            code="reason_required",
            details=[{"field": "reason", "code": "reason_required", "message": "请填写解除原因"}],
        )
    return [
        InstitutionSanctionLifted(
            sanction_id=sanction_id, institution_id=state.institution_id, reason=text, lifted_by=lifted_by
        )
    ]


def sanction_view(
    item: Sanction, *, today: date, recorded_at: Any = None, lifted_at: Any = None
) -> dict[str, Any]:
    """One sanction as the API answers it."""
    status = item.state(today)
    return {
        "sanction_id": item.sanction_id,
        "kind": item.kind,
        "kind_label": KIND_LABELS.get(item.kind, item.kind),
        "reason": item.reason,
        "starts_on": item.starts_on.isoformat(),
        "ends_on": item.ends_on.isoformat() if item.ends_on else None,
        "period": period_text(item.starts_on, item.ends_on),
        "recorded_by": item.recorded_by,
        "recorded_at": recorded_at,
        "status": status,
        "status_label": STATE_LABELS[status],
        "in_force": item.in_force(today),
        "lifted": item.lifted,
        "lift_reason": item.lift_reason or None,
        "lifted_by": item.lifted_by or None,
        "lifted_at": lifted_at,
    }
