"""Read models of the exam context: candidates (from enrollment's ExamApplied) and their results."""

from __future__ import annotations

from events import ExamApplied, ExamFailed, ExamPassed
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

CANDIDATES = "candidates"


def candidates(database: str) -> Projection:
    projection = Projection(name="candidates", collections=[CANDIDATES], database=database)

    # ExamApplied (enrollment.events) and the results (exam.events) come from different topics, so their
    # order is not guaranteed, neither live nor in a replay. Each handler reads, merges and writes back, and
    # the status is derived from the times: a result counts if it is newer than the latest application.
    async def merge(session: Session, applicant_id: str, **fields: object) -> None:
        doc = await projection.collection(session).find_one({"_id": applicant_id}, session=session) or {
            "_id": applicant_id
        }
        doc.update(fields)
        applied_at, scored_at = doc.get("applied_at"), doc.get("scored_at")
        doc.setdefault("result", None)
        scored_last = scored_at is not None and (applied_at is None or scored_at >= applied_at)
        doc["status"] = doc["result"] if scored_last else "schedulable"
        await projection.collection(session).replace_one(
            {"_id": applicant_id}, doc, upsert=True, session=session
        )

    @projection.handlers.on(ExamApplied)
    async def applied(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamApplied)
        await merge(
            session,
            e.applicant_id,
            **e.model_dump(mode="json", exclude={"applicant_id"}),
            applied_at=received.envelope.time,
        )

    @projection.handlers.on(ExamPassed, ExamFailed)
    async def scored(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamPassed | ExamFailed)
        await merge(
            session,
            e.applicant_id,
            result="passed" if isinstance(e, ExamPassed) else "failed",
            score=e.score,
            attempt_id=e.attempt_id,
            scored_at=received.envelope.time,
        )

    return projection
