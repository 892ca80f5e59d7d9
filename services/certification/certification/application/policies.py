"""Certification reacts to the exam: ExamPassed → CertificateIssued."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from events import ExamPassed
from pymongo import ReturnDocument
from servicekit.commands import execute
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime

from ..domain import certificate as domain
from ..domain.numbers import certificate_number

CERTIFICATE_NAMESPACE = uuid.UUID("6f1b2d4e-3c5a-4e7b-9a1d-2b3c4d5e6f70")


def certificate_id_for(attempt_id: str) -> str:
    """Deterministic: one certificate per passed attempt, whatever happens to the event."""
    return uuid.uuid5(CERTIFICATE_NAMESPACE, attempt_id).hex


def issue_on_exam_passed(runtime: ServiceRuntime) -> Policy:
    policy = Policy(name="issue-on-exam-passed")

    @policy.handlers.on(ExamPassed)
    async def passed(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ExamPassed)
        store = runtime.store
        certificate_id = certificate_id_for(event.attempt_id)
        stream = f"certificate-{certificate_id}"
        if await store.version_of(stream, session=session):
            return
        issued_on = (
            received.envelope.time.astimezone(UTC).date()
            if received.envelope.time
            else datetime.now(UTC).date()
        )
        counter = await store.db["counters"].find_one_and_update(
            {"_id": f"certificate-{issued_on.year}"},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert counter is not None
        number = certificate_number(issued_on.year, event.position, int(counter["seq"]))
        await execute(
            store,
            stream,
            lambda h: domain.issue(
                h, passed=event, certificate_id=certificate_id, number=number, issued_on=issued_on
            ),
            stream_type="certificate",
            session=session,
        )

    return policy
