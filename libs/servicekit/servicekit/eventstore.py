"""Event store on MongoDB; the stored events are also the outbox the relay publishes from.

One collection, `events`, in the service's own database: one document per event, unique on
`(stream_id, version)`. Optimistic concurrency needs no extra guard document: appending at expected version
E requires version E to exist (E > 0) and inserts E+1…E+n, which the unique index refuses if anyone else got
there first. Versions are never removed, so the check and the insert cannot race into a gap. A one-event
append is a single insert; a multi-event append runs in a transaction so that it is all or nothing.

**The store's sequence.** An appended event has no `seq` (it is pending) until the sequencer gives it one:
its position in the service's whole log, a gapless, monotonic number that the relay publishes in, the
service's own projections read in, and a rebuild replays in. Only one sequencer runs at a time (the holder
of the service's lease, see `servicekit.lease`), and each round is one transaction that also moves the
counter, so two sequencers that overlapped by accident conflict instead of handing out a number twice. A
round takes the pending events ordered by `(stream_id, version)`: a version is only appended after the one
before it was committed, so each stream's versions get ascending positions whatever the replicas' clocks say.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from events import DomainEvent, Envelope, registry
from pymongo import ASCENDING, AsyncMongoClient, IndexModel, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .errors import ConcurrencyConflict
from .logging import causation_id_var, correlation_id_var
from .mongo import Database, Document, Session, in_transaction, is_duplicate_key

EVENTS = "events"
STORE_META = "store_meta"  # {_id: "sequence", value: the last position handed out}
SEQUENCE = "sequence"
COMMAND_CHUNK = 50  # documents per write command on a hot path
RELAY_CHECKPOINT = "relay"  # {_id: "relay", position: the last position the relay has published}


# The ids of the events appended while handling one request (`servicekit.app` waits for them to be applied
# to the service's own read models before it answers: read-your-writes).
appended_in_request: ContextVar[list[str] | None] = ContextVar("appended_in_request", default=None)


def _remember(docs: Sequence[Document]) -> None:
    found = appended_in_request.get()
    if found is not None:
        found.extend(doc["_id"] for doc in docs)


class Fenced(Exception):
    """A conditional write found that someone else moved first (another replica, a rebuild's pause)."""


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its envelope, its place in its stream and in the log, and where it goes."""

    envelope: Envelope
    stream_id: str
    stream_type: str
    version: int
    topic: str
    recorded_at: datetime
    seq: int | None = None
    public: bool = True

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
            seq=doc.get("seq"),
            public=doc.get("public", True),
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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.db = database
        self.source = source
        self._on_append = on_append
        self.clock = clock  # `recorded_at` only: no order depends on it

    def set_on_append(self, callback: Callable[[], None] | None) -> None:
        self._on_append = callback

    async def ensure_indexes(self) -> None:
        if "seq" in await self.db[EVENTS].index_information():  # replaced by seq_recorded
            await self.db[EVENTS].drop_index("seq")
        await self.db[EVENTS].create_indexes(
            [
                IndexModel(
                    [("stream_id", ASCENDING), ("version", ASCENDING)], unique=True, name="stream_version"
                ),
                # Plain (not partial) on purpose: the local MongoDB server only uses plain indexes for ranges;
                # the pending events (`seq: null`) are found with it too, oldest first.
                IndexModel([("seq", ASCENDING), ("recorded_at", ASCENDING)], name="seq_recorded"),
            ]
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
        stored, docs = self._documents(stream_id, new_events, expected_version, stream_type)

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

        _remember(docs)
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

    async def append_many(
        self,
        appends: Sequence[tuple[str, Sequence[DomainEvent], int]],
        *,
        stream_type: str = "",
        session: Session,
        chunk: int = 1000,
    ) -> list[StoredEvent]:
        """Append to many streams at once inside the caller's transaction (`insert_many`s of `chunk`
        documents): `(stream id, events, expected version)` each, the version being one the caller read (so
        it exists: versions are never removed) or 0 for a new stream. Anyone who appended to one of them
        meanwhile got the next version first, and the unique `(stream_id, version)` index refuses the whole
        append (`ConcurrencyConflict` naming that stream)."""
        stored: list[StoredEvent] = []
        docs: list[Document] = []
        owners: list[tuple[str, int]] = []
        for stream_id, new_events, expected_version in appends:
            s, d = self._documents(stream_id, new_events, expected_version, stream_type)
            stored += s
            docs += d
            owners += [(stream_id, expected_version)] * len(d)
        _remember(docs)
        for start in range(0, len(docs), chunk):
            try:
                await self.db[EVENTS].insert_many(docs[start : start + chunk], ordered=True, session=session)
            except BulkWriteError as exc:
                if not is_duplicate_key(exc):
                    raise
                stream_id, version = owners[start + exc.details["writeErrors"][0]["index"]]
                raise ConcurrencyConflict(stream_id, version) from exc
        return stored

    async def load_stored_many(
        self, stream_ids: Iterable[str], *, session: Session | None = None, per_query: int = 50
    ) -> dict[str, list[StoredEvent]]:
        """Each stream's stored events, version ascending (a stream without events is absent), with one query
        per `per_query` streams (the local MongoDB server answers an `$in` of n values in a time that grows
        faster than n: 500 ids take ~4× ten queries of 50)."""
        ids = list(dict.fromkeys(stream_ids))
        found: dict[str, list[StoredEvent]] = {}
        if len(ids) == 1:
            stored = await self.load(ids[0], session=session)
            return {ids[0]: stored} if stored else {}
        for start in range(0, len(ids), per_query):
            cursor = (
                self.db[EVENTS]
                .find({"stream_id": {"$in": ids[start : start + per_query]}}, session=session)
                .sort([("stream_id", ASCENDING), ("version", ASCENDING)])
            )
            async for doc in cursor:
                item = StoredEvent.from_document(doc)
                found.setdefault(item.stream_id, []).append(item)
        return found

    async def load_many(
        self, stream_ids: Iterable[str], *, session: Session | None = None
    ) -> dict[str, tuple[list[DomainEvent], int]]:
        """Each stream's events (decoded, upcast) and version; a stream without events is absent."""
        found = await self.load_stored_many(stream_ids, session=session)
        return {sid: ([s.decode() for s in stored], stored[-1].version) for sid, stored in found.items()}

    def _documents(
        self, stream_id: str, new_events: Sequence[DomainEvent], expected_version: int, stream_type: str
    ) -> tuple[list[StoredEvent], list[Document]]:
        now = self.clock()
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
            public = type(event).public
            docs.append(
                {
                    "_id": envelope.id,
                    "stream_id": stream_id,
                    "stream_type": stream_type,
                    "version": version,
                    "type": envelope.type,
                    "topic": topic,
                    "public": public,
                    "source": self.source,
                    "data": envelope.data,
                    "recorded_at": now,
                    "correlation_id": correlation_id,
                    "causation_id": causation_id,
                    "seq": None,  # pending: the sequencer gives it its position
                }
            )
            stored.append(StoredEvent(envelope, stream_id, stream_type, version, topic, now, None, public))
        return stored, docs

    def notify(self) -> None:
        """Tell the in-process sequencer that there is something new."""
        if self._on_append is not None:
            self._on_append()

    async def version_of(self, stream_id: str, *, session: Session | None = None) -> int:
        doc = await self.db[EVENTS].find_one(
            {"stream_id": stream_id}, {"version": 1}, sort=[("version", -1)], session=session
        )
        return int(doc["version"]) if doc else 0

    async def load(
        self, stream_id: str, *, after_version: int = 0, session: Session | None = None
    ) -> list[StoredEvent]:
        query: Document = {"stream_id": stream_id}
        if after_version:
            query["version"] = {"$gt": after_version}
        cursor = self.db[EVENTS].find(query, session=session).sort("version", ASCENDING)
        return [StoredEvent.from_document(doc) async for doc in cursor]

    async def load_events(
        self, stream_id: str, *, after_version: int = 0, session: Session | None = None
    ) -> tuple[list[DomainEvent], int]:
        """The stream's events decoded (upcast to the newest version) and the stream's version."""
        stored = await self.load(stream_id, after_version=after_version, session=session)
        return [item.decode() for item in stored], (stored[-1].version if stored else after_version)

    # ------------------------------------------------------------------ the sequence

    async def sequence(self, limit: int = 500) -> int:
        """Give the pending events their positions (one transaction); returns how many were sequenced.

        Events stored before the sequence existed have no `seq` either: they are sequenced like new ones
        (and published once more: consumers know their ids)."""

        async def work(tx: Session) -> int:
            # The streams of the oldest pending events (arrival order, so that no stream waits behind a busy
            # one), then every pending event of those streams in version order: a stream's versions get
            # ascending positions even when a replica whose clock runs behind recorded a later version first.
            oldest = (
                self.db[EVENTS]
                .find({"seq": None}, {"stream_id": 1}, session=tx)
                .sort([("seq", ASCENDING), ("recorded_at", ASCENDING)])
                .limit(limit)
            )
            streams = list(dict.fromkeys([doc["stream_id"] async for doc in oldest]))
            pending: list[Document] = []
            for first in range(0, len(streams), 50):
                pending += [
                    doc
                    async for doc in self.db[EVENTS].find(
                        {"stream_id": {"$in": streams[first : first + 50]}, "seq": None},
                        {"_id": 1, "stream_id": 1, "version": 1},
                        session=tx,
                    )
                ]
            pending.sort(key=lambda doc: (doc["stream_id"], doc["version"]))
            counter = await self.db[STORE_META].find_one({"_id": SEQUENCE}, session=tx)
            start = int(counter["value"]) if counter else 0
            ops = [
                UpdateOne({"_id": doc["_id"], "seq": None}, {"$set": {"seq": start + n}})
                for n, doc in enumerate(pending, start=1)
            ]
            # Small commands: the local server runs one command without letting other clients in, so one
            # bulk write of hundreds of updates would hold every service up for as long as it takes.
            modified = 0
            for first in range(0, len(ops), COMMAND_CHUNK):
                result = await self.db[EVENTS].bulk_write(
                    ops[first : first + COMMAND_CHUNK], ordered=True, session=tx
                )
                modified += result.modified_count
            if modified != len(ops):
                raise Fenced("another sequencer sequenced some of these events")
            moved = await self.db[STORE_META].update_one(
                {"_id": SEQUENCE, "value": start} if counter else {"_id": SEQUENCE},
                {"$set": {"value": start + len(pending)}},
                upsert=counter is None,
                session=tx,
            )
            if counter is not None and moved.matched_count != 1:
                raise Fenced("the sequence moved")
            return len(pending)

        return await in_transaction(self.client, work, attempts=3)

    async def head(self) -> int:
        """The last position handed out (0: none yet)."""
        counter = await self.db[STORE_META].find_one({"_id": SEQUENCE})
        return int(counter["value"]) if counter else 0

    async def pending_count(self) -> int:
        return await self.db[EVENTS].count_documents({"seq": None})

    async def oldest_pending(self) -> datetime | None:
        doc = await self.db[EVENTS].find_one({"seq": None}, {"recorded_at": 1})
        return doc["recorded_at"] if doc else None

    async def read_after(
        self,
        position: int,
        limit: int,
        *,
        public_only: bool = False,
        until: int | None = None,
        types: Sequence[str] | None = None,
    ) -> list[StoredEvent]:
        """Sequenced events after `position` (up to `until`; only of `types` if given), in log order."""
        bounds: Document = {"$gt": position}
        if until is not None:
            bounds["$lte"] = until
        query: Document = {"seq": bounds}
        if public_only:
            query["public"] = True
        if types is not None:
            query["type"] = {"$in": list(types)}
        cursor = self.db[EVENTS].find(query).sort("seq", ASCENDING).limit(limit)
        return [StoredEvent.from_document(doc) async for doc in cursor]

    async def all_events(
        self, *, batch_size: int = 1000, until: int | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Every sequenced event in log order (up to `until`)."""
        position = 0
        while True:
            batch = await self.read_after(position, batch_size, until=until)
            for item in batch:
                yield item
            if len(batch) < batch_size:
                return
            position = batch[-1].seq or position
