"""Reactions to the exam: ExamPassed → CertificateIssued, PersonBlacklisted → CertificateRevoked."""

from __future__ import annotations

from events import ExamPassed, PersonBlacklisted
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime

from ..domain import certificate as domain
from . import handlers
from .handlers import certificate_id_for

__all__ = ["certificate_id_for", "issue_on_exam_passed", "revoke_on_blacklist"]


def issue_on_exam_passed(runtime: ServiceRuntime) -> Policy:
    policy = Policy(name="issue-on-exam-passed")

    @policy.handlers.on(ExamPassed)
    async def passed(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ExamPassed)
        store = runtime.store
        certificate_id = certificate_id_for(event.attempt_id)
        if await store.version_of(handlers.stream(certificate_id), session=session):
            return
        issued_on = handlers.date_in_china(received.envelope.time)
        number = await handlers.next_number(store, issued_on.year, event.position, session)
        name = await handlers.institution_name(store, event.institution_id, session)
        (issued,) = domain.issue(
            [],
            passed=event,
            certificate_id=certificate_id,
            number=number,
            issued_on=issued_on,
            institution_name=name,
        )
        assert isinstance(issued, domain.CertificateIssued)
        await handlers.open_certificate(store, issued, session)

    return policy


def revoke_on_blacklist(runtime: ServiceRuntime) -> Policy:
    policy = Policy(name="revoke-on-blacklist")

    @policy.handlers.on(PersonBlacklisted)
    async def blacklisted(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, PersonBlacklisted)
        await handlers.revoke_person(
            runtime.store,
            event.id_number,
            reason=f"列入考试黑名单：{event.reason}",
            blacklist_id=event.blacklist_id,
            revoked_by=event.blacklisted_by,
            session=session,
        )

    return policy
