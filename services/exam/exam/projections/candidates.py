"""The candidates read model: one document per ExamApplied (a retake is a new candidate), with its seat, its
check-in, its attempt and its result.

ExamApplied (enrollment.events), the sessions' seats and the candidate's own events come from different
streams, so they may arrive in any order, live or in a rebuild. Each handler merges its own fields into the
document and the status is derived from the fields, never from the arrival order: seats are kept per
session (`schedules.<session id>`), each session's events being in order among themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from events import (
    CandidateVerified,
    CheckInFailed,
    ExamApplied,
    ExamFailed,
    ExamPassed,
    ExamScheduled,
    ExamUnscheduled,
    FaceCheckRequested,
)
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Document, Session
from servicekit.projections import Projection

from exam.domain.candidate import is_live
from exam.domain.events import AnswersSaved, ExamStarted, PaperSubmitted

CANDIDATES = "candidates"

STATUS_LABELS = {
    "schedulable": "待安排考场",
    "scheduled": "已安排考场",
    "verified": "已通过入场核验",
    "in_exam": "考试中",
    "passed": "合格",
    "failed": "不合格",
}
APPLICANT_FIELDS = (
    "applicant_id",
    "enterprise_id",
    "institution_id",
    "id_number",
    "name",
    "gender",
    "position",
    "specialisation",
    "head_photo_bucket",
    "head_photo_key",
    "training_mode",
    "retake",
)


def derive(doc: Document) -> None:
    """The current seat and the status, from the fields alone."""
    active = [s for s in (doc.get("schedules") or {}).values() if s.get("active")]
    active.sort(key=lambda s: (s["starts_at"], s["session_id"]))
    doc["session"] = {k: v for k, v in active[-1].items() if k != "active"} if active else None
    doc["session_id"] = active[-1]["session_id"] if active else None
    if doc.get("result"):
        status = str(doc["result"])
    elif doc.get("attempt_id"):
        status = "in_exam"
    elif (doc.get("checkin") or {}).get("verified"):
        status = "verified"
    elif active:
        status = "scheduled"
    else:
        status = "schedulable"
    doc["status"] = status
    doc["status_label"] = STATUS_LABELS[status]


def candidates(database: str) -> Projection:
    projection = Projection(name="candidates", collections=[CANDIDATES], database=database)

    async def merge(session: Session, candidate_id: str, change: Callable[[Document], None]) -> None:
        collection = projection.collection(session)
        doc = await collection.find_one({"_id": candidate_id}, session=session) or {"_id": candidate_id}
        change(doc)
        derive(doc)
        await collection.replace_one({"_id": candidate_id}, doc, upsert=True, session=session)

    def checkin(doc: Document) -> dict[str, Any]:
        state: dict[str, Any] = doc.setdefault(
            "checkin",
            {"checks": 0, "failures": 0, "pending_check_id": None, "verified": False, "last_reasons": []},
        )
        return state

    @projection.handlers.on(ExamApplied)
    async def applied(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamApplied)
        values = e.model_dump(mode="json", include=set(APPLICANT_FIELDS))

        def change(doc: Document) -> None:
            doc.update(values, applied_at=received.envelope.time)

        await merge(session, received.envelope.id, change)

    @projection.handlers.on(ExamScheduled, ExamUnscheduled)
    async def seat(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamScheduled | ExamUnscheduled)

        def change(doc: Document) -> None:
            schedules = doc.setdefault("schedules", {})
            if isinstance(e, ExamScheduled):
                for name in (
                    "applicant_id",
                    "enterprise_id",
                    "institution_id",
                    "id_number",
                    "name",
                    "position",
                ):
                    doc.setdefault(name, getattr(e, name))
                schedules[e.session_id] = {
                    "session_id": e.session_id,
                    "seat": e.seat,
                    "starts_at": e.starts_at,
                    "room": e.room,
                    "address": e.address,
                    "scheduled_at": received.envelope.time,
                    "active": True,
                }
            elif e.session_id in schedules:
                schedules[e.session_id].update(active=False, unscheduled_reason=e.reason)
            else:  # the seat's own event comes later (different partitions): remember it was taken back
                schedules[e.session_id] = {
                    "session_id": e.session_id,
                    "active": False,
                    "unscheduled_reason": e.reason,
                }

        await merge(session, e.candidate_id, change)

    @projection.handlers.on(FaceCheckRequested, CheckInFailed, CandidateVerified)
    async def checked(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        at: datetime = received.envelope.time
        if isinstance(e, FaceCheckRequested) and is_live(e):  # an in-exam check (projections.live)
            return

        def change(doc: Document) -> None:
            state = checkin(doc)
            if isinstance(e, FaceCheckRequested):
                state.update(checks=state["checks"] + 1, pending_check_id=e.check_id, last_requested_at=at)
            elif isinstance(e, CheckInFailed):
                state.update(
                    failures=state["failures"] + 1,
                    attempts_left=e.attempts_left,
                    last_reasons=list(e.reasons),
                    last_distance=e.distance,
                    last_failed_at=at,
                )
                if state.get("pending_check_id") == e.check_id:
                    state["pending_check_id"] = None
            elif isinstance(e, CandidateVerified):
                state.update(
                    verified=True,
                    verified_at=at,
                    override=e.override,
                    override_reason=e.reason,
                    proctor_id=e.proctor_id,
                    distance=e.distance,
                    verified_session_id=e.session_id,
                )
                if e.check_id is None or state.get("pending_check_id") == e.check_id:
                    state["pending_check_id"] = None

        assert isinstance(e, FaceCheckRequested | CheckInFailed | CandidateVerified)
        await merge(session, e.candidate_id, change)

    @projection.handlers.on(ExamStarted, AnswersSaved, PaperSubmitted)
    async def attempt(received: ReceivedEvent, session: Session) -> None:
        # Autosaves are no events (AnswersSaved: older attempts only); the views add the running attempt's
        # progress from its answer sheet, and PaperSubmitted brings the final numbers here.
        e = received.event
        assert isinstance(e, ExamStarted | AnswersSaved | PaperSubmitted)

        def change(doc: Document) -> None:
            if isinstance(e, ExamStarted):
                doc.update(
                    attempt_id=e.attempt_id,
                    started_at=e.started_at,
                    deadline=e.deadline,
                    earliest_submission=e.earliest_submission,
                    question_count=len(e.questions),
                )
            else:
                doc.update(answered_count=sum(1 for v in e.answers.values() if v), last_saved_at=e.saved_at)

        await merge(session, e.candidate_id, change)

    @projection.handlers.on(ExamPassed, ExamFailed)
    async def scored(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamPassed | ExamFailed)
        if e.candidate_id is None:  # a result recorded by hand before the timed exam existed
            return

        def change(doc: Document) -> None:
            doc.update(
                result="passed" if isinstance(e, ExamPassed) else "failed",
                score=e.score,
                pass_mark=e.pass_mark,
                full_marks=e.full_marks,
                attempt_id=e.attempt_id,
                submitted_at=e.submitted_at,
                automatic=e.automatic,
            )
            if e.answers:  # older results carried the answers (now PaperSubmitted does)
                doc.update(answered_count=sum(1 for v in e.answers.values() if v))

        await merge(session, e.candidate_id, change)

    return projection
