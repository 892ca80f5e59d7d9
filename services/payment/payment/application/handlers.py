"""Payment use cases. An applicant may be in one open order only: a claim per applicant, written in the
same transaction as the order's events, makes two concurrent orders for one applicant impossible."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError
from servicekit.commands import execute
from servicekit.errors import Conflict, DomainError
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, in_transaction, is_duplicate_key

from ..domain import order as domain
from ..projections.read_models import QUALIFIED

CLAIMS = "applicant_claims"  # write side: applicant id -> the open or paid order holding it
COUNTERS = "counters"


def stream_id(order_id: str) -> str:
    return f"order-{order_id}"


async def next_order_number(store: EventStore) -> str:
    """Human-readable and unique: DD<yyyymmdd><6-digit daily sequence>."""
    day = datetime.now(UTC).strftime("%Y%m%d")
    doc = await store.db[COUNTERS].find_one_and_update(
        {"_id": f"order-{day}"}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert doc is not None
    return f"DD{day}{int(doc['seq']):06d}"


async def create_order(
    store: EventStore,
    *,
    enterprise_id: str,
    institution_id: str,
    applicant_ids: Sequence[str],
    fees: Mapping[str, int],
) -> tuple[str, str]:
    if len(set(applicant_ids)) != len(applicant_ids):
        raise DomainError("学员重复选择", code="duplicate_applicants")
    docs = {d["_id"]: d async for d in store.db[QUALIFIED].find({"_id": {"$in": list(applicant_ids)}})}
    missing = [a for a in applicant_ids if a not in docs or docs[a].get("enterprise_id") != enterprise_id]
    if missing:
        raise DomainError(
            "以下学员尚未通过资格审核（或不属于本企业），不能生成订单",
            code="applicants_not_qualified",
            details={"applicant_ids": missing},
        )
    applicants = [
        domain.QualifiedApplicant(
            applicant_id=a,
            enterprise_id=docs[a]["enterprise_id"],
            institution_id=docs[a]["institution_id"],
            position=docs[a]["position"],
            training_mode=docs[a]["training_mode"],
            specialisation=docs[a].get("specialisation"),
            continuing_education=bool(docs[a].get("continuing_education")),
        )
        for a in applicant_ids
    ]
    order_id = uuid.uuid4().hex
    order_number = await next_order_number(store)

    async def work(session: Session) -> None:
        try:
            await store.db[CLAIMS].insert_many(
                [{"_id": a, "order_id": order_id} for a in applicant_ids], ordered=True, session=session
            )
        except BulkWriteError as exc:
            if not is_duplicate_key(exc):
                raise
            raise Conflict(
                "所选学员已在其他未取消的订单中，不能重复下单", code="applicant_in_open_order"
            ) from exc
        await execute(
            store,
            stream_id(order_id),
            lambda h: domain.create(
                h,
                order_id=order_id,
                order_number=order_number,
                enterprise_id=enterprise_id,
                institution_id=institution_id,
                applicants=applicants,
                fees=fees,
            ),
            stream_type="order",
            session=session,
        )

    await in_transaction(store.client, work)
    store.notify()
    return order_id, order_number


async def confirm_payment(
    store: EventStore, order_id: str, *, institution_id: str, confirmed_by: str
) -> None:
    await execute(
        store,
        stream_id(order_id),
        lambda h: domain.confirm(h, institution_id=institution_id, confirmed_by=confirmed_by),
        stream_type="order",
    )


async def cancel_order(store: EventStore, order_id: str, *, enterprise_id: str, reason: str = "") -> None:
    async def work(session: Session) -> None:
        stored = await execute(
            store,
            stream_id(order_id),
            lambda h: domain.cancel(h, enterprise_id=enterprise_id, reason=reason),
            stream_type="order",
            session=session,
        )
        await store.db[CLAIMS].delete_many({"order_id": order_id}, session=session)
        assert stored

    await in_transaction(store.client, work)
    store.notify()


async def load(store: EventStore, order_id: str) -> domain.Order:
    history, _ = await store.load_events(stream_id(order_id))
    return domain.Order.from_history(history)
