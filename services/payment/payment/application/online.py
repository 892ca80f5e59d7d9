"""Online payment use cases, against a `PaymentProvider` port.

`online_payments` (write side) maps a provider's payment id to its order; it is written in the same
transaction as the `OnlinePaymentStarted` event, so a callback always finds the order of a payment it knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from events import DomainEvent
from servicekit.commands import execute
from servicekit.errors import Conflict, NotFound
from servicekit.eventstore import EventStore
from servicekit.logging import get_logger
from servicekit.mongo import Session, in_transaction

from ..domain import online as domain
from ..domain.online import CallbackNotice, Outcome, ProviderPayment
from ..projections.offers import load_offer

log = get_logger(__name__)

ONLINE_PAYMENTS = "online_payments"  # write side: provider payment id -> order id
CALLBACK_PATH = "/api/payment/online/callback/{provider}"


class PaymentProvider(Protocol):
    """A payment provider: create a payment (redirect the payer), verify its signed notifications."""

    name: str

    async def create_payment(
        self, order_number: str, amount_fen: int, notify_url: str, return_url: str
    ) -> ProviderPayment: ...

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> CallbackNotice:
        """The parsed notification; raises `InvalidSignature` when the signature or timestamp is wrong."""
        ...


def stream_id(order_id: str) -> str:
    return f"order-{order_id}"  # the order streams of application/handlers.py


async def start_online_payment(
    store: EventStore,
    provider: PaymentProvider,
    order_id: str,
    enterprise_id: str,
    base_url: str,
    *,
    return_url: str = "/",
) -> ProviderPayment:
    """Create the provider's payment for an unpaid order of the enterprise and record it.

    `base_url` is where the provider reaches this service for its notifications (never a request header).
    """
    history, _ = await store.load_events(stream_id(order_id))
    order = domain.check_payable(history, enterprise_id=enterprise_id)
    offer = await load_offer(store.db, order.institution_id)
    if offer is None or "online" not in offer.payment_methods:
        raise Conflict("该培训机构不接受在线支付，请线下转账并上传缴费凭证", code="online_not_accepted")
    notify_url = base_url.rstrip("/") + CALLBACK_PATH.format(provider=provider.name)
    payment = await provider.create_payment(order.order_number, order.amount_fen, notify_url, return_url)

    async def work(session: Session) -> None:
        await execute(
            store,
            stream_id(order_id),
            lambda h: domain.start(
                h, enterprise_id=enterprise_id, provider=provider.name, payment_id=payment.payment_id
            ),
            stream_type="order",
            session=session,
        )
        await store.db[ONLINE_PAYMENTS].insert_one(
            {"_id": payment.payment_id, "order_id": order_id, "provider": provider.name}, session=session
        )

    await in_transaction(store.client, work)
    store.notify()
    log.info("payment.online.started", order_id=order_id, payment_id=payment.payment_id)
    return payment


async def order_of_payment(store: EventStore, payment_id: str) -> str | None:
    doc = await store.db[ONLINE_PAYMENTS].find_one({"_id": payment_id})
    return str(doc["order_id"]) if doc else None


async def handle_callback(
    store: EventStore, provider: PaymentProvider, body: bytes, headers: Mapping[str, str]
) -> Outcome:
    """A provider's notification: verified, then `OrderPaid` at most once per payment (idempotent)."""
    notice = provider.verify_callback(body, headers)
    order_id = await order_of_payment(store, notice.payment_id)
    if order_id is None:
        raise NotFound("未找到该支付单对应的订单", code="payment_not_found")
    outcome: list[Outcome] = []

    def decide(history: list[DomainEvent]) -> list[DomainEvent]:
        outcome.append(domain.classify(history, notice))
        return domain.settle(history, notice, provider=provider.name)

    await execute(store, stream_id(order_id), decide, stream_type="order")
    result = outcome[-1]
    if result is Outcome.ORDER_CLOSED:
        log.error(
            "payment.online.paid_closed_order",
            order_id=order_id,
            payment_id=notice.payment_id,
            note="the payer paid an order that is no longer unpaid: refund through the provider",
        )
    else:
        log.info("payment.online.callback", order_id=order_id, payment_id=notice.payment_id, outcome=result)
    return result
