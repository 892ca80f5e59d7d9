"""Read model `institutions`: one document per training institution with its offer in force.

    {_id: institution id, name, city, offers: [{position, specialisation, label, fee_online_fen,
     fee_offline_fen, modes}], features, exam_locations, payment_methods, demo,
     modes, fee_ranges: {online|offline: {min_fen, max_fen} | None}, positions, published_at, as_of}

Rebuildable and independent of the order of delivery: the latest `OfferPublished` of an institution wins, by
envelope time (then event id). The document is created empty with `as_of` = "" and every offer only lands
over an older one, so replaying the log in any order ends with the same documents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events import OfferPublished
from pymongo import ASCENDING, IndexModel, UpdateOne
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from ..domain.institution import offer_summary

INSTITUTIONS = "institutions"
NAME = "institutions"


def version(published_at: datetime, event_id: str) -> str:
    """A total order of publications that does not depend on the order of delivery (fixed width)."""
    return f"{published_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z|{event_id}"


def institution_document(event: OfferPublished, published_at: datetime) -> dict[str, Any]:
    """The read-model document of an offer (without `_id` and `as_of`)."""
    return {**offer_summary(event), "published_at": published_at}


def institutions(database: str) -> Projection:
    projection = Projection(
        name=NAME,
        collections=[INSTITUTIONS],
        database=database,
        indexes={INSTITUTIONS: [IndexModel([("city", ASCENDING)])]},  # the institutions' list by city
    )

    @projection.handlers.on(OfferPublished)
    async def published(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OfferPublished)
        as_of = version(received.envelope.time, received.envelope.id)
        document = {**institution_document(event, received.envelope.time), "as_of": as_of}
        await projection.collection(session).bulk_write(
            [
                UpdateOne({"_id": event.institution_id}, {"$setOnInsert": {"as_of": ""}}, upsert=True),
                UpdateOne({"_id": event.institution_id, "as_of": {"$lt": as_of}}, {"$set": document}),
            ],
            ordered=True,
            session=session,
        )

    return projection
