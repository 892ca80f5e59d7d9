"""The exam context's write-side collections as its events say they must be (`make rebuild-check` builds them
again and compares; see `servicekit.projections.check_write_index`)."""

from __future__ import annotations

from events import ExamScheduled, ExamUnscheduled
from pymongo import IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from .sessions import CLAIMS


def schedule_claims(database: str) -> Projection:
    """Candidate id → the session holding its seat (one future seat per candidate)."""
    index = Projection(
        name="schedule-claims",
        collections=[CLAIMS],
        database=database,
        indexes={CLAIMS: [IndexModel("session_id")]},
    )

    @index.handlers.on(ExamScheduled)
    async def scheduled(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ExamScheduled)
        await index.collection(session).replace_one(
            {"_id": event.candidate_id},
            {"_id": event.candidate_id, "session_id": event.session_id, "starts_at": event.starts_at},
            upsert=True,
            session=session,
        )

    @index.handlers.on(ExamUnscheduled)
    async def unscheduled(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ExamUnscheduled)
        await index.collection(session).delete_one(
            {"_id": event.candidate_id, "session_id": event.session_id}, session=session
        )

    return index
