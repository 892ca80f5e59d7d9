"""The payment context's internal events: stored in its own event store, never published to Kafka, not part
of the contract in `libs/events` (they may change freely; see `DomainEvent.public`)."""

from __future__ import annotations

from events import DomainEvent, event

CONTEXT = "payment"


@event(CONTEXT, "OnlinePaymentStarted", public=False)
class OnlinePaymentStarted(DomainEvent):
    """The enterprise started paying online with a payment provider."""

    order_id: str
    enterprise_id: str
    institution_id: str
    provider: str
    payment_id: str
    amount_fen: int
