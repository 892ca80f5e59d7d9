"""Reactions to other contexts: ExamPassed → CertificateIssued (renewing or refused when the person holds a
valid certificate for the position), PersonBlacklisted → CertificateRevoked, enrollment's
ContinuingEducationCompleted → ContinuingEducationRecorded (source `training_plan`, once per plan and
applicant)."""

from __future__ import annotations

from events import ContinuingEducationCompleted, ExamPassed, PersonBlacklisted
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime

from ..settings import CertificationSettings
from . import handlers
from .handlers import certificate_id_for

__all__ = [
    "certificate_id_for",
    "credit_on_training_completed",
    "issue_on_exam_passed",
    "revoke_on_blacklist",
]


def _settings(runtime: ServiceRuntime) -> CertificationSettings:
    settings = runtime.settings
    assert isinstance(settings, CertificationSettings)
    return settings


def issue_on_exam_passed(runtime: ServiceRuntime) -> Policy:
    policy = Policy(name="issue-on-exam-passed")

    @policy.handlers.on(ExamPassed)
    async def passed(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ExamPassed)
        await handlers.issue_on_exam(
            runtime.store,
            event,
            issued_on=handlers.date_in_china(received.envelope.time),
            rule=_settings(runtime).second_certificate,
            session=session,
        )

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


def credit_on_training_completed(runtime: ServiceRuntime) -> Policy:
    policy = Policy(name="credit-on-training-completed")

    @policy.handlers.on(ContinuingEducationCompleted)
    async def completed(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ContinuingEducationCompleted)
        await handlers.credit_training(
            runtime.store,
            event,
            today=handlers.today_in_china(),
            rules=_settings(runtime).hours_rules(),
            session=session,
        )

    return policy
