"""Read models of the payment context: qualified applicants (from enrollment) and orders."""

from __future__ import annotations

from typing import Any

from events import (
    ApplicantQualified,
    ApplicantRejected,
    InvoiceIssued,
    OrderCancelled,
    OrderCreated,
    OrderPaid,
    OrderRefunded,
    VoucherRejected,
    VoucherUploaded,
)
from pymongo import ASCENDING, DESCENDING, IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from ..domain.order import count_by_mode

QUALIFIED = "qualified_applicants"
ORDERS = "orders"


def qualified_applicants(database: str) -> Projection:
    # read by `_id` only (orders, the report's names): no secondary index
    projection = Projection(
        name="qualified-applicants", collections=[QUALIFIED], database=database, indexes={QUALIFIED: []}
    )

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
    newest = ("created_at", DESCENDING)
    projection = Projection(
        name="orders",
        collections=[ORDERS],
        database=database,
        indexes={
            # the order list (newest first) and the report (by creation time): an enterprise's, an
            # institution's, or all of them (administrator, optionally by status)
            ORDERS: [
                IndexModel([("enterprise_id", ASCENDING), newest], name="enterprise_created"),
                IndexModel([("institution_id", ASCENDING), newest], name="institution_created"),
                IndexModel([("status", ASCENDING), newest], name="status_created"),
                IndexModel([newest], name="created"),
            ]
        },
    )

    async def update(session: Session, order_id: str, changes: dict[str, Any]) -> None:
        await projection.collection(session).update_one({"_id": order_id}, changes, session=session)

    @projection.handlers.on(OrderCreated)
    async def created(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, OrderCreated)
        await projection.collection(session).replace_one(
            {"_id": e.order_id},
            {
                "_id": e.order_id,
                "order_number": e.order_number,
                "enterprise_id": e.enterprise_id,
                "institution_id": e.institution_id,
                "lines": [x.model_dump(mode="json") for x in e.lines],
                "count_by_mode": count_by_mode(e.lines),
                "continuing_education": e.continuing_education,
                "amount_fen": e.amount_fen,
                "status": "unpaid",
                "created_at": received.envelope.time,
                "voucher": None,
                "voucher_state": "none",
                "voucher_history": [],
                "invoice": None,
                "refund": None,
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(VoucherUploaded)
    async def voucher_uploaded(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, VoucherUploaded)
        voucher = {
            "voucher_id": e.voucher_id,
            "payer_name": e.payer_name,
            "amount_fen": e.amount_fen,
            "paid_on": e.paid_on.isoformat(),
            "bank_serial": e.bank_serial,
            "note": e.note,
            "content_type": e.content_type,
            "invoice_request": e.invoice.model_dump(mode="json") if e.invoice else None,
            "uploaded_at": received.envelope.time,
            "state": "pending",
        }
        await update(
            session,
            e.order_id,
            {
                "$set": {"voucher": voucher, "voucher_state": "pending"},
                "$push": {
                    "voucher_history": {k: voucher[k] for k in ("voucher_id", "amount_fen", "uploaded_at")}
                },
            },
        )

    @projection.handlers.on(VoucherRejected)
    async def voucher_rejected(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, VoucherRejected)
        await projection.collection(session).update_one(
            {"_id": e.order_id, "voucher.voucher_id": e.voucher_id},
            {
                "$set": {
                    "voucher.state": "rejected",
                    "voucher.rejection_reason": e.reason,
                    "voucher_state": "rejected",
                    "voucher_history.$[v].rejection_reason": e.reason,
                }
            },
            array_filters=[{"v.voucher_id": e.voucher_id}],
            session=session,
        )

    @projection.handlers.on(OrderPaid)
    async def paid(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, OrderPaid)
        await update(
            session,
            e.order_id,
            {"$set": {"status": "paid", "paid_at": received.envelope.time, "method": e.method}},
        )
        if e.method == "offline":
            await projection.collection(session).update_one(
                {"_id": e.order_id, "voucher": {"$ne": None}},
                {"$set": {"voucher.state": "confirmed", "voucher_state": "confirmed"}},
                session=session,
            )

    @projection.handlers.on(OrderCancelled)
    async def cancelled(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, OrderCancelled)
        await update(
            session,
            received.event.order_id,
            {"$set": {"status": "cancelled", "cancelled_at": received.envelope.time}},
        )

    @projection.handlers.on(OrderRefunded)
    async def refunded(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, OrderRefunded)
        refund = {"reason": e.reason, "amount_fen": e.amount_fen, "refunded_at": received.envelope.time}
        await update(session, e.order_id, {"$set": {"status": "refunded", "refund": refund}})

    @projection.handlers.on(InvoiceIssued)
    async def invoiced(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, InvoiceIssued)
        invoice = {
            "invoice_number": e.invoice_number,
            "issued_on": e.issued_on.isoformat(),
            "invoice_type": e.invoice_type,
            "amount_fen": e.amount_fen,
        }
        await update(session, e.order_id, {"$set": {"invoice": invoice}})

    return projection
