"""Projections: read models built from events, which can be rebuilt from the log on a live system.

A `Projection` owns some collections of its service's database and a set of handlers. Handlers of the
service's own events run in a store subscription (`<service>.projection.<name>`, reading the event store in
log order); handlers of other contexts' events run in a Kafka consumer group of the same name.

`rebuild` builds the read model again into new collections (`<name>__rebuild`) while the live projection
keeps serving: the service's own events are replayed from its event store, other contexts' events from
their topics (which keep everything, see `servicekit.kafka.ensure_topics`). When the new collections have
caught up with the live positions, the live runners are paused (a conditional write on their positions, so
no replica can apply anything while paused), the new collections are brought exactly to the live positions,
compared with the live ones (`check`), and renamed over them (`swap`); then the runners go on from the same
positions. A check on a busy system therefore compares two read models at the same point of the log.

A record the rebuild cannot decode (an unknown major, a malformed record) is dead-lettered for the live
projection's group — once: the live runner that met it first already did, and a rebuild only counts it again
(`servicekit.dlq.KafkaDeadLetters`, `servicekit.subscription.record_store_letter`). A handler that fails on a
replayed event is reported (`RebuildReport.poison`) and logged, not dead-lettered: the live runner has its own
retries and dead letters for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from events import Envelope, UnknownEventType
from pymongo import AsyncMongoClient, IndexModel

from .consumer import (
    POSITIONS,
    EventHandlers,
    ReceivedEvent,
    UnknownMajor,
    error_text,
    event_context,
    position_id,
)
from .dlq import KafkaDeadLetters
from .eventstore import EventStore, StoredEvent
from .kafka import read_ranges, watermarks
from .logging import get_logger
from .mongo import Collection, Database, Document, Session, in_transaction
from .settings import ServiceSettings
from .subscription import SUBSCRIPTIONS, record_store_letter

log = get_logger(__name__)

REBUILD_SUFFIX = "__rebuild"
_target_suffix: ContextVar[str] = ContextVar("projection_target_suffix", default="")


@dataclass
class Projection:
    name: str
    collections: Sequence[str]
    database: str = ""
    handlers: EventHandlers = field(default_factory=EventHandlers)
    extra_topics: Sequence[str] = ()
    # The indexes of the read model's collections (collection → indexes), made at start and on a rebuild's
    # new collections. Every query a page or a handler runs on a large collection needs one: the local
    # MongoDB server scans the whole collection otherwise, and holds everyone else up while it does.
    indexes: Mapping[str, Sequence[IndexModel]] = field(default_factory=dict)
    # A write-side collection's check (`check_write_index`): how the live collection may differ from the one
    # built from the events, as problems (default: not at all). E.g. a number counter may be ahead of the
    # numbers the events hold (a command that took a number and then failed), never behind.
    compare: Callable[[dict[str, list[Document]], dict[str, list[Document]]], list[str]] | None = None

    def collection(self, session: Session, name: str | None = None) -> Collection:
        """One of the projection's collections, bound to the handler's transaction's client (during a
        rebuild: the new collection being built)."""
        name = name or self.collections[0]
        if name in self.collections:
            name += _target_suffix.get()
        return session.client[self.database][name]

    def group_id(self, service: str) -> str:
        return f"{service}.projection.{self.name}"

    @property
    def topics(self) -> list[str]:
        return sorted(set(self.handlers.topics) | set(self.extra_topics))

    async def ensure_indexes(self, database: Database, suffix: str = "") -> None:
        for name, models in self.indexes.items():
            if models:
                await database[name + suffix].create_indexes(list(models))


@dataclass
class RebuildReport:
    projection: str
    records_read: int
    events_applied: int
    seconds: float
    differences: list[str] = field(default_factory=list)
    poison: list[str] = field(default_factory=list)
    swapped: bool = False


@dataclass
class _Positions:
    own: int | None  # the store position (None: no own handlers)
    foreign: dict[TopicPartition, int]  # next offset per partition


class _Replayer:
    """Applies replayed events to the new collections, many per transaction, each event once.

    With `group` (and `database`), a record that cannot be decoded is dead-lettered for that group too
    (idempotently: the live runner's letter for the same record is counted, not copied)."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        handlers: EventHandlers,
        *,
        settings: ServiceSettings | None = None,
        database: Database | None = None,
        group: str | None = None,
    ) -> None:
        self.client = client
        self.handlers = handlers
        self.seen: set[str] = set()
        self.read = 0
        self.applied = 0
        self.poison: list[str] = []
        self._pending: list[ReceivedEvent] = []
        self.group = group
        self.database = database
        self._undecodable: list[tuple[Any, BaseException]] = []  # (the record or stored event, why)
        self._kafka_letters = (
            KafkaDeadLetters(settings, database, group)
            if settings is not None and database is not None and group is not None
            else None
        )

    def add(
        self, envelope: Envelope, topic: str, partition: int, offset: int, decode: Any, raw: Any = None
    ) -> None:
        self.read += 1
        try:
            if self.handlers.route(envelope.type) is None or envelope.id in self.seen:
                return
            event = decode()
        except (UnknownEventType, UnknownMajor, ValueError) as exc:
            self.poison.append(f"{envelope.type} {envelope.id}: {exc}"[:300])
            self.cannot_decode(raw, exc, envelope.type, envelope.id)
            return
        self.seen.add(envelope.id)
        self._pending.append(ReceivedEvent(envelope, event, topic, partition, offset))

    def cannot_decode(
        self, raw: Any, exc: BaseException, event_type: str | None, event_id: str | None
    ) -> None:
        log.warning(
            "rebuild.cannot_decode",
            group=self.group,
            event_type=event_type,
            event_id=event_id,
            unknown_major=isinstance(exc, UnknownMajor),
            error=error_text(exc)[:300],
        )
        if raw is not None and self.group is not None:
            self._undecodable.append((raw, exc))

    async def dead_letter_undecodable(self) -> None:
        letters, self._undecodable = self._undecodable, []
        for raw, exc in letters:
            if isinstance(raw, StoredEvent):
                assert self.database is not None and self.group is not None
                await record_store_letter(
                    self.database, subscription=self.group, stored=raw, error=error_text(exc), attempts=1
                )
            elif self._kafka_letters is not None:
                await self._kafka_letters.send(raw, error_text(exc), 1)

    async def close(self) -> None:
        await self.dead_letter_undecodable()
        if self._kafka_letters is not None:
            await self._kafka_letters.close()

    async def flush(self, force: bool = False) -> None:
        if self._undecodable:
            await self.dead_letter_undecodable()
        if not self._pending or (len(self._pending) < 200 and not force):
            return
        batch, self._pending = self._pending, []
        try:
            await in_transaction(self.client, lambda tx: self._apply(batch, tx), attempts=2)
            self.applied += len(batch)
        except Exception:
            for received in batch:  # one by one: a poison event is reported and skipped, not dead-lettered
                try:
                    await in_transaction(self.client, self._applying(received), attempts=2)
                    self.applied += 1
                except Exception as exc:
                    self.poison.append(f"{received.envelope.type} {received.envelope.id}: {exc!r}"[:300])
                    log.warning(
                        "rebuild.handler_failed",
                        group=self.group,
                        event_type=received.envelope.type,
                        event_id=received.envelope.id,
                        error=error_text(exc)[:300],
                    )

    def _applying(self, received: ReceivedEvent) -> Callable[[Session], Awaitable[None]]:
        return lambda tx: self._apply([received], tx)

    async def _apply(self, batch: Sequence[ReceivedEvent], session: Session) -> None:
        for received in batch:
            with event_context(received.envelope):
                await self.handlers.dispatch(received, session)


async def live_positions(projection: Projection, database: Database, group: str, own: bool) -> _Positions:
    foreign: dict[TopicPartition, int] = {}
    async for doc in database[POSITIONS].find({"group": group}):
        if "topic" in doc:
            foreign[TopicPartition(doc["topic"], int(doc["partition"]))] = int(doc["offset"])
    own_position: int | None = None
    if own:
        subscription = await database[SUBSCRIPTIONS].find_one({"_id": group})
        own_position = int(subscription["position"]) if subscription else None
    return _Positions(own_position, foreign)


async def _set_paused(database: Database, group: str, paused: bool) -> None:
    await database[POSITIONS].update_many({"group": group}, {"$set": {"paused": paused}})
    await database[POSITIONS].update_one(
        {"_id": position_id(group, "*", -1)}, {"$set": {"group": group, "paused": paused}}, upsert=True
    )
    await database[SUBSCRIPTIONS].update_one({"_id": group}, {"$set": {"paused": paused}})


async def rebuild(
    projection: Projection,
    *,
    settings: ServiceSettings,
    client: AsyncMongoClient[Document],
    database: Database,
    store: EventStore | None = None,
    own_contexts: Iterable[str] = (),
    check: bool = False,
    swap: bool = True,
) -> RebuildReport:
    """Build the projection again into new collections, catch up with the live one, compare, swap."""
    started = time.perf_counter()
    group = projection.group_id(settings.service_name)
    own_handlers, foreign_handlers = projection.handlers.split(own_contexts)
    has_own = bool(own_handlers) and store is not None
    for name in projection.collections:
        await database[name + REBUILD_SUFFIX].drop()
    await projection.ensure_indexes(database, REBUILD_SUFFIX)
    own_replay = _Replayer(client, own_handlers, settings=settings, database=database, group=group)
    foreign_replay = _Replayer(client, foreign_handlers, settings=settings, database=database, group=group)
    topics = sorted(set(foreign_handlers.topics) | set(projection.extra_topics)) if foreign_handlers else []
    token = _target_suffix.set(REBUILD_SUFFIX)
    reached = _Positions(0 if has_own else None, {})
    report = RebuildReport(projection.name, 0, 0, 0.0)
    try:
        # 1. up to where the live projection is now, without disturbing it
        target = await _targets(projection, database, group, has_own, settings, topics, store)
        reached = await _replay(target, reached, own_replay, foreign_replay, settings, store)
        # 2. pause the live runners, come exactly to their positions, compare, swap
        await _set_paused(database, group, True)
        try:
            final = await _targets(projection, database, group, has_own, settings, topics, store)
            reached = await _replay(final, reached, own_replay, foreign_replay, settings, store)
            if check:
                report.differences = diff(
                    await snapshot(database, projection.collections),
                    await snapshot(database, projection.collections, REBUILD_SUFFIX),
                )
            if swap and not check:
                await _swap(projection, database)
                await _record_positions(database, group, final)
                report.swapped = True
        finally:
            await _set_paused(database, group, False)
    finally:
        _target_suffix.reset(token)
        await own_replay.close()
        await foreign_replay.close()
        if not report.swapped:
            for name in projection.collections:
                await database[name + REBUILD_SUFFIX].drop()
    report.records_read = own_replay.read + foreign_replay.read
    report.events_applied = own_replay.applied + foreign_replay.applied
    report.poison = own_replay.poison + foreign_replay.poison
    report.seconds = time.perf_counter() - started
    log.info(
        "projection.rebuilt",
        projection=projection.name,
        records=report.records_read,
        applied=report.events_applied,
        seconds=round(report.seconds, 3),
        differences=len(report.differences),
        swapped=report.swapped,
    )
    return report


async def check_write_index(
    index: Projection,
    *,
    settings: ServiceSettings,
    client: AsyncMongoClient[Document],
    database: Database,
    store: EventStore,
    own_contexts: Iterable[str],
    rounds: int = 4,
    repair: bool = False,
) -> RebuildReport:
    """Build a write-side collection (kept by the commands beside their appends, e.g. a uniqueness claim or an
    id index) again from the service's own events and compare it with the live one.

    Commands keep writing while this runs, so a document that differs is looked at again after the new
    collection caught up with the events stored meanwhile: only a difference that stays is reported.
    `repair` renames the rebuilt collection over the live one — only while the service is stopped.
    """
    started = time.perf_counter()
    own_handlers, _ = index.handlers.split(own_contexts)
    for name in index.collections:
        await database[name + REBUILD_SUFFIX].drop()
    await index.ensure_indexes(database, REBUILD_SUFFIX)
    replay = _Replayer(client, own_handlers)
    token = _target_suffix.set(REBUILD_SUFFIX)
    report = RebuildReport(index.name, 0, 0, 0.0)
    try:
        reached = _Positions(0, {})
        for round_no in range(rounds):
            await _sequence_if_unattended(store)
            target = _Positions(await store.head(), {})
            reached = await _replay(target, reached, replay, replay, settings, store)
            report.differences = (index.compare or diff)(
                await snapshot(database, index.collections),
                await snapshot(database, index.collections, REBUILD_SUFFIX),
            )
            if not report.differences:
                break
            if round_no < rounds - 1:
                await asyncio.sleep(0.5)  # a command between its write here and its event's position
        if repair:
            await _swap(index, database)
            report.swapped = True
    finally:
        _target_suffix.reset(token)
        if not report.swapped:
            for name in index.collections:
                await database[name + REBUILD_SUFFIX].drop()
    report.records_read, report.events_applied, report.poison = replay.read, replay.applied, replay.poison
    report.seconds = time.perf_counter() - started
    return report


async def _sequence_if_unattended(store: EventStore) -> None:
    """When no replica holds the service's lease (the service is stopped), give pending events their positions
    here, so that the check sees every stored event."""
    from .lease import Lease

    lease = Lease(store.db, "leader", ttl_seconds=5.0)
    if await lease.try_acquire():
        try:
            while await store.sequence():
                pass
        finally:
            await lease.release()


async def _targets(
    projection: Projection,
    database: Database,
    group: str,
    has_own: bool,
    settings: ServiceSettings,
    topics: Sequence[str],
    store: EventStore | None,
) -> _Positions:
    """Where the live projection is (for partitions and subscriptions it never ran: the end)."""
    live = await live_positions(projection, database, group, has_own)
    if has_own and live.own is None:
        assert store is not None
        live.own = await store.head()
    foreign = {tp: offset for tp, offset in live.foreign.items() if tp.topic in topics}
    if topics:
        for tp, highwater in (await watermarks(settings, topics)).items():
            foreign.setdefault(tp, highwater)
    return _Positions(live.own, foreign)


async def _replay(
    target: _Positions,
    reached: _Positions,
    own_replay: _Replayer,
    foreign_replay: _Replayer,
    settings: ServiceSettings,
    store: EventStore | None,
) -> _Positions:
    own = reached.own
    if target.own is not None and store is not None and (own or 0) < target.own:
        async for stored in _store_range(store, own or 0, target.own):
            own_replay.add(stored.envelope, "", -1, stored.seq or 0, stored.decode, raw=stored)
            await own_replay.flush()
        await own_replay.flush(force=True)
        own = target.own
    ranges = {
        tp: (reached.foreign.get(tp, 0), end)
        for tp, end in target.foreign.items()
        if end > reached.foreign.get(tp, 0)
    }
    if ranges:
        async for record in read_ranges(settings, ranges):
            _add_record(foreign_replay, record)
            await foreign_replay.flush()
        await foreign_replay.flush(force=True)
    return _Positions(own, {**reached.foreign, **target.foreign})


def _add_record(replay: _Replayer, record: ConsumerRecord[bytes, bytes]) -> None:
    try:
        envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or []))
    except ValueError as exc:
        replay.read += 1
        replay.poison.append(f"{record.topic}[{record.partition}]@{record.offset}: {exc}"[:300])
        replay.cannot_decode(record, exc, None, None)
        return
    replay.add(envelope, record.topic, record.partition, record.offset, envelope.decode, raw=record)


async def _store_range(store: EventStore, after: int, until: int) -> AsyncIterator[Any]:
    position = after
    while position < until:
        batch = await store.read_after(position, 1000, until=until)
        if not batch:
            return
        for stored in batch:
            yield stored
        position = batch[-1].seq or until


async def _swap(projection: Projection, database: Database) -> None:
    admin = database.client.admin
    for name in projection.collections:
        source = f"{database.name}.{name}{REBUILD_SUFFIX}"
        if name + REBUILD_SUFFIX not in await database.list_collection_names():
            await database.create_collection(name + REBUILD_SUFFIX)
        await admin.command({"renameCollection": source, "to": f"{database.name}.{name}", "dropTarget": True})


async def _record_positions(database: Database, group: str, positions: _Positions) -> None:
    """Partitions the live group never ran get the position the rebuild reached, so it goes on from there."""
    for tp, offset in positions.foreign.items():
        await database[POSITIONS].update_one(
            {"_id": position_id(group, tp.topic, tp.partition)},
            {
                "$setOnInsert": {
                    "group": group,
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "offset": offset,
                }
            },
            upsert=True,
        )
    if positions.own is not None:
        await database[SUBSCRIPTIONS].update_one(
            {"_id": group}, {"$setOnInsert": {"position": positions.own}}, upsert=True
        )


async def snapshot(
    database: Database, collections: Iterable[str], suffix: str = ""
) -> dict[str, list[Document]]:
    """The content of some collections, sorted by `_id`, for comparing a read model with another."""
    result: dict[str, list[Document]] = {}
    for name in collections:
        result[name] = [doc async for doc in database[name + suffix].find({}).sort("_id", 1)]
    return result


def diff(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    """What differs between two snapshots (live, rebuilt), down to the fields of the changed documents."""
    out = []
    for name in before:
        old = {d["_id"]: d for d in before[name]}
        new = {d["_id"]: d for d in after.get(name, [])}
        if old == new:
            continue
        changed = []
        for key in sorted(set(old) & set(new), key=str):
            if old[key] != new[key]:
                fields = sorted(
                    k for k in set(old[key]) | set(new[key]) if old[key].get(k) != new[key].get(k)
                )
                changed.append(
                    f"{key}: " + ", ".join(f"{f} {old[key].get(f)!r} → {new[key].get(f)!r}" for f in fields)
                )
        out.append(
            f"{name}: missing {sorted(set(old) - set(new), key=str)[:5]}, "
            f"extra {sorted(set(new) - set(old), key=str)[:5]}, changed {changed[:5]}"
        )
    return out
