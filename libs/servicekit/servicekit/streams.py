"""Many streams in one request: read with a few queries, decided on stream by stream, appended together.

`EventStore` reads and appends one stream at a time. A request on hundreds or thousands of aggregates (a
batch's import, a bulk review, a paid order, a training plan's trainees) would make as many round trips, each
one a write the local MongoDB server does at ~1–2k/s. `Streams` reads the streams a request needs in a few
`$in` queries (`EventStore.load_many`), lets the request decide stream by stream (each decision sees the
events decided before it in the same request), and appends everything with `EventStore.append_many`.

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

from .errors import ConcurrencyConflict
from .eventstore import EventStore
from .mongo import Session, in_transaction


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
        found = await self.store.load_many(wanted, session=self.session)
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
        """Append every decided event in the caller's transaction; returns how many. Changes nothing in this
        object, so a transaction retried from the start saves the same again."""
        appends = [(sid, s.new, s.version) for sid, s in self._streams.items() if s.new]
        by_type: dict[str, list[tuple[str, Sequence[DomainEvent], int]]] = {}
        for stream_id, new, version in appends:
            by_type.setdefault(self._streams[stream_id].stream_type, []).append((stream_id, new, version))
        count = 0
        for stream_type, group in by_type.items():
            count += len(await self.store.append_many(group, stream_type=stream_type, session=session))
        return count

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
