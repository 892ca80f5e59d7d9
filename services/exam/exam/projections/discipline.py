"""The blacklist and violations read models (each entry its own stream, in order)."""

from __future__ import annotations

from events import PersonBlacklisted, PersonBlacklistLifted, ViolationRecorded
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from ..domain.timing import local_date

BLACKLIST = "blacklist"
VIOLATIONS = "violations"


def discipline(database: str) -> Projection:
    projection = Projection(name="discipline", collections=[BLACKLIST, VIOLATIONS], database=database)

    @projection.handlers.on(PersonBlacklisted)
    async def blacklisted(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, PersonBlacklisted)
        await projection.collection(session, BLACKLIST).replace_one(
            {"_id": e.blacklist_id},
            {
                "_id": e.blacklist_id,
                "id_number": e.id_number,
                "name": e.name,
                "reason": e.reason,
                "violation_id": e.violation_id,
                "since": local_date(received.envelope.time).isoformat(),
                "until": e.until.isoformat(),
                "blacklisted_by": e.blacklisted_by,
                "blacklisted_at": received.envelope.time,
                "lifted": False,
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(PersonBlacklistLifted)
    async def lifted(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, PersonBlacklistLifted)
        await projection.collection(session, BLACKLIST).update_one(
            {"_id": e.blacklist_id},
            {
                "$set": {
                    "lifted": True,
                    "lift_reason": e.reason,
                    "lifted_by": e.lifted_by,
                    "lifted_at": received.envelope.time,
                }
            },
            session=session,
        )

    @projection.handlers.on(ViolationRecorded)
    async def violation(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ViolationRecorded)
        await projection.collection(session, VIOLATIONS).replace_one(
            {"_id": e.violation_id},
            {
                "_id": e.violation_id,
                **e.model_dump(mode="json", exclude={"violation_id"}),
                "recorded_at": received.envelope.time,
            },
            upsert=True,
            session=session,
        )

    return projection
