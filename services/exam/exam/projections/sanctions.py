"""Read model `institution_sanctions`: the administrator's sanctions against institutions, from enrollment's
InstitutionSanctioned / InstitutionSanctionLifted (one document per sanction), so that new exam sessions of a
suspended institution are refused.

    {_id: sanction id, institution_id, institution_name, kind, reason, starts_on, ends_on (YYYY-MM-DD | None),
     lifted: bool, lift_reason?}

Independent of the order of delivery: a lifting that arrives first leaves `lifted` set; the recording only
sets its own fields.
"""

from __future__ import annotations

from events import InstitutionSanctioned, InstitutionSanctionLifted
from pymongo import ASCENDING, IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

INSTITUTION_SANCTIONS = "institution_sanctions"


def institution_sanctions(database: str) -> Projection:
    projection = Projection(
        name="institution_sanctions",
        collections=[INSTITUTION_SANCTIONS],
        database=database,
        indexes={INSTITUTION_SANCTIONS: [IndexModel([("institution_id", ASCENDING)])]},
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
                    "institution_name": e.institution_name,
                    "kind": e.kind,
                    "reason": e.reason,
                    "starts_on": e.starts_on.isoformat(),
                    "ends_on": e.ends_on.isoformat() if e.ends_on else None,
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
            {"$set": {"institution_id": e.institution_id, "lifted": True, "lift_reason": e.reason}},
            upsert=True,
            session=session,
        )

    return projection
