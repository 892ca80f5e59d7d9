"""Exam sessions: an institution's sitting in a test room with numbered seats (decisions, free of I/O).

The session's stream holds its creation, every seat given (`ExamScheduled`) or taken back
(`ExamUnscheduled`) and its cancellation. Seats are decided on the stream's history and appended at the
expected version, so two assignments racing for the last seat cannot both get it: the second is decided
again on the new history and refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from events import DomainEvent, ExamScheduled, ExamSessionCancelled, ExamSessionCreated, ExamUnscheduled
from servicekit.errors import Conflict, DomainError, NotFound

from .timing import local_date, local_text

POSITIONS = ("施工员", "质量员", "安全员", "标准员", "材料员", "机械员", "劳务员", "资料员")
SPECIALISED = ("施工员", "质量员")


@dataclass(frozen=True)
class Applicant:
    """A candidate as the exam knows them from enrollment's ExamApplied (one per application)."""

    candidate_id: str
    applicant_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    name: str
    position: str
    gender: str = ""
    specialisation: str | None = None
    head_photo_bucket: str | None = None
    head_photo_key: str | None = None
    retake: bool = False

    @property
    def label(self) -> str:
        return f"{self.name}（{self.position}{'·' + self.specialisation if self.specialisation else ''}）"


@dataclass
class Session:
    session_id: str = ""
    institution_id: str = ""
    position: str = ""
    specialisation: str | None = None
    starts_at: datetime | None = None
    room: str = ""
    address: str = ""
    seats: int = 0
    duration_minutes: int = 120
    cancelled: bool = False
    holders: dict[str, ExamScheduled] = field(default_factory=dict)  # candidate id → its seat

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Session:
        return cls().apply(history)

    def apply(self, events: Sequence[DomainEvent]) -> Session:
        """This state after `events` (changed in place and returned)."""
        for event in events:
            match event:
                case ExamSessionCreated():
                    self.session_id, self.institution_id = event.session_id, event.institution_id
                    self.position, self.specialisation = event.position, event.specialisation
                    self.starts_at, self.room, self.address = event.starts_at, event.room, event.address
                    self.seats, self.duration_minutes = event.seats, event.duration_minutes
                case ExamScheduled():
                    self.holders[event.candidate_id] = event
                case ExamUnscheduled():
                    self.holders.pop(event.candidate_id, None)
                case ExamSessionCancelled():
                    self.cancelled = True
        return self

    def dump(self) -> dict[str, Any]:
        """The state as a document (a snapshot of a session with hundreds of seats)."""
        return {
            "session_id": self.session_id,
            "institution_id": self.institution_id,
            "position": self.position,
            "specialisation": self.specialisation,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "room": self.room,
            "address": self.address,
            "seats": self.seats,
            "duration_minutes": self.duration_minutes,
            "cancelled": self.cancelled,
            "holders": [h.model_dump(mode="json") for h in self.holders.values()],
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Session:
        holders = [ExamScheduled.model_validate(h) for h in data["holders"]]
        starts_at = data["starts_at"]
        return cls(
            session_id=data["session_id"],
            institution_id=data["institution_id"],
            position=data["position"],
            specialisation=data["specialisation"],
            starts_at=datetime.fromisoformat(starts_at) if starts_at else None,
            room=data["room"],
            address=data["address"],
            seats=data["seats"],
            duration_minutes=data["duration_minutes"],
            cancelled=data["cancelled"],
            holders={h.candidate_id: h for h in holders},
        )

    @property
    def exists(self) -> bool:
        return self.starts_at is not None

    @property
    def start(self) -> datetime:
        assert self.starts_at is not None
        return self.starts_at

    @property
    def day(self) -> date:
        return local_date(self.start)

    def free_seats(self) -> list[int]:
        taken = {h.seat for h in self.holders.values()}
        return [n for n in range(1, self.seats + 1) if n not in taken]

    def holds(self, candidate_id: str) -> bool:
        return not self.cancelled and candidate_id in self.holders

    def serves(self, position: str, specialisation: str | None) -> bool:
        """A session for a position without specialisation serves every specialisation of it."""
        return position == self.position and (
            self.specialisation is None or specialisation == self.specialisation
        )


def _owned(state: Session, institution_id: str | None) -> None:
    if not state.exists or (institution_id is not None and state.institution_id != institution_id):
        raise NotFound("未找到该考场", code="session_not_found")


def create(
    history: Sequence[DomainEvent],
    *,
    session_id: str,
    institution_id: str,
    position: str,
    specialisation: str | None,
    starts_at: datetime,
    room: str,
    address: str,
    seats: int,
    duration_minutes: int,
    created_by: str,
    now: datetime,
    max_seats: int = 500,
) -> list[DomainEvent]:
    if history:
        raise Conflict("该考场已创建", code="session_exists")
    problems: list[dict[str, Any]] = []

    def problem(field_name: str, code: str, message: str) -> None:
        problems.append({"field": field_name, "code": code, "message": message})

    if starts_at.tzinfo is None:
        problem("starts_at", "timezone_required", "开考时间须带时区（如 2026-12-01T09:00:00+08:00）")
    elif starts_at <= now:
        problem("starts_at", "starts_in_past", f"开考时间 {local_text(starts_at)} 已过，须晚于当前时间")
    if not room.strip():
        problem("room", "required", "请填写考场（考室）名称")
    if not 1 <= seats <= max_seats:
        problem("seats", "invalid_seats", f"座位数应在 1 到 {max_seats} 之间")
    if position not in POSITIONS:
        problem("position", "unknown_position", f"岗位“{position}”不在可考岗位之列：{'、'.join(POSITIONS)}")
    elif specialisation is not None and position not in SPECIALISED:
        problem("specialisation", "not_specialised", f"{position}不分专业，请勿填写专业")
    if problems:
        raise DomainError(
            "考场信息不正确：" + "；".join(p["message"] for p in problems),
            code="invalid_session",
            details=problems,
        )
    return [
        ExamSessionCreated(
            session_id=session_id,
            institution_id=institution_id,
            position=position,
            specialisation=specialisation,
            starts_at=starts_at,
            room=room.strip(),
            address=address.strip(),
            seats=seats,
            duration_minutes=duration_minutes,
            created_by=created_by,
        )
    ]


def cancel(
    state: Session,
    *,
    institution_id: str | None,
    reason: str,
    cancelled_by: str,
    now: datetime,
) -> list[DomainEvent]:
    """Cancel a session that has not begun; every candidate's seat is taken back (they become schedulable)."""
    _owned(state, institution_id)
    if state.cancelled:
        raise Conflict("该考场已取消", code="session_cancelled")
    if now >= state.start:
        raise Conflict("考试已开始，不能取消考场", code="session_started")
    if not reason.strip():
        raise DomainError("请填写取消原因", code="reason_required")
    events: list[DomainEvent] = [
        ExamUnscheduled(
            candidate_id=h.candidate_id,
            session_id=state.session_id,
            applicant_id=h.applicant_id,
            id_number=h.id_number,
            reason=f"考场取消：{reason.strip()}",
        )
        for h in sorted(state.holders.values(), key=lambda h: h.seat)
    ]
    events.append(
        ExamSessionCancelled(
            session_id=state.session_id,
            institution_id=state.institution_id,
            reason=reason.strip(),
            cancelled_by=cancelled_by,
        )
    )
    return events


@dataclass(frozen=True)
class Schedulability:
    """What the read side knows of one requested candidate (None: no such candidate)."""

    candidate_id: str
    applicant: Applicant | None
    scheduled_elsewhere: datetime | None = None  # start of another future session holding the candidate
    finished: bool = False  # checked in, started or scored: no new seat
    blacklisted_until: date | None = None  # blacklisted on this session's date


def assign(
    state: Session,
    *,
    institution_id: str | None,
    requested: Sequence[Schedulability],
    now: datetime,
) -> list[DomainEvent]:
    """Seats for all requested candidates, or for none: every refusal is named per candidate."""
    _owned(state, institution_id)
    if state.cancelled:
        raise Conflict("该考场已取消，不能安排考生", code="session_cancelled")
    if now >= state.start:
        raise Conflict("考试已开始，不能再安排考生", code="session_started")
    if not requested:
        raise DomainError("请选择要安排的考生", code="no_candidates")
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    accepted: list[Applicant] = []

    def refuse(item: Schedulability, code: str, message: str) -> None:
        errors.append({"candidate_id": item.candidate_id, "code": code, "message": message})

    for item in requested:
        a = item.applicant
        if item.candidate_id in seen:
            refuse(item, "duplicate", "考生重复选择")
            continue
        seen.add(item.candidate_id)
        if a is None or a.institution_id != state.institution_id:
            refuse(item, "candidate_not_found", "未找到该考生（或不是本机构申请考试的考生）")
        elif item.candidate_id in state.holders:
            refuse(
                item,
                "already_in_session",
                f"{a.name}已在本考场（座位号 {state.holders[a.candidate_id].seat}）",
            )
        elif not state.serves(a.position, a.specialisation):
            wanted = state.position + (f"（{state.specialisation}）" if state.specialisation else "")
            refuse(item, "position_mismatch", f"{a.label}与考场岗位{wanted}不符")
        elif item.finished:
            refuse(item, "candidate_finished", f"{a.name}已参加本次考试，不能再安排考场")
        elif item.scheduled_elsewhere is not None:
            refuse(
                item,
                "already_scheduled",
                f"{a.name}已安排在 {local_text(item.scheduled_elsewhere)} 开考的考场，请先将其移出",
            )
        elif item.blacklisted_until is not None:
            refuse(
                item,
                "blacklisted",
                f"{a.name}已被列入考试黑名单（至 {item.blacklisted_until.isoformat()}），不能安排考试",
            )
        else:
            accepted.append(a)
    free = state.free_seats()
    if not errors and len(accepted) > len(free):
        raise Conflict(
            f"考场座位不足：剩余 {len(free)} 个座位，本次选择了 {len(accepted)} 名考生",
            code="session_full",
            details={"seats": state.seats, "free": len(free), "requested": len(accepted)},
        )
    if errors:
        names = "；".join(e["message"] for e in errors[:3])
        raise DomainError(
            f"{len(errors)} 名考生不能安排，本次未安排任何考生：{names}",
            code="schedule_refused",
            details=errors,
        )
    return [
        ExamScheduled(
            candidate_id=a.candidate_id,
            session_id=state.session_id,
            applicant_id=a.applicant_id,
            enterprise_id=a.enterprise_id,
            institution_id=a.institution_id,
            id_number=a.id_number,
            name=a.name,
            position=a.position,
            specialisation=a.specialisation,
            starts_at=state.start,
            room=state.room,
            address=state.address,
            seat=seat,
        )
        for a, seat in zip(accepted, free, strict=False)
    ]


def unschedule(
    state: Session,
    *,
    institution_id: str | None,
    candidate_id: str,
    reason: str,
    checked_in: bool,
    now: datetime,
) -> list[DomainEvent]:
    """Take a seat back before the candidate checked in (the seat is free again)."""
    _owned(state, institution_id)
    holder = state.holders.get(candidate_id)
    if holder is None or state.cancelled:
        raise NotFound("该考生不在本考场", code="not_in_session")
    if checked_in:
        raise Conflict("考生已通过入场核验，不能移出考场", code="candidate_checked_in")
    if now >= state.start:
        raise Conflict("考试已开始，不能移出考生", code="session_started")
    return [
        ExamUnscheduled(
            candidate_id=candidate_id,
            session_id=state.session_id,
            applicant_id=holder.applicant_id,
            id_number=holder.id_number,
            reason=reason.strip() or "培训机构调整考场",
        )
    ]
