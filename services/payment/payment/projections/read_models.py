"""Read models of the payment context: qualified applicants (from enrollment) and orders."""

from __future__ import annotations

from events import ApplicantQualified, ApplicantRejected, OrderCancelled, OrderCreated, OrderPaid
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

QUALIFIED = "qualified_applicants"
ORDERS = "orders"


def qualified_applicants(database: str) -> Projection:
    projection = Projection(name="qualified-applicants", collections=[QUALIFIED], database=database)

    @projection.handlers.on(ApplicantQualified)
    async def qualified(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ApplicantQualified)
        await projection.collection(session).replace_one(
            {"_id": e.applicant_id},
            {
                "_id": e.applicant_id,
                "enterprise_id": e.enterprise_id,
                "institution_id": e.institution_id,
                "name": e.name,
                "position": e.position,
                "specialisation": e.specialisation,
                "training_mode": e.training_mode,
                "continuing_education": e.continuing_education,
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(ApplicantRejected)
    async def rejected(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, ApplicantRejected)
        await projection.collection(session).delete_one({"_id": received.event.applicant_id}, session=session)

    return projection


def orders(database: str) -> Projection:
    projection = Projection(name="orders", collections=[ORDERS], database=database)

    @projection.handlers.on(OrderCreated)
    async def created(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, OrderCreated)
        counts: dict[str, int] = {}
        for line in e.lines:
            counts[line.training_mode] = counts.get(line.training_mode, 0) + 1
        await projection.collection(session).replace_one(
            {"_id": e.order_id},
            {
                "_id": e.order_id,
                "order_number": e.order_number,
                "enterprise_id": e.enterprise_id,
                "institution_id": e.institution_id,
                "lines": [x.model_dump(mode="json") for x in e.lines],
                "count_by_mode": counts,
                "continuing_education": e.continuing_education,
                "amount_fen": e.amount_fen,
                "status": "unpaid",
                "created_at": received.envelope.time,
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(OrderPaid)
    async def paid(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, OrderPaid)
        await projection.collection(session).update_one(
            {"_id": received.event.order_id},
            {"$set": {"status": "paid", "paid_at": received.envelope.time}},
            session=session,
        )

    @projection.handlers.on(OrderCancelled)
    async def cancelled(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, OrderCancelled)
        await projection.collection(session).update_one(
            {"_id": received.event.order_id},
            {"$set": {"status": "cancelled", "cancelled_at": received.envelope.time}},
            session=session,
        )

    return projection
