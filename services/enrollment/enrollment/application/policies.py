"""Reactions of the enrollment context to other contexts' events."""

from __future__ import annotations

from events import (
    CertificateIssued,
    ContinuingEducationRecorded,
    DomainEvent,
    ExamFailed,
    ExamPassed,
    OrderPaid,
    OrderRefunded,
)
from servicekit.consumer import ReceivedEvent
from servicekit.errors import NotFound
from servicekit.eventstore import EventStore
from servicekit.logging import get_logger
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime

from ..domain import applicant as applicant_domain
from .handlers import change_applicant, change_applicants

log = get_logger(__name__)

ORDER_CHUNK = 50  # applicants per transaction of an order's outcome


class OrderOutcomeRefused(Exception):
    """Some applicants of a paid or refunded order could not follow it (the others did)."""


async def follow_order(store: EventStore, event: OrderPaid | OrderRefunded) -> None:
    """OrderPaid → the order's applicants become 已报名 (Enrolled); OrderRefunded → they go back to 已审核
    (the compensation). In chunks of `ORDER_CHUNK` applicants, each chunk one short transaction (one read of
    their streams, one insert): an order of any size never holds a transaction long. Idempotent: an applicant
    already enrolled by this order (or no longer enrolled by it, for a refund) is left as it is, so running
    it again after a crash, or twice, changes nothing. An applicant a rule refuses (e.g. rejected after the
    order was made) is logged; the others are recorded, then `OrderOutcomeRefused` is raised so that the
    event is retried and, if it keeps failing, dead-lettered for a person to look at."""
    decide = applicant_domain.enroll if isinstance(event, OrderPaid) else applicant_domain.revert_enrollment
    refused = []
    for start in range(0, len(event.applicant_ids), ORDER_CHUNK):
        refused += await change_applicants(
            store,
            event.applicant_ids[start : start + ORDER_CHUNK],
            lambda state: decide(state, order_id=event.order_id),
        )
    for item in refused:
        log.error(
            "enrollment.order_outcome.refused", order_id=event.order_id, event_type=event.type_name(), **item
        )
    if refused:
        raise OrderOutcomeRefused(
            f"{len(refused)} applicants of order {event.order_id} cannot follow {event.type_name()}: "
            + ", ".join(f"{r['applicant_id']} ({r['code']})" for r in refused[:10])
        )


def follow_orders(runtime: ServiceRuntime) -> Policy:
    """Payment's outcomes, one consumer group, outside the consumer's transaction (`on_idempotent`): an
    order of 500 applicants is 10 short transactions, not one long one (see `follow_order`)."""
    policy = Policy(name="follow-orders")

    @policy.handlers.on_idempotent(OrderPaid, OrderRefunded)
    async def order_outcome(received: ReceivedEvent) -> None:
        event = received.event
        assert isinstance(event, OrderPaid | OrderRefunded)
        await follow_order(runtime.store, event)

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


def follow_certification(runtime: ServiceRuntime) -> Policy:
    """Certification reached an enrollment's purpose, one consumer group: CertificateIssued (the applicant
    who passed the exam got the certificate) and ContinuingEducationRecorded of a training plan (the hours
    of a continuing-education trainee were credited) close the applicant (EnrollmentClosed, 已结束; the
    applicant index's row closes in the same transaction, so the person may enroll again). Idempotent; an
    applicant enrollment does not know (a renewal, a manual record) is skipped."""
    policy = Policy(name="follow-certification")

    @policy.handlers.on(CertificateIssued, ContinuingEducationRecorded)
    async def reached(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        if isinstance(event, CertificateIssued):
            applicant_id, reason, ref = event.applicant_id, "certificate_issued", event.certificate_id
        elif isinstance(event, ContinuingEducationRecorded):
            if event.source != "training_plan" or not event.applicant_id:
                return
            applicant_id, reason, ref = event.applicant_id, "hours_credited", event.source_ref or ""
        else:
            return

        def decide(state: applicant_domain.Applicant) -> list[DomainEvent]:
            if reason == "hours_credited" and not state.batch.continuing_education:
                log.warning("enrollment.hours_credited.not_continuing_education", applicant_id=applicant_id)
                return []
            return applicant_domain.close(state, reason=reason, ref=ref)

        try:
            await change_applicant(runtime.store, applicant_id, decide, session=session)
        except NotFound:
            log.info("enrollment.certification.unknown_applicant", applicant_id=applicant_id, reason=reason)

    return policy
