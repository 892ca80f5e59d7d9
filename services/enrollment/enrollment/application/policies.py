"""Reactions of the enrollment context to other contexts' events."""

from __future__ import annotations

from events import OrderPaid
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime

from ..domain import applicant as applicant_domain
from .handlers import change_applicant


def enroll_on_payment(runtime: ServiceRuntime) -> Policy:
    """OrderPaid → every applicant of the order becomes 已报名 (Enrolled), in one transaction."""
    policy = Policy(name="enroll-on-payment")

    @policy.handlers.on(OrderPaid)
    async def paid(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OrderPaid)
        for applicant_id in event.applicant_ids:
            await change_applicant(
                runtime.store,
                applicant_id,
                lambda state: applicant_domain.enroll(state, order_id=event.order_id),
                session=session,
            )

    return policy
