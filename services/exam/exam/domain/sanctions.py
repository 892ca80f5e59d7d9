"""The administrator's sanctions against institutions, as the exam service needs them (decisions, free of
I/O): while a suspension of exam sessions (`suspend_exam_sessions`, from enrollment's InstitutionSanctioned)
is in force — today, a date in China time, between `starts_on` and `ends_on` inclusive, not lifted — the
institution's new exam sessions are refused; its existing sessions carry on. A suspension ends by itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from servicekit.errors import DomainError

SUSPEND_EXAM_SESSIONS = "suspend_exam_sessions"


@dataclass(frozen=True)
class SessionSuspension:
    sanction_id: str
    institution_name: str
    reason: str
    starts_on: date
    ends_on: date

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> SessionSuspension | None:
        """A read-model document of a sanction, when it is a recorded (not lifted) exam-session suspension."""
        if doc.get("kind") != SUSPEND_EXAM_SESSIONS or doc.get("lifted") or not doc.get("starts_on"):
            return None
        if not doc.get("ends_on"):
            return None
        return cls(
            sanction_id=str(doc["_id"]),
            institution_name=str(doc.get("institution_name") or ""),
            reason=str(doc.get("reason") or ""),
            starts_on=date.fromisoformat(doc["starts_on"]),
            ends_on=date.fromisoformat(doc["ends_on"]),
        )

    def in_force(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def ensure_sessions_allowed(documents: Iterable[Mapping[str, Any]], *, today: date) -> None:
    """Refuse a new exam session (409 `institution_suspended`, naming the period and the reason) while an
    exam-session suspension of the institution is in force today."""
    found = [s for d in documents if (s := SessionSuspension.from_document(d)) and s.in_force(today)]
    if not found:
        return
    latest = max(found, key=lambda s: (s.ends_on, s.sanction_id))
    who = f"培训机构“{latest.institution_name}”" if latest.institution_name else "本培训机构"
    raise DomainError(
        f"{who}已被省级主管部门暂停考试安排，不能新建考场（处理期间 {latest.starts_on.isoformat()} 至 "
        f"{latest.ends_on.isoformat()}，原因：{latest.reason}）；已安排的考场照常进行",
        code="institution_suspended",
        status=409,
        details={
            "kind": SUSPEND_EXAM_SESSIONS,
            "sanction_id": latest.sanction_id,
            "starts_on": latest.starts_on.isoformat(),
            "ends_on": latest.ends_on.isoformat(),
            "reason": latest.reason,
        },
    )
