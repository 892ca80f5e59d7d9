"""Event store on MongoDB; the stored events are also the outbox the relay publishes from.

One collection, `events`, in the service's own database: one document per event, unique on
`(stream_id, version)`, with `published` marking what the relay has sent. Optimistic concurrency needs no
extra guard document: appending at expected version E requires version E to exist (E > 0) and inserts
E+1…E+n, which the unique index refuses if anyone else got there first. Versions are never removed, so the
check and the insert cannot race into a gap. A one-event append is a single insert; a multi-event append
runs in a transaction so that it is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events import DomainEvent, Envelope, registry
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .errors import ConcurrencyConflict
from .logging import causation_id_var, correlation_id_var
from .mongo import Database, Document, Session, in_transaction, is_duplicate_key

EVENTS = "events"


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its envelope, its place in the stream and the topic it goes to."""

    envelope: Envelope
    stream_id: str
    stream_type: str
    version: int
    topic: str
    recorded_at: datetime

    def decode(self) -> DomainEvent:
        return registry.decode(self.envelope.type, self.envelope.data)

    @classmethod
    def from_document(cls, doc: Document) -> StoredEvent:
        envelope = Envelope(
            id=doc["_id"],
            type=doc["type"],
            source=doc["source"],
            time=doc["recorded_at"],
            subject=doc["stream_id"],
            correlation_id=doc.get("correlation_id"),
            causation_id=doc.get("causation_id"),
            data=doc["data"],
        )
        return cls(
            envelope=envelope,
            stream_id=doc["stream_id"],
            stream_type=doc.get("stream_type", ""),
            version=doc["version"],
            topic=doc["topic"],
            recorded_at=doc["recorded_at"],
        )


class EventStore:
    """Append-only streams with optimistic concurrency, atomic across the events of one append."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: Database,
        *,
        source: str,
        on_append: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.db = database
        self.source = source
        self._on_append = on_append

    def set_on_append(self, callback: Callable[[], None] | None) -> None:
        self._on_append = callback

    async def ensure_indexes(self) -> None:
        await self.db[EVENTS].create_index(
            [("stream_id", ASCENDING), ("version", ASCENDING)], unique=True, name="stream_version"
        )
        await self.db[EVENTS].create_index(
            [
                ("published", ASCENDING),
                ("recorded_at", ASCENDING),
                ("stream_id", ASCENDING),
                ("version", ASCENDING),
            ],
            name="outbox",
        )

    async def append(
        self,
        stream_id: str,
        new_events: Sequence[DomainEvent],
        *,
        expected_version: int,
        stream_type: str = "",
        session: Session | None = None,
    ) -> list[StoredEvent]:
        """Append `new_events` at `expected_version` (0 for a new stream), all or nothing.

        Raises `ConcurrencyConflict` when the stream is not at `expected_version`. With `session`, the
        append joins the caller's transaction (a consumer recording its effect and its dedupe mark).
        """
        if not new_events:
            return []
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON dates keep milliseconds
        correlation_id = correlation_id_var.get()
        causation_id = causation_id_var.get()
        stored: list[StoredEvent] = []
        docs: list[Document] = []
        for offset, event in enumerate(new_events, start=1):
            envelope = Envelope.for_event(
                event,
                subject=stream_id,
                source=self.source,
                correlation_id=correlation_id,
                causation_id=causation_id,
                time=now,
            )
            version = expected_version + offset
            topic = event.topic()
            docs.append(
                {
                    "_id": envelope.id,
                    "stream_id": stream_id,
                    "stream_type": stream_type,
                    "version": version,
                    "type": envelope.type,
                    "topic": topic,
                    "source": self.source,
                    "data": envelope.data,
                    "recorded_at": now,
                    "correlation_id": correlation_id,
                    "causation_id": causation_id,
                    "published": False,
                }
            )
            stored.append(StoredEvent(envelope, stream_id, stream_type, version, topic, now))

        async def work(tx: Session | None) -> None:
            if expected_version > 0 and not await self.db[EVENTS].find_one(
                {"stream_id": stream_id, "version": expected_version}, {"_id": 1}, session=tx
            ):
                raise ConcurrencyConflict(
                    stream_id, expected_version, await self.version_of(stream_id, session=tx)
                )
            try:
                if len(docs) == 1:
                    await self.db[EVENTS].insert_one(docs[0], session=tx)
                else:
                    await self.db[EVENTS].insert_many(docs, ordered=True, session=tx)
            except (DuplicateKeyError, BulkWriteError) as exc:
                if isinstance(exc, BulkWriteError) and not is_duplicate_key(exc):
                    raise
                raise ConcurrencyConflict(stream_id, expected_version) from exc

        if session is not None:
            await work(session)
            return stored
        try:
            if len(docs) == 1:
                await work(None)
            else:
                await in_transaction(self.client, work)
        except ConcurrencyConflict as conflict:
            if conflict.actual is None:
                conflict.actual = await self.version_of(stream_id)
            raise
        self.notify()
        return stored

    def notify(self) -> None:
        """Tell an in-process relay that there is something to publish."""
        if self._on_append is not None:
            self._on_append()

    async def version_of(self, stream_id: str, *, session: Session | None = None) -> int:
        doc = await self.db[EVENTS].find_one(
            {"stream_id": stream_id}, {"version": 1}, sort=[("version", -1)], session=session
        )
        return int(doc["version"]) if doc else 0

    async def load(self, stream_id: str, *, session: Session | None = None) -> list[StoredEvent]:
        cursor = self.db[EVENTS].find({"stream_id": stream_id}, session=session).sort("version", ASCENDING)
        return [StoredEvent.from_document(doc) async for doc in cursor]

    async def load_events(
        self, stream_id: str, *, session: Session | None = None
    ) -> tuple[list[DomainEvent], int]:
        """The stream's events decoded (upcast to the newest version) and the stream's version."""
        stored = await self.load(stream_id, session=session)
        return [item.decode() for item in stored], (stored[-1].version if stored else 0)

    async def unpublished(self, limit: int) -> list[StoredEvent]:
        """The oldest events not yet published, in an order that keeps each stream's versions ascending."""
        cursor = (
            self.db[EVENTS]
            .find({"published": False})
            .sort([("recorded_at", ASCENDING), ("stream_id", ASCENDING), ("version", ASCENDING)])
            .limit(limit)
        )
        return [StoredEvent.from_document(doc) async for doc in cursor]

    async def mark_published(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            await self.db[EVENTS].update_many(
                {"_id": {"$in": list(event_ids)}}, {"$set": {"published": True}}
            )

    async def all_events(self, *, batch_size: int = 1000) -> Any:
        """Every stored event, stream by stream, version ascending (an async iterator)."""
        cursor = (
            self.db[EVENTS]
            .find({})
            .sort([("recorded_at", ASCENDING), ("stream_id", ASCENDING), ("version", ASCENDING)])
            .batch_size(batch_size)
        )
        async for doc in cursor:
            yield StoredEvent.from_document(doc)
