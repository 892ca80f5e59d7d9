"""Payment use cases. An applicant may be in one open order only: a claim per applicant, written in the
same transaction as the order's events, makes two concurrent orders for one applicant impossible."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from events import DomainEvent
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError
from servicekit import documents, uploads
from servicekit.commands import execute
from servicekit.errors import Conflict, DomainError, NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, in_transaction, is_duplicate_key
from servicekit.objectstore import ObjectStore

from ..domain import order as domain
from ..projections.offers import in_training, load_enterprise, load_offer
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
) -> tuple[str, str]:
    if len(set(applicant_ids)) != len(applicant_ids):
        raise DomainError("学员重复选择", code="duplicate_applicants")
    docs = {d["_id"]: d async for d in store.db[QUALIFIED].find({"_id": {"$in": list(applicant_ids)}})}
    missing = [a for a in applicant_ids if a not in docs or docs[a].get("enterprise_id") != enterprise_id]
    if missing:
        raise DomainError(
            # payment learns of a qualification from enrollment's ApplicantQualified, a moment after it
            "尚未获知以下学员通过资格审核：刚审核通过的正在处理中，请稍后再试；"
            "未通过资格审核或不属于本企业的学员不能生成订单",
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
    offer = await load_offer(store.db, institution_id)
    # decided once before any number or claim is taken, so that a refusal costs nothing
    domain.create(
        [],
        order_id="-",
        order_number="-",
        enterprise_id=enterprise_id,
        institution_id=institution_id,
        applicants=applicants,
        offer=offer,
    )
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
                offer=offer,
            ),
            stream_type="order",
            session=session,
            loaded=([], 0),  # a new order id: nothing to read
        )

    await in_transaction(store.client, work)
    store.notify()
    return order_id, order_number


MAX_VOUCHER_BYTES = 10 * 1024 * 1024
MAX_VOUCHER_PIXELS = documents.DEFAULT_MAX_PIXELS  # 40 million, as registration's documents
VOUCHER_LABEL = "缴费凭证"


def check_voucher(data: bytes) -> str:
    """The voucher's content type, judged from its bytes: a JPEG or PNG that decodes completely and has at
    most `MAX_VOUCHER_PIXELS` pixels, or a structurally complete PDF, at most 10 MB. CPU work: call it in a
    thread."""
    if not data:
        raise DomainError("请上传缴费凭证文件", code="voucher_file_required")
    if len(data) > MAX_VOUCHER_BYTES:
        raise DomainError("缴费凭证文件不能超过 10 MB", code="voucher_too_large", status=413)
    if documents.sniff(data) not in documents.IMAGES_AND_PDF:
        raise DomainError(
            f"缴费凭证须为 JPEG、PNG 图片或 PDF 文件，实际是 {documents.sniff(data)}",
            code="voucher_type_not_allowed",
        )
    checked = documents.check_document(
        data, label=VOUCHER_LABEL, max_bytes=MAX_VOUCHER_BYTES, max_pixels=MAX_VOUCHER_PIXELS
    )
    return checked.content_type


async def upload_voucher(
    store: EventStore,
    objects: ObjectStore,
    order_id: str,
    *,
    enterprise_id: str,
    form: domain.VoucherForm,
    data: bytes,
) -> str:
    content_type = await asyncio.to_thread(check_voucher, data)  # before anything is read or stored
    history, version = await store.load_events(stream_id(order_id))  # the order's stream, read once
    order = domain.Order.from_history(history)
    offer = await load_offer(store.db, order.institution_id) if order.status is not None else None
    payment_methods = offer.payment_methods if offer is not None else ("offline",)
    enterprise = await load_enterprise(store.db, enterprise_id)
    voucher_id = uuid.uuid4().hex
    object_key = f"vouchers/{order_id}/{voucher_id}"

    def decide(history: list[DomainEvent]) -> list[DomainEvent]:
        return domain.upload_voucher(
            history,
            enterprise_id=enterprise_id,
            enterprise=enterprise,
            payment_methods=payment_methods,
            form=form,
            voucher_id=voucher_id,
            object_key=object_key,
            content_type=content_type,
        )

    decide(history)  # refuse before storing the file
    await objects.put(object_key, data, content_type)
    try:
        await execute(store, stream_id(order_id), decide, stream_type="order", loaded=(history, version))
    except BaseException:  # only this upload's object, unless the event naming it was stored after all
        await uploads.discard_unrecorded(store, objects, stream_id(order_id), [object_key])
        raise
    return voucher_id


async def voucher_link(objects: ObjectStore, order: domain.Order) -> dict[str, str]:
    voucher = order.voucher
    if voucher is None:
        raise NotFound("该订单尚未上传缴费凭证", code="no_voucher")
    url = await objects.presigned_get(voucher.object_key, expires=timedelta(minutes=5))
    return {"url": url, "content_type": voucher.content_type, "voucher_id": voucher.voucher_id}


async def reject_voucher(
    store: EventStore, order_id: str, *, institution_id: str, reason: str, rejected_by: str
) -> None:
    await execute(
        store,
        stream_id(order_id),
        lambda h: domain.reject_voucher(
            h, institution_id=institution_id, reason=reason, rejected_by=rejected_by
        ),
        stream_type="order",
    )


async def refund_order(
    store: EventStore, order_id: str, *, institution_id: str, reason: str, refunded_by: str
) -> None:
    history, version = await store.load_events(stream_id(order_id))  # the order's stream, read once
    order = domain.Order.from_history(history)
    started = await in_training(store.db, order.applicant_ids)

    async def work(session: Session) -> None:
        await execute(
            store,
            stream_id(order_id),
            lambda h: domain.refund(
                h, institution_id=institution_id, reason=reason, refunded_by=refunded_by, in_training=started
            ),
            stream_type="order",
            session=session,
            loaded=(history, version),
        )
        await store.db[CLAIMS].delete_many({"order_id": order_id}, session=session)

    await in_transaction(store.client, work)
    store.notify()


async def issue_invoice(
    store: EventStore, order_id: str, *, institution_id: str, invoice_number: str, issued_on: date
) -> None:
    await execute(
        store,
        stream_id(order_id),
        lambda h: domain.issue_invoice(
            h, institution_id=institution_id, invoice_number=invoice_number, issued_on=issued_on
        ),
        stream_type="order",
    )


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
