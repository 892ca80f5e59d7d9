"""Payment context: orders for training fees (money in integer fen)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from events.base import DomainEvent
from events.registry import event

CONTEXT = "payment"


class OrderLine(BaseModel):
    """The fee of one applicant in an order."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    applicant_id: str
    position: str
    specialisation: str | None = None
    training_mode: str
    fee_fen: int


@event(CONTEXT, "OrderCreated")
class OrderCreated(DomainEvent):
    """An order was created for qualified applicants."""

    order_id: str
    order_number: str
    enterprise_id: str
    institution_id: str
    lines: list[OrderLine]
    amount_fen: int
    continuing_education: bool = False


@event(CONTEXT, "OrderPaid")
class OrderPaid(DomainEvent):
    """The payment of an order was confirmed."""

    order_id: str
    order_number: str
    enterprise_id: str
    institution_id: str
    applicant_ids: list[str]
    amount_fen: int
    confirmed_by: str = ""


@event(CONTEXT, "OrderCancelled")
class OrderCancelled(DomainEvent):
    """An unpaid order was cancelled."""

    order_id: str
    enterprise_id: str
    institution_id: str
    applicant_ids: list[str]
    reason: str = ""
