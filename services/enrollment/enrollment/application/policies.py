"""Reactions of the enrollment context to other contexts' events."""

from __future__ import annotations

from events import OrderPaid, OrderRefunded
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


def revert_on_refund(runtime: ServiceRuntime) -> Policy:
    """OrderRefunded → the order's applicants go back from 已报名 to 已审核 (the compensation of enroll)."""
    policy = Policy(name="revert-on-refund")

    @policy.handlers.on(OrderRefunded)
    async def refunded(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, OrderRefunded)
        for applicant_id in event.applicant_ids:
            await change_applicant(
                runtime.store,
                applicant_id,
                lambda state: applicant_domain.revert_enrollment(state, order_id=event.order_id),
                session=session,
            )

    return policy
