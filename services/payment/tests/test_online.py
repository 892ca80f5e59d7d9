from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from events import DomainEvent, OrderCancelled, OrderCreated, OrderPaid
from events.payment import OrderLine
from payment.adapters.provider import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from payment.domain import online
from payment.domain.events import OnlinePaymentStarted
from payment.domain.online import AmountMismatch, CallbackNotice, InvalidSignature, Outcome
from servicekit.errors import Conflict, NotFound

SECRET = "s" * 40


def order_created(amount: int = 60000) -> OrderCreated:
    return OrderCreated(
        order_id="o1",
        order_number="DD1",
        enterprise_id="e1",
        institution_id="i1",
        lines=[OrderLine(applicant_id="a1", position="施工员", training_mode="online", fee_fen=amount)],
        amount_fen=amount,
    )


def started(payment_id: str = "p1") -> list[DomainEvent]:
    history: list[DomainEvent] = [order_created()]
    history += online.start(history, enterprise_id="e1", provider="sandbox", payment_id=payment_id)
    return history


def notice(payment_id: str = "p1", amount: int = 60000, status: str = "SUCCESS") -> CallbackNotice:
    return CallbackNotice(payment_id, "DD1", amount, status, datetime.now(UTC))


def body(**overrides: object) -> bytes:
    data = {"payment_id": "p1", "order_number": "DD1", "amount_fen": 60000, "status": "SUCCESS"}
    data |= {"paid_at": datetime.now(UTC).isoformat(), **overrides}
    return json.dumps(data).encode()


def headers(raw: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {SIGNATURE_HEADER: sign(secret, raw, ts), TIMESTAMP_HEADER: str(ts)}


# -- signatures -------------------------------------------------------------------------------------------


def test_a_signed_notification_verifies_and_parses() -> None:
    raw = body()
    parsed = verify(SECRET, raw, headers(raw))
    assert parsed.payment_id == "p1" and parsed.amount_fen == 60000 and parsed.status == "SUCCESS"


def test_header_names_are_case_insensitive() -> None:
    raw = body()
    assert verify(SECRET, raw, {k.lower(): v for k, v in headers(raw).items()}).payment_id == "p1"


def test_a_tampered_body_is_refused() -> None:
    raw = body()
    with pytest.raises(InvalidSignature) as err:
        verify(SECRET, body(amount_fen=1), headers(raw))
    assert err.value.status == 401 and err.value.code == "invalid_signature"


def test_a_wrong_secret_is_refused() -> None:
    raw = body()
    with pytest.raises(InvalidSignature):
        verify(SECRET, raw, headers(raw, secret="x" * 40))


def test_an_old_or_future_timestamp_is_refused() -> None:
    raw = body()
    old = int(time.time()) - 301
    with pytest.raises(InvalidSignature, match="5 分钟"):
        verify(SECRET, raw, headers(raw, timestamp=old))
    with pytest.raises(InvalidSignature):
        verify(SECRET, raw, headers(raw, timestamp=int(time.time()) + 400))
    assert verify(SECRET, raw, headers(raw, timestamp=int(time.time()) - 200)).payment_id == "p1"


def test_a_changed_timestamp_breaks_the_signature() -> None:
    raw = body()
    forged = headers(raw)
    forged[TIMESTAMP_HEADER] = str(int(forged[TIMESTAMP_HEADER]) - 1)
    with pytest.raises(InvalidSignature):
        verify(SECRET, raw, forged)


def test_missing_headers_are_refused() -> None:
    with pytest.raises(InvalidSignature):
        verify(SECRET, body(), {})


# -- decisions ---------------------------------------------------------------------------------------


def test_start_records_the_payment_for_an_unpaid_order_of_the_owner() -> None:
    events = online.start([order_created()], enterprise_id="e1", provider="sandbox", payment_id="p1")
    assert len(events) == 1 and isinstance(events[0], OnlinePaymentStarted)
    assert events[0].payment_id == "p1" and events[0].amount_fen == 60000


def test_start_is_for_the_owner_only() -> None:
    with pytest.raises(NotFound):
        online.start([order_created()], enterprise_id="e2", provider="sandbox", payment_id="p1")
    with pytest.raises(NotFound):
        online.start([], enterprise_id="e1", provider="sandbox", payment_id="p1")


def test_start_is_for_unpaid_orders_only() -> None:
    history = started()
    history += online.settle(history, notice(), provider="sandbox")
    with pytest.raises(Conflict) as err:
        online.start(history, enterprise_id="e1", provider="sandbox", payment_id="p2")
    assert err.value.code == "invalid_order_state"
    cancelled = [
        order_created(),
        OrderCancelled(order_id="o1", enterprise_id="e1", institution_id="i1", applicant_ids=[]),
    ]
    with pytest.raises(Conflict):
        online.start(cancelled, enterprise_id="e1", provider="sandbox", payment_id="p2")


def test_a_successful_callback_pays_the_order_online() -> None:
    events = online.settle(started(), notice(), provider="sandbox")
    assert len(events) == 1 and isinstance(events[0], OrderPaid)
    paid = events[0]
    assert paid.method == "online" and paid.provider_reference == "p1" and paid.confirmed_by == "sandbox"
    assert paid.applicant_ids == ["a1"] and paid.amount_fen == 60000


def test_a_duplicate_callback_decides_nothing() -> None:
    history = started()
    history += online.settle(history, notice(), provider="sandbox")
    assert online.classify(history, notice()) is Outcome.DUPLICATE
    assert online.settle(history, notice(), provider="sandbox") == []


def test_a_callback_for_another_payment_of_a_paid_order_records_nothing() -> None:
    history = started("p1")
    history += online.start(history, enterprise_id="e1", provider="sandbox", payment_id="p2")
    history += online.settle(history, notice("p1"), provider="sandbox")
    assert online.classify(history, notice("p2")) is Outcome.ORDER_CLOSED
    assert online.settle(history, notice("p2"), provider="sandbox") == []


def test_a_wrong_amount_is_refused() -> None:
    with pytest.raises(AmountMismatch) as err:
        online.settle(started(), notice(amount=1), provider="sandbox")
    assert err.value.code == "amount_mismatch" and err.value.status == 422


def test_an_unknown_payment_is_refused() -> None:
    with pytest.raises(NotFound):
        online.settle(started(), notice("p9"), provider="sandbox")


def test_a_failed_payment_records_nothing() -> None:
    assert online.settle(started(), notice(status="CLOSED"), provider="sandbox") == []
