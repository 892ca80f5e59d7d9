"""Reactions of the enrollment context to other contexts' events."""

from __future__ import annotations

from events import OrderPaid, OrderRefunded
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime

from ..domain import applicant as applicant_domain
from .handlers import change_applicant


def follow_orders(runtime: ServiceRuntime) -> Policy:
    """Payment's outcomes, one consumer group: OrderPaid → the order's applicants become 已报名 (Enrolled);
    OrderRefunded → they go back to 已审核 (the compensation). Each in one transaction."""
    policy = Policy(name="follow-orders")

    @policy.handlers.on(OrderPaid, OrderRefunded)
    async def order_outcome(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OrderPaid | OrderRefunded)
        decide = (
            applicant_domain.enroll if isinstance(event, OrderPaid) else applicant_domain.revert_enrollment
        )
        for applicant_id in event.applicant_ids:
            await change_applicant(
                runtime.store,
                applicant_id,
                lambda state: decide(state, order_id=event.order_id),
                session=session,
            )

    return policy
