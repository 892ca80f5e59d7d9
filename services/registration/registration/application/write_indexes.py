"""The registration context's write-side collections, as its events say they must be (see
`servicekit.projections.check_write_index`): `rebuild --check` builds them again and compares."""

from __future__ import annotations

from events import EnterpriseRegistered
from pymongo import IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from .handlers import CLAIMS


def credit_code_claims(database: str) -> Projection:
    """One claim per credit code: the enterprise that registered with it (one registration per enterprise)."""
    index = Projection(
        name="credit-code-claims",
        collections=[CLAIMS],
        database=database,
        indexes={CLAIMS: [IndexModel("enterprise_id")]},
    )

    @index.handlers.on(EnterpriseRegistered)
    async def registered(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, EnterpriseRegistered)
        await index.collection(session).update_one(
            {"_id": event.credit_code},
            {"$set": {"enterprise_id": event.enterprise_id}},
            upsert=True,
            session=session,
        )

    return index
