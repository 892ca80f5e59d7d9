"""The notifications consumer: a policy of the public topics (effects: it is never replayed by a rebuild).

For each notified event it looks up what the event lacks (the enterprise's name and contact mobile, the
applicant's ID number and name, the person's mobile), asks the pure rules (`domain.rules.plan`) who is told,
renders the templates and writes the messages — inbox and SMS — in the consumer's transaction, keyed by
(event id, recipient, channel). The SMS are written `pending`; the dispatcher hands them to the SMS port.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from events import DomainEvent
from events.enrollment import ApplicantsImported
from events.registration import EnterpriseRegistered, EnterpriseResubmitted
from servicekit.consumer import ReceivedEvent
from servicekit.logging import get_logger
from servicekit.mongo import Session
from servicekit.runtime import Policy

from ...domain.persons import mask_mobile
from ..adapters.store import INBOX, PENDING, SMS, MessageStore, message_id
from ..domain.rules import NOTIFIED_EVENTS, Delivery, Facts, is_stale, person_id_number, plan
from ..domain.templates import Template, render, sms_segments

NAME = "notifications"
ENTERPRISE_CACHE_SECONDS = 60.0
ENTERPRISE_CACHE_SIZE = 10_000

log = get_logger(__name__)


def documents(
    received: ReceivedEvent, deliveries: list[Delivery], templates: Mapping[str, Template], now: datetime
) -> list[dict[str, Any]]:
    """The inbox and SMS documents of an event's deliveries (pure)."""
    envelope = received.envelope
    docs: list[dict[str, Any]] = []
    for delivery in deliveries:
        text = render(templates[delivery.kind], delivery.values)
        base = {
            "event_id": envelope.id,
            "event_type": envelope.type,
            "kind": delivery.kind,
            "recipient": delivery.recipient,
            "created_at": now,
        }
        docs.append(
            {
                "_id": message_id(envelope.id, delivery.recipient, INBOX),
                **base,
                "channel": INBOX,
                "title": text.title,
                "body": text.body,
                "occurred_at": envelope.time,
                "read": False,
                "read_at": None,
            }
        )
        if delivery.sms_to:
            person = (
                delivery.recipient.removeprefix("person:") if delivery.recipient.startswith("person:") else ""
            )
            docs.append(
                {
                    "_id": message_id(envelope.id, delivery.recipient, SMS),
                    **base,
                    "channel": SMS,
                    "mobile": delivery.sms_to,
                    "id_number": person,
                    "text": text.sms,
                    "segments": sms_segments(text.sms),
                    "status": PENDING,
                }
            )
    return docs


class NotificationsConsumer:
    def __init__(
        self,
        database: str,
        templates: Mapping[str, Template],
        exam_bring: str,
        max_age: timedelta = timedelta(hours=72),
    ) -> None:
        self.database = database
        self.max_age = max_age
        self.skipped_stale = 0
        self._enterprises: dict[str, tuple[float, dict[str, Any]]] = {}
        self.templates = templates
        self.exam_bring = exam_bring

    async def enterprise(self, store: MessageStore, session: Session, enterprise_id: str) -> dict[str, Any]:
        """The enterprise's name and contact mobile, kept a short while in memory: a batch of 10,000 events of
        one enterprise reads it once (a resubmission seen by this process drops it at once)."""
        now = time.monotonic()
        cached = self._enterprises.get(enterprise_id)
        if cached is not None and now - cached[0] < ENTERPRISE_CACHE_SECONDS:
            return cached[1]
        found = await store.enterprise(session, enterprise_id)
        if found:  # an enterprise not known yet is asked again next time
            if len(self._enterprises) >= ENTERPRISE_CACHE_SIZE:
                self._enterprises.clear()
            self._enterprises[enterprise_id] = (now, found)
        return found

    def store(self, session: Session) -> MessageStore:
        """The store on the consumer's session's client (the handlers run in its transaction)."""
        return MessageStore(session.client[self.database])

    async def facts(self, event: DomainEvent, session: Session) -> Facts:
        store = self.store(session)
        enterprise_id = getattr(event, "enterprise_id", None) or ""
        enterprise = await self.enterprise(store, session, enterprise_id) if enterprise_id else {}
        id_number = person_id_number(event)
        name = str(getattr(event, "name", "") or getattr(event, "holder_name", "") or "")
        applicant_id = getattr(event, "applicant_id", None) or ""
        if applicant_id and (not id_number or not name):
            applicant = await store.applicant(session, applicant_id)
            id_number = id_number or str(applicant.get("id_number", ""))
            name = name or str(applicant.get("name", ""))
        mobile = await store.person_mobile(session, id_number) if id_number else ""
        return Facts(
            enterprise_name=str(enterprise.get("name", "")),
            enterprise_mobile=str(enterprise.get("mobile", "")),
            id_number=id_number,
            person_name=name,
            person_mobile=mobile,
            exam_bring=self.exam_bring,
        )

    async def notify(self, received: ReceivedEvent, session: Session) -> None:
        event = received.event
        now = datetime.now(UTC)
        if is_stale(received.envelope.time, now, self.max_age):
            self.skipped_stale += 1
            if self.skipped_stale % 1000 == 1:
                log.info(
                    "notification.stale_events_skipped",
                    count=self.skipped_stale,
                    event_type=received.envelope.type,
                )
            return
        deliveries = plan(event, await self.facts(event, session))
        docs = documents(received, deliveries, self.templates, now)
        await self.store(session).write(session, docs)
        for doc in docs:
            if doc["channel"] == SMS:
                log.info(
                    "notification.sms_queued",
                    kind=doc["kind"],
                    mobile=mask_mobile(doc["mobile"]),
                    message_id=doc["_id"],
                )

    def policy(self) -> Policy:
        policy = Policy(NAME)

        @policy.handlers.on(EnterpriseRegistered, EnterpriseResubmitted)
        async def enterprise(received: ReceivedEvent, session: Session) -> None:
            event = received.event
            assert isinstance(event, EnterpriseRegistered | EnterpriseResubmitted)
            self._enterprises.pop(event.enterprise_id, None)
            await self.store(session).remember_enterprise(
                session, event.enterprise_id, event.name.strip(), event.contact_mobile.strip()
            )

        @policy.handlers.on(*NOTIFIED_EVENTS)
        async def notified(received: ReceivedEvent, session: Session) -> None:
            await self.notify(received, session)

        @policy.handlers.on(ApplicantsImported)
        async def imported(received: ReceivedEvent, session: Session) -> None:
            event = received.event
            assert isinstance(event, ApplicantsImported)
            rows = [(a.applicant_id, a.id_number.strip().upper(), a.name.strip()) for a in event.applicants]
            await self.store(session).remember_applicants(session, rows)

        return policy
