"""The payment context's write-side collections as its events say they must be (`make rebuild-check` builds
them again and compares; see `servicekit.projections.check_write_index`)."""

from __future__ import annotations

import re

from events import OrderCancelled, OrderCreated, OrderRefunded
from pymongo import IndexModel, ReplaceOne
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Document, Session
from servicekit.projections import Projection

from ..domain.events import OnlinePaymentStarted
from .handlers import CLAIMS, COUNTERS
from .online import ONLINE_PAYMENTS

ORDER_NUMBER = re.compile(r"^DD(\d{8})(\d{6,})$")  # DD<yyyymmdd><daily sequence>, see `next_order_number`


def applicant_claims(database: str) -> Projection:
    """Applicant id → the open or paid order holding it: claimed by OrderCreated (one claim per line),
    released by OrderCancelled and OrderRefunded (each in the same transaction as its event)."""
    index = Projection(
        name="applicant-claims",
        collections=[CLAIMS],
        database=database,
        indexes={CLAIMS: [IndexModel("order_id")]},
    )

    @index.handlers.on(OrderCreated)
    async def created(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OrderCreated)
        claims = [
            ReplaceOne(
                {"_id": line.applicant_id},
                {"_id": line.applicant_id, "order_id": event.order_id},
                upsert=True,
            )
            for line in event.lines
        ]
        if claims:
            await index.collection(session).bulk_write(claims, session=session)

    @index.handlers.on(OrderCancelled, OrderRefunded)
    async def released(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OrderCancelled | OrderRefunded)
        await index.collection(session).delete_many({"order_id": event.order_id}, session=session)

    return index


def online_payments(database: str) -> Projection:
    """A provider's payment id → its order (and provider), written with OnlinePaymentStarted."""
    index = Projection(name="online-payments", collections=[ONLINE_PAYMENTS], database=database)

    @index.handlers.on(OnlinePaymentStarted)
    async def started(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OnlinePaymentStarted)
        await index.collection(session).replace_one(
            {"_id": event.payment_id},
            {"_id": event.payment_id, "order_id": event.order_id, "provider": event.provider},
            upsert=True,
            session=session,
        )

    return index


def order_counters(database: str) -> Projection:
    """The daily order-number counters (`order-<yyyymmdd>`): at least the highest sequence an OrderCreated of
    that day holds. The number is taken before (outside) the order's transaction, so a creation that failed
    afterwards (e.g. an applicant already in another open order) leaves the counter ahead: allowed; behind
    (a number that would be handed out again) is not."""
    index = Projection(
        name="order-counters", collections=[COUNTERS], database=database, compare=counters_ahead
    )

    @index.handlers.on(OrderCreated)
    async def created(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OrderCreated)
        match = ORDER_NUMBER.match(event.order_number)
        if match is None:
            return  # not a number `next_order_number` gave (nothing to keep ahead of)
        await index.collection(session).update_one(
            {"_id": f"order-{match[1]}"}, {"$max": {"seq": int(match[2])}}, upsert=True, session=session
        )

    return index


def counters_ahead(live: dict[str, list[Document]], rebuilt: dict[str, list[Document]]) -> list[str]:
    """Problems: a counter the events need that is missing or behind them (ahead of them is fine)."""
    problems = []
    for name, docs in rebuilt.items():
        have = {d["_id"]: d for d in live.get(name, [])}
        missing = [d["_id"] for d in docs if d["_id"] not in have]
        behind = [
            f"{d['_id']}: seq {have[d['_id']].get('seq')!r} < {d['seq']!r}"
            for d in docs
            if d["_id"] in have and not int(have[d["_id"]].get("seq") or 0) >= int(d["seq"])
        ]
        if missing or behind:
            problems.append(
                f"{name}: missing {missing[:5]}, behind {behind[:5]} (numbers would be handed out again)"
            )
    return problems
