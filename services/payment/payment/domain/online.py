"""Online payment with a payment provider: the decisions, free of I/O.

Starting a payment records `OnlinePaymentStarted` (the provider's payment id); the provider's callback
settles it with `OrderPaid(method="online", provider_reference=<payment id>)`. A callback is idempotent by
payment id: once the order is paid by that payment, the same callback decides nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from events import DomainEvent, OrderPaid
from servicekit.errors import Conflict, DomainError, NotFound, Unauthorized

from payment.domain.events import OnlinePaymentStarted

from .order import STATUS_LABELS, Order, Status

SUCCESS = "SUCCESS"  # the provider's status of a paid payment


@dataclass(frozen=True)
class ProviderPayment:
    """What a provider answers when a payment is created: its id and where to send the payer."""

    payment_id: str
    redirect_url: str


@dataclass(frozen=True)
class CallbackNotice:
    """A provider's verified (signature checked) asynchronous notification."""

    payment_id: str
    order_number: str
    amount_fen: int
    status: str
    paid_at: datetime


class InvalidSignature(Unauthorized):
    code = "invalid_signature"

    def __init__(self, reason: str = "") -> None:
        super().__init__("支付回调签名校验失败" + (f"：{reason}" if reason else ""))


class AmountMismatch(DomainError):
    code = "amount_mismatch"


class Outcome(StrEnum):
    PAID = "paid"  # the order is now paid by this payment
    DUPLICATE = "duplicate"  # already paid by this very payment: nothing to do
    NOT_SUCCESS = "not_success"  # the provider reports no success (closed, failed): nothing to do
    ORDER_CLOSED = "order_closed"  # paid otherwise or cancelled meanwhile: nothing recorded, needs a refund


@dataclass
class OnlineState:
    order: Order
    started: dict[str, int]  # payment id -> amount (fen) at start
    paid_reference: str | None


def state_of(history: Sequence[DomainEvent]) -> OnlineState:
    started: dict[str, int] = {}
    paid_reference: str | None = None
    for event in history:
        if isinstance(event, OnlinePaymentStarted):
            started[event.payment_id] = event.amount_fen
        elif isinstance(event, OrderPaid):
            paid_reference = event.provider_reference
    return OnlineState(Order.from_history(history), started, paid_reference)


def _order_of(history: Sequence[DomainEvent], enterprise_id: str) -> Order:
    order = Order.from_history(history)
    if order.status is None or order.enterprise_id != enterprise_id:
        raise NotFound("未找到该订单", code="order_not_found")
    return order


def check_payable(history: Sequence[DomainEvent], *, enterprise_id: str) -> Order:
    """The order exists, belongs to the enterprise and is unpaid (else a reason)."""
    order = _order_of(history, enterprise_id)
    if order.status is not Status.UNPAID:
        assert order.status is not None
        raise Conflict(
            f"订单当前状态为“{STATUS_LABELS[order.status]}”，只有待缴费的订单可以在线支付",
            code="invalid_order_state",
        )
    if order.amount_fen <= 0:
        raise DomainError("订单金额为零，无需在线支付", code="nothing_to_pay")
    return order


def start(
    history: Sequence[DomainEvent], *, enterprise_id: str, provider: str, payment_id: str
) -> list[DomainEvent]:
    order = check_payable(history, enterprise_id=enterprise_id)
    return [
        OnlinePaymentStarted(
            order_id=order.order_id,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            provider=provider,
            payment_id=payment_id,
            amount_fen=order.amount_fen,
        )
    ]


def classify(history: Sequence[DomainEvent], notice: CallbackNotice) -> Outcome:
    """What a verified callback means for this order; raises when it must not be accepted."""
    state = state_of(history)
    order = state.order
    if order.status is None or notice.payment_id not in state.started:
        raise NotFound("未找到该支付单对应的订单", code="payment_not_found")
    if state.paid_reference == notice.payment_id:
        return Outcome.DUPLICATE
    if notice.status != SUCCESS:
        return Outcome.NOT_SUCCESS
    if notice.order_number != order.order_number:
        raise DomainError("支付回调中的订单号与订单不符", code="order_mismatch")
    if notice.amount_fen != order.amount_fen or notice.amount_fen != state.started[notice.payment_id]:
        raise AmountMismatch(
            f"支付金额 {notice.amount_fen / 100:.2f} 元与订单金额 {order.amount_fen / 100:.2f} 元不符",
        )
    if order.status is not Status.UNPAID:
        return Outcome.ORDER_CLOSED
    return Outcome.PAID


def settle(history: Sequence[DomainEvent], notice: CallbackNotice, *, provider: str) -> list[DomainEvent]:
    """A verified callback: `OrderPaid` once for a successful payment of an unpaid order, else nothing."""
    if classify(history, notice) is not Outcome.PAID:
        return []
    order = Order.from_history(history)
    return [
        OrderPaid(
            order_id=order.order_id,
            order_number=order.order_number,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            applicant_ids=order.applicant_ids,
            amount_fen=order.amount_fen,
            confirmed_by=provider,
            method="online",
            provider_reference=notice.payment_id,
        )
    ]
