"""The sessions read model: one document per exam session with its seating (one stream, in order)."""

from __future__ import annotations

from events import ExamScheduled, ExamSessionCancelled, ExamSessionCreated, ExamUnscheduled
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

SESSIONS = "exam_sessions"


def sessions(database: str) -> Projection:
    projection = Projection(name="sessions", collections=[SESSIONS], database=database)

    @projection.handlers.on(ExamSessionCreated)
    async def created(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamSessionCreated)
        await projection.collection(session).replace_one(
            {"_id": e.session_id},
            {
                "_id": e.session_id,
                **e.model_dump(mode="python", exclude={"session_id"}),
                "status": "scheduled",
                "seating": [],
                "seats_taken": 0,
                "created_at": received.envelope.time,
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(ExamScheduled, ExamUnscheduled)
    async def seat(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamScheduled | ExamUnscheduled)
        collection = projection.collection(session)
        doc = await collection.find_one({"_id": e.session_id}, session=session)
        if doc is None:
            return
        seating = [s for s in doc["seating"] if s["candidate_id"] != e.candidate_id]
        if isinstance(e, ExamScheduled):
            seating.append(
                {
                    "seat": e.seat,
                    "candidate_id": e.candidate_id,
                    "applicant_id": e.applicant_id,
                    "enterprise_id": e.enterprise_id,
                    "name": e.name,
                    "id_number": e.id_number,
                }
            )
        seating.sort(key=lambda s: s["seat"])
        await collection.update_one(
            {"_id": e.session_id},
            {"$set": {"seating": seating, "seats_taken": len(seating)}},
            session=session,
        )

    @projection.handlers.on(ExamSessionCancelled)
    async def cancelled(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamSessionCancelled)
        await projection.collection(session).update_one(
            {"_id": e.session_id},
            {
                "$set": {
                    "status": "cancelled",
                    "cancel_reason": e.reason,
                    "cancelled_by": e.cancelled_by,
                    "cancelled_at": received.envelope.time,
                }
            },
            session=session,
        )

    return projection
