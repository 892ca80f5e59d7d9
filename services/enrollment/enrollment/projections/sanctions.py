"""Read model `institution_sanctions`: one document per sanction, for the institutions' search and comparison
(which institutions are suspended today). The commands and the sanctions' history read the stream itself.

    {_id: sanction id, institution_id, kind, reason, starts_on: "YYYY-MM-DD", ends_on: "YYYY-MM-DD" | None,
     recorded_at, lifted: bool, lift_reason?, lifted_at?}

Independent of the order of delivery: a lifting that arrives first leaves `lifted` set, and the recording only
sets its own fields.
"""

from __future__ import annotations

from events import InstitutionSanctioned, InstitutionSanctionLifted
from pymongo import ASCENDING, IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

SANCTIONS = "institution_sanctions"
NAME = "institution_sanctions"


def institution_sanctions(database: str) -> Projection:
    projection = Projection(
        name=NAME,
        collections=[SANCTIONS],
        database=database,
        indexes={SANCTIONS: [IndexModel([("kind", ASCENDING), ("ends_on", ASCENDING)])]},
    )

    @projection.handlers.on(InstitutionSanctioned)
    async def sanctioned(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, InstitutionSanctioned)
        await projection.collection(session).update_one(
            {"_id": e.sanction_id},
            {
                "$set": {
                    "institution_id": e.institution_id,
                    "kind": e.kind,
                    "reason": e.reason,
                    "starts_on": e.starts_on.isoformat(),
                    "ends_on": e.ends_on.isoformat() if e.ends_on else None,
                    "recorded_at": received.envelope.time,
                },
                "$setOnInsert": {"lifted": False},
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(InstitutionSanctionLifted)
    async def lifted(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, InstitutionSanctionLifted)
        await projection.collection(session).update_one(
            {"_id": e.sanction_id},
            {
                "$set": {
                    "institution_id": e.institution_id,
                    "lifted": True,
                    "lift_reason": e.reason,
                    "lifted_at": received.envelope.time,
                }
            },
            upsert=True,
            session=session,
        )

    return projection
