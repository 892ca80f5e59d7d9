"""The attempts read model: one document per started exam (status, deadline, score); the automatic
submission sweeper looks here for attempts whose time is up. One candidate stream, in order.

Autosaves are no events: while the attempt runs, its answers and last save are in its answer sheet
(`application.answers`, collection `attempt_answers`); here `answered_count` and `last_saved_at` come with
the submission (PaperSubmitted), or from AnswersSaved in streams of older attempts."""

from __future__ import annotations

from events import ExamFailed, ExamPassed
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from exam.domain.events import AnswersSaved, ExamStarted, PaperSubmitted

ATTEMPTS = "exam_attempts"


def attempts(database: str) -> Projection:
    projection = Projection(name="attempts", collections=[ATTEMPTS], database=database)

    @projection.handlers.on(ExamStarted)
    async def started(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamStarted)
        await projection.collection(session).update_one(
            {"_id": e.attempt_id},
            {
                "$set": {
                    "candidate_id": e.candidate_id,
                    "session_id": e.session_id,
                    "id_number": e.id_number,
                    "bank_id": e.bank_id,
                    "question_count": len(e.questions),
                    "started_at": e.started_at,
                    "deadline": e.deadline,
                    "earliest_submission": e.earliest_submission,
                },
                "$setOnInsert": {"status": "in_progress", "answered_count": 0},
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(AnswersSaved)
    async def saved(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, AnswersSaved)
        await projection.collection(session).update_one(
            {"_id": e.attempt_id},
            {
                "$set": {
                    "answered_count": sum(1 for v in e.answers.values() if v),
                    "last_saved_at": e.saved_at,
                }
            },
            session=session,
        )

    @projection.handlers.on(PaperSubmitted)
    async def submitted(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, PaperSubmitted)
        await projection.collection(session).update_one(
            {"_id": e.attempt_id},
            {
                "$set": {
                    "answered_count": sum(1 for v in e.answers.values() if v),
                    "last_saved_at": e.saved_at,
                    "saves": e.saves,
                }
            },
            session=session,
        )

    @projection.handlers.on(ExamPassed, ExamFailed)
    async def scored(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamPassed | ExamFailed)
        if e.candidate_id is None:
            return
        values = {
            "status": "submitted",
            "score": e.score,
            "pass_mark": e.pass_mark,
            "full_marks": e.full_marks,
            "passed": isinstance(e, ExamPassed),
            "automatic": e.automatic,
            "submitted_at": e.submitted_at,
        }
        if e.answers:  # older results carried the answers (now PaperSubmitted does)
            values["answered_count"] = sum(1 for v in e.answers.values() if v)
        await projection.collection(session).update_one(
            {"_id": e.attempt_id}, {"$set": values}, session=session
        )

    return projection
