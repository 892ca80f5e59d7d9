"""Read models of the exam context: candidates (from enrollment's ExamApplied) and their results."""

from __future__ import annotations

from events import ExamApplied, ExamFailed, ExamPassed
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Collection, Session
from servicekit.projections import Projection

CANDIDATES = "candidates"


def candidates(database: str) -> Projection:
    projection = Projection(name="candidates", collections=[CANDIDATES])

    def table(session: Session) -> Collection:
        return session.client[database][CANDIDATES]

    @projection.handlers.on(ExamApplied)
    async def applied(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamApplied)
        await table(session).update_one(
            {"_id": e.applicant_id},
            {
                "$set": {
                    **e.model_dump(mode="json", exclude={"applicant_id"}),
                    "status": "schedulable",
                    "applied_at": received.envelope.time,
                }
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(ExamPassed, ExamFailed)
    async def scored(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamPassed | ExamFailed)
        await table(session).update_one(
            {"_id": e.applicant_id},
            {
                "$set": {
                    "status": "passed" if isinstance(e, ExamPassed) else "failed",
                    "score": e.score,
                    "attempt_id": e.attempt_id,
                    "scored_at": received.envelope.time,
                }
            },
            session=session,
        )

    return projection
