"""What payment learns from other contexts: institutions' offers (fees, payment methods), approved
enterprises (name, credit code) and trainees placed in a training plan."""

from __future__ import annotations

from events import EnterpriseApproved, OfferPublished, TrainingPlanned
from events.enrollment import OfferLine
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Database, Document, Session
from servicekit.projections import Projection

from ..domain.order import Enterprise, Offer

OFFERS = "offers"
ENTERPRISES = "enterprises"
TRAININGS = "trainings"


def offers(database: str) -> Projection:
    """The latest offer per institution by envelope time (then event id): independent of delivery order."""
    # read by `_id` (the institution) only: no secondary index
    projection = Projection(name="offers", collections=[OFFERS], database=database, indexes={OFFERS: []})

    @projection.handlers.on(OfferPublished)
    async def published(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, OfferPublished)
        version = [received.envelope.time.strftime("%Y-%m-%dT%H:%M:%S.%f"), received.envelope.id]
        collection = projection.collection(session)
        current = await collection.find_one({"_id": e.institution_id}, session=session)
        if current is not None and current["version"] >= version:
            return
        await collection.replace_one(
            {"_id": e.institution_id},
            {
                "_id": e.institution_id,
                "name": e.name,
                "lines": [x.model_dump(mode="json") for x in e.offers],
                "payment_methods": list(e.payment_methods),
                "version": version,
            },
            upsert=True,
            session=session,
        )

    return projection


def enterprises(database: str) -> Projection:
    # read by `_id` only: no secondary index
    projection = Projection(
        name="enterprises", collections=[ENTERPRISES], database=database, indexes={ENTERPRISES: []}
    )

    @projection.handlers.on(EnterpriseApproved)
    async def approved(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnterpriseApproved)
        await projection.collection(session).replace_one(
            {"_id": e.enterprise_id},
            {"_id": e.enterprise_id, "name": e.name, "credit_code": e.credit_code},
            upsert=True,
            session=session,
        )

    return projection


def trainings(database: str) -> Projection:
    """Applicant → the training plans it was placed in (training started: no refund any more)."""
    # read by `_id` (the applicant) only: no secondary index
    projection = Projection(
        name="trainings", collections=[TRAININGS], database=database, indexes={TRAININGS: []}
    )

    @projection.handlers.on(TrainingPlanned)
    async def planned(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, TrainingPlanned)
        await projection.collection(session).update_one(
            {"_id": e.applicant_id},
            {"$addToSet": {"plan_ids": e.plan_id}, "$set": {"institution_id": e.institution_id}},
            upsert=True,
            session=session,
        )

    return projection


def offer_of(doc: Document | None) -> Offer | None:
    if doc is None:
        return None
    return Offer(
        institution_id=doc["_id"],
        lines=[OfferLine.model_validate(x) for x in doc["lines"]],
        payment_methods=tuple(doc.get("payment_methods", ["offline"])),
        name=doc.get("name", ""),
    )


async def load_offer(db: Database, institution_id: str) -> Offer | None:
    return offer_of(await db[OFFERS].find_one({"_id": institution_id}))


async def load_enterprise(db: Database, enterprise_id: str) -> Enterprise | None:
    doc = await db[ENTERPRISES].find_one({"_id": enterprise_id})
    if doc is None:
        return None
    return Enterprise(enterprise_id=doc["_id"], name=doc["name"], credit_code=doc["credit_code"])


async def in_training(db: Database, applicant_ids: list[str]) -> set[str]:
    return {d["_id"] async for d in db[TRAININGS].find({"_id": {"$in": applicant_ids}}, {"_id": 1})}
