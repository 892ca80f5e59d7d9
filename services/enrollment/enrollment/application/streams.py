"""Many streams at once: read with a few queries, appended with one insert in one short transaction.

servicekit's `EventStore` reads and appends one stream at a time. A request on hundreds or thousands of
applicants (a batch's import, a bulk review, a paid order, a training plan's trainees) would make as many
round trips, each one a write the local MongoDB server does at ~1–2k/s. `Streams` reads the streams a request
needs in a few `$in` queries, lets the request decide stream by stream (each decision sees the events decided
before it in the same request), and appends everything with `insert_many`.

The documents are the ones `EventStore.append` writes (built by the store's own builder; the integration
test `test_large_batch_it.py` compares the two), so they are sequenced, published and read like any other.
Optimistic concurrency holds as in `EventStore.append`: every new event takes the version after the one read,
which exists (versions are never removed), and the unique `(stream_id, version)` index refuses it if anyone
else got there first (`ConcurrencyConflict`); a stream that was not read is appended at version 0 (a new
stream). So the reads need no transaction, and the one transaction of a request holds its writes only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from events import DomainEvent
from pymongo.errors import BulkWriteError
from servicekit.errors import ConcurrencyConflict
from servicekit.eventstore import EVENTS, EventStore, StoredEvent
from servicekit.mongo import Document, Session, in_transaction, is_duplicate_key

# stream ids per query: the local MongoDB server answers an `$in` of n values in a time that grows faster
# than n (500 ids: ~4× the time of ten queries of 50)
READ_CHUNK = 50
WRITE_CHUNK = 1000  # documents per insert_many


async def load_stored_many(
    store: EventStore, stream_ids: Iterable[str], *, session: Session | None = None
) -> dict[str, list[StoredEvent]]:
    """Each stream's stored events, version ascending (a stream without events is absent). One stream is
    read through `EventStore.load`, several with one query per `READ_CHUNK` streams."""
    ids = list(dict.fromkeys(stream_ids))
    found: dict[str, list[StoredEvent]] = {}
    if len(ids) == 1:
        stored = await store.load(ids[0], session=session)
        if stored:
            found[ids[0]] = stored
        return found
    for start in range(0, len(ids), READ_CHUNK):
        cursor = (
            store.db[EVENTS]
            .find({"stream_id": {"$in": ids[start : start + READ_CHUNK]}}, session=session)
            .sort([("stream_id", 1), ("version", 1)])
        )
        async for doc in cursor:
            item = StoredEvent.from_document(doc)
            found.setdefault(item.stream_id, []).append(item)
    return found


async def load_many(
    store: EventStore, stream_ids: Iterable[str], *, session: Session | None = None
) -> dict[str, tuple[list[DomainEvent], int]]:
    """Each stream's events (decoded, upcast) and version; a stream without events is absent."""
    found = await load_stored_many(store, stream_ids, session=session)
    return {sid: ([s.decode() for s in stored], stored[-1].version) for sid, stored in found.items()}


def documents(
    store: EventStore, stream_id: str, events: Sequence[DomainEvent], expected_version: int, stream_type: str
) -> list[Document]:
    """The documents `EventStore.append` stores for `events` appended at `expected_version`, built by the
    store itself (servicekit has no public append to many streams at versions > 0; cf. `append_new_streams`).
    """
    _, docs = store._documents(stream_id, events, expected_version, stream_type)
    return list(docs)


@dataclass
class _Stream:
    events: list[DomainEvent] = field(default_factory=list)
    version: int = 0
    stream_type: str = ""
    new: list[DomainEvent] = field(default_factory=list)


class Streams:
    """The streams of one request (or of one chunk of a large one): read once, decided on, appended together.

    Reads need no transaction: each new event is appended at the version after the one read, so a stream
    that moved meanwhile makes the append fail (`ConcurrencyConflict`; `retrying` runs the request again on
    fresh state). Only the appends (`commit`, with the request's other writes) run in a transaction, which
    stays as short as one `insert_many`."""

    def __init__(self, store: EventStore, session: Session | None = None) -> None:
        self.store = store
        self.session = session  # where the reads are made (None: outside any transaction)
        self._streams: dict[str, _Stream] = {}

    async def read(self, stream_ids: Iterable[str]) -> None:
        """Read the streams not read yet (one query per `READ_CHUNK` of them)."""
        wanted = [s for s in dict.fromkeys(stream_ids) if s not in self._streams]
        if not wanted:
            return
        found = await load_many(self.store, wanted, session=self.session)
        for stream_id in wanted:
            events, version = found.get(stream_id, ([], 0))
            self._streams[stream_id] = _Stream(events=events, version=version)

    def known(self, stream_id: str, events: list[DomainEvent], version: int) -> None:
        """A stream this request already read."""
        self._streams[stream_id] = _Stream(events=list(events), version=version)

    def history(self, stream_id: str) -> list[DomainEvent]:
        """The stream's events: what was read, then what this request decided."""
        stream = self._streams.get(stream_id)
        return [*stream.events, *stream.new] if stream is not None else []

    def add(self, stream_id: str, events: Sequence[DomainEvent], *, stream_type: str) -> None:
        """Events decided for a stream; appended by `save`. A stream not read is a new one."""
        stream = self._streams.setdefault(stream_id, _Stream())
        stream.new += events
        stream.stream_type = stream_type

    @property
    def pending(self) -> int:
        return sum(len(s.new) for s in self._streams.values())

    async def save(self, session: Session) -> int:
        """Append every decided event in the caller's transaction (`insert_many`); returns how many. Changes
        nothing in this object, so a transaction retried from the start saves the same again."""
        docs: list[Document] = []
        owners: list[tuple[str, int]] = []
        for stream_id, stream in self._streams.items():
            if stream.new:
                docs += documents(self.store, stream_id, stream.new, stream.version, stream.stream_type)
                owners += [(stream_id, stream.version)] * len(stream.new)
        for start in range(0, len(docs), WRITE_CHUNK):
            try:
                await self.store.db[EVENTS].insert_many(
                    docs[start : start + WRITE_CHUNK], ordered=True, session=session
                )
            except BulkWriteError as exc:
                if not is_duplicate_key(exc):
                    raise
                stream_id, version = owners[start + exc.details["writeErrors"][0]["index"]]
                raise ConcurrencyConflict(stream_id, version) from exc
        return len(docs)

    def saved(self) -> None:
        """The transaction that saved the new events committed: they are now part of what was read."""
        for stream in self._streams.values():
            stream.events += stream.new
            stream.version += len(stream.new)
            stream.new = []


async def commit(
    store: EventStore, streams: Streams, also: Callable[[Session], Awaitable[object]] | None = None
) -> int:
    """Append what `streams` collected and make the request's other writes (`also`) in one transaction;
    tells the store's relay once it committed. Returns how many events were appended."""

    if not streams.pending and also is None:
        return 0

    async def work(session: Session) -> int:
        count = await streams.save(session)
        if also is not None:
            await also(session)
        return count

    count = await in_transaction(store.client, work)
    streams.saved()
    if count:
        store.notify()
    return count


T = TypeVar("T")


async def retrying(request: Callable[[], Awaitable[T]], *, attempts: int = 3) -> T:
    """Run a request (read, decide, commit) again on fresh state when a stream moved meanwhile."""
    for attempt in range(1, attempts + 1):
        try:
            return await request()
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")
