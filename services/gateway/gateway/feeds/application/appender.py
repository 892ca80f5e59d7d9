"""The feed log's writer: appends each public event of the five topics once, with its scopes, by batches.

The consumer (`gateway.policy.feeds`, see adapters/feed_runner.py) applies a batch of records in one
transaction: its position, the processed marks, and here, for the whole batch, one read of the events already
in the log, one of the lookups, one of the persons it needs, one increment of the sequence counter, one
insert of the entries and one bulk write of what the batch taught. A redelivered event is skipped by the
runner's marks, and an event already in the log (its id is unique there) is skipped too. It is never replayed
by a rebuild, so the log is never renumbered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from events import registry
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Document, Session

from ..domain import scopes

FEED_TOPICS = (
    "registration.events",
    "enrollment.events",
    "payment.events",
    "exam.events",
    "certification.events",
)
GROUP_NAME = "feeds"  # the consumer group is `<service>.policy.feeds`


class FeedLogWriter(Protocol):
    async def existing(self, session: Session, event_ids: Sequence[str]) -> set[str]: ...
    async def lookups(self, session: Session, keys: Sequence[str]) -> dict[str, Document]: ...
    async def persons(self, session: Session, id_numbers: Sequence[str]) -> dict[str, Document]: ...
    async def learn(self, session: Session, found: Mapping[str, Mapping[str, Any]]) -> None: ...
    async def append_many(self, session: Session, entries: Sequence[Mapping[str, Any]]) -> list[int]: ...


def feed_models() -> list[Any]:
    """The public event models of the feed's topics (not face.*, not identity.events)."""
    return [m for m in registry.public_models() if m.topic() in FEED_TOPICS]


def _person_key(data: Mapping[str, Any]) -> str:
    value = data.get("id_number")
    return value.strip().upper() if isinstance(value, str) else ""


async def append_batch(log: FeedLogWriter, batch: Sequence[ReceivedEvent], session: Session) -> list[int]:
    """Append the events of `batch` not in the log yet, in order; their sequence numbers."""
    present = await log.existing(session, [r.envelope.id for r in batch])
    fresh: list[tuple[ReceivedEvent, str, dict[str, Any]]] = []
    for received in batch:
        if received.envelope.id in present:
            continue
        present.add(received.envelope.id)
        event = received.event
        fresh.append((received, event.type_name(), event.model_dump(mode="json")))
    if not fresh:
        return []
    keys = [key for _, _, data in fresh for key in scopes.lookup_keys(data)]
    stored = await log.lookups(session, keys)
    # First pass: who needs the persons read model (what the batch teaches counts for the events after it).
    state: dict[str, Mapping[str, Any]] = dict(stored)
    wanted: list[str] = []
    for _, type_name, data in fresh:
        state.update(scopes.learnt(type_name, data))
        if scopes.needs_person(data, state):
            wanted.append(_person_key(data))
    persons = await log.persons(session, wanted) if wanted else {}
    # The cities of the enterprises reached through a lookup or a person (one more read, only if needed).
    parties = [*stored.values(), *persons.values(), *(v for v in state.values() if "enterprise_ids" in v)]
    missing = [
        key
        for doc in parties
        for enterprise in doc.get("enterprise_ids") or []
        if (key := scopes.enterprise_key(str(enterprise))) not in stored
    ]
    if missing:
        stored.update(await log.lookups(session, missing))
    # Second pass: resolve in order.
    state = dict(stored)
    taught: dict[str, dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    for received, type_name, data in fresh:
        before = scopes.learnt(type_name, data)
        state.update(before)
        taught.update(before)
        person = None
        if scopes.needs_person(data, state):
            number = _person_key(data)
            if number not in persons:
                persons.update(await log.persons(session, [number]))
            person = persons.get(number)
        resolution = scopes.resolve(data, state, person)
        after = scopes.learnt(type_name, data, resolution)
        state.update(after)
        taught.update(after)
        envelope = received.envelope
        entries.append(
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
            }
        )
    await log.learn(session, taught)
    return await log.append_many(session, entries)
