"""The notifications consumer: a policy of the public topics (effects: it is never replayed by a rebuild).

For each notified event it looks up what the event lacks (the enterprise's name and contact mobile, the
applicant's ID number and name, the person's mobile), asks the pure rules (`domain.rules.plan`) who is told,
renders the templates and writes the messages — inbox and SMS — in the consumer's transaction, keyed by
(event id, recipient, channel). The SMS are written `pending`; the dispatcher hands them to the SMS port.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from events import DomainEvent
from events.enrollment import ApplicantQualified
from events.registration import EnterpriseRegistered, EnterpriseResubmitted
from servicekit.consumer import ReceivedEvent
from servicekit.logging import get_logger
from servicekit.mongo import Session
from servicekit.runtime import Policy

from ...domain.persons import mask_mobile
from ..adapters.store import INBOX, PENDING, SMS, MessageStore, message_id
from ..domain.rules import NOTIFIED_EVENTS, Delivery, Facts, person_id_number, plan
from ..domain.templates import Template, render, sms_segments

NAME = "notifications"

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
    def __init__(self, database: str, templates: Mapping[str, Template], exam_bring: str) -> None:
        self.database = database
        self.templates = templates
        self.exam_bring = exam_bring

    def store(self, session: Session) -> MessageStore:
        """The store on the consumer's session's client (the handlers run in its transaction)."""
        return MessageStore(session.client[self.database])

    async def facts(self, event: DomainEvent, session: Session) -> Facts:
        store = self.store(session)
        enterprise_id = getattr(event, "enterprise_id", None) or ""
        enterprise = await store.enterprise(session, enterprise_id) if enterprise_id else {}
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
        deliveries = plan(event, await self.facts(event, session))
        docs = documents(received, deliveries, self.templates, datetime.now(UTC))
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
            await self.store(session).remember_enterprise(
                session, event.enterprise_id, event.name.strip(), event.contact_mobile.strip()
            )

        @policy.handlers.on(*NOTIFIED_EVENTS)
        async def notified(received: ReceivedEvent, session: Session) -> None:
            event = received.event
            if isinstance(event, ApplicantQualified):
                await self.store(session).remember_applicant(
                    session, event.applicant_id, event.id_number.strip().upper(), event.name.strip()
                )
            await self.notify(received, session)

        return policy
