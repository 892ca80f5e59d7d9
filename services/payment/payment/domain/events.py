"""The payment context's internal events: stored in its own event store, never published to Kafka, not part
of the contract in `libs/events` (they may change freely; see `DomainEvent.public`)."""

from __future__ import annotations

from events import DomainEvent, event
from events.base import Identifier, Serial, ShortText

CONTEXT = "payment"


@event(CONTEXT, "OnlinePaymentStarted", public=False)
class OnlinePaymentStarted(DomainEvent):
    """The enterprise started paying online with a payment provider."""

    order_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    provider: ShortText
    payment_id: Serial
    amount_fen: int
