"""The feed log's writer: a consumer of the public topics that appends each event once, with its scopes.

It is a `Policy` (group `gateway.policy.feeds`), not a projection: a rebuild never replays it, so the log is
never renumbered. The consumer runner applies a batch of records in one transaction (its position, the
processed marks and every handler's writes), so a batch's entries take consecutive sequence numbers and commit
together; a redelivered event is skipped by the runner's marks, and an event already in the log (its id is
unique there) is skipped too.
"""

from __future__ import annotations

from typing import Any, Protocol

from events import registry
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Document, Session
from servicekit.runtime import Policy

from ..domain import scopes

FEED_TOPICS = (
    "registration.events",
    "enrollment.events",
    "payment.events",
    "exam.events",
    "certification.events",
)
POLICY_NAME = "feeds"


class FeedLogWriter(Protocol):
    async def lookups(self, session: Session, keys: list[str]) -> dict[str, Document]: ...
    async def person(self, session: Session, id_number: str) -> Document | None: ...
    async def learn(self, session: Session, found: dict[str, dict[str, Any]]) -> None: ...
    async def contains(self, session: Session, event_id: str) -> bool: ...
    async def append(self, session: Session, entry: dict[str, Any]) -> int: ...


def feed_models() -> list[Any]:
    """The public event models of the feed's topics (not face.*, not identity.events)."""
    return [m for m in registry.public_models() if m.topic() in FEED_TOPICS]


async def append_event(log: FeedLogWriter, received: ReceivedEvent, session: Session) -> int | None:
    """Resolve the event's scopes and append it; its sequence number, or None when already in the log."""
    envelope = received.envelope
    if await log.contains(session, envelope.id):
        return None
    event = received.event
    type_name = event.type_name()
    data: dict[str, Any] = event.model_dump(mode="json")
    taught = scopes.learnt(type_name, data)
    known = scopes.merged(await log.lookups(session, scopes.lookup_keys(data)), taught)
    person = None
    if scopes.needs_person(data, known):
        person = await log.person(session, str(data.get("id_number", "")))
    resolution = scopes.resolve(data, known, person)
    taught.update(scopes.learnt(type_name, data, resolution))
    await log.learn(session, taught)
    return await log.append(
        session,
        {
            "event_id": envelope.id,
            "type": type_name,
            "source": envelope.source,
            "time": envelope.time,
            "subject": envelope.subject,
            "correlation_id": envelope.correlation_id,
            "data": data,
            "scopes": resolution.scopes,
            "topic": received.topic,
        },
    )


def feed_policy(log_factory: Any) -> Policy:
    """`log_factory(session)` gives the writer bound to the session's database."""
    policy = Policy(POLICY_NAME)

    async def handle(received: ReceivedEvent, session: Session) -> None:
        await append_event(log_factory(session), received, session)

    policy.handlers.on(*feed_models())(handle)
    return policy
