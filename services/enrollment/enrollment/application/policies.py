"""Reactions of the enrollment context to other contexts' events."""

from __future__ import annotations

from events import ExamFailed, ExamPassed, OrderPaid, OrderRefunded
from servicekit.consumer import ReceivedEvent
from servicekit.errors import NotFound
from servicekit.logging import get_logger
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime

from ..domain import applicant as applicant_domain
from .handlers import change_applicant

log = get_logger(__name__)


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


def follow_exam_results(runtime: ServiceRuntime) -> Policy:
    """The exam's results, one consumer group: ExamPassed / ExamFailed → `ExamResultNoted` on the applicant
    (考试合格 closes it; 考试未通过 lets the institution apply again, 补考). A result of an applicant that
    enrollment does not know (e.g. sent to the exam by another way) is skipped."""
    policy = Policy(name="follow-exam-results")

    @policy.handlers.on(ExamPassed, ExamFailed)
    async def exam_result(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ExamPassed | ExamFailed)
        try:
            await change_applicant(
                runtime.store,
                event.applicant_id,
                lambda state: applicant_domain.note_exam_result(
                    state,
                    attempt_id=event.attempt_id,
                    passed=isinstance(event, ExamPassed),
                    score=event.score,
                    pass_mark=event.pass_mark,
                ),
                session=session,
            )
        except NotFound:
            log.warning("enrollment.exam_result.unknown_applicant", applicant_id=event.applicant_id)

    return policy
