"""Violations recorded by proctors and the administrator's blacklist (decisions, free of I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from events import DomainEvent, PersonBlacklisted, PersonBlacklistLifted, ViolationRecorded
from servicekit.errors import Conflict, DomainError, NotFound

from .session import Applicant

MIN_DESCRIPTION = 5


def record_violation(
    history: Sequence[DomainEvent],
    *,
    violation_id: str,
    applicant: Applicant,
    session_id: str,
    institution_id: str,
    description: str,
    evidence_keys: Sequence[str],
    recorded_by: str,
) -> list[DomainEvent]:
    if history:
        raise Conflict("该违纪记录已存在", code="violation_exists")
    text = description.strip()
    if len(text) < MIN_DESCRIPTION:
        raise DomainError(f"请描述违纪情况（至少 {MIN_DESCRIPTION} 个字）", code="description_too_short")
    return [
        ViolationRecorded(
            violation_id=violation_id,
            candidate_id=applicant.candidate_id,
            session_id=session_id,
            institution_id=institution_id,
            id_number=applicant.id_number,
            name=applicant.name,
            description=text,
            evidence_keys=list(evidence_keys),
            recorded_by=recorded_by,
        )
    ]


@dataclass
class BlacklistEntry:
    blacklist_id: str = ""
    id_number: str = ""
    since: date | None = None  # the day it was decided
    until: date | None = None  # inclusive
    lifted: bool = False

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent], *, since: date | None = None) -> BlacklistEntry:
        state = cls(since=since)
        for event in history:
            match event:
                case PersonBlacklisted():
                    state.blacklist_id, state.id_number, state.until = (
                        event.blacklist_id,
                        event.id_number,
                        event.until,
                    )
                case PersonBlacklistLifted():
                    state.lifted = True
        return state

    def covers(self, day: date) -> bool:
        return (
            not self.lifted
            and self.until is not None
            and (self.since is None or self.since <= day)
            and day <= self.until
        )


def blacklisted_on(entries: Sequence[BlacklistEntry], day: date) -> date | None:
    """The latest `until` of the entries barring the person on `day` (None: not blacklisted that day)."""
    covering = [e.until for e in entries if e.covers(day) and e.until is not None]
    return max(covering) if covering else None


def blacklist(
    history: Sequence[DomainEvent],
    *,
    blacklist_id: str,
    id_number: str,
    name: str,
    reason: str,
    violation_id: str | None,
    until: date | None,
    today: date,
    default_days: int,
    blacklisted_by: str,
) -> list[DomainEvent]:
    if history:
        raise Conflict("该黑名单记录已存在", code="blacklist_exists")
    if not reason.strip():
        raise DomainError("请填写列入黑名单的原因", code="reason_required")
    end = until if until is not None else today + timedelta(days=default_days)
    if end < today:
        raise DomainError(f"黑名单截止日期 {end.isoformat()} 早于今天", code="until_in_past")
    return [
        PersonBlacklisted(
            blacklist_id=blacklist_id,
            id_number=id_number,
            name=name,
            reason=reason.strip(),
            violation_id=violation_id,
            until=end,
            blacklisted_by=blacklisted_by,
        )
    ]


def lift(history: Sequence[DomainEvent], *, reason: str, lifted_by: str) -> list[DomainEvent]:
    state = BlacklistEntry.from_history(history)
    if not state.blacklist_id:
        raise NotFound("未找到该黑名单记录", code="blacklist_not_found")
    if state.lifted:
        raise Conflict("该黑名单已解除", code="blacklist_lifted")
    if not reason.strip():
        raise DomainError("请填写解除原因", code="reason_required")
    return [
        PersonBlacklistLifted(
            blacklist_id=state.blacklist_id,
            id_number=state.id_number,
            reason=reason.strip(),
            lifted_by=lifted_by,
        )
    ]
