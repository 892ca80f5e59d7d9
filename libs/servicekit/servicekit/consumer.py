"""Consumers: handlers of events, applied exactly once, with bounded retries and dead letters.

Two kinds of runner feed the same `EventHandlers`:

- `ConsumerRunner` reads other contexts' integration events from Kafka in a consumer group. Its position
  (the next offset of each partition) lives in the service's own database (`consumer_positions`) and moves
  in the same transaction as the handlers' writes and the marks `(group, event id)` in `processed_events`
  that make a redelivered or re-published event change nothing. On assignment a partition is read from the
  stored position (from Kafka's committed offset the first time, for consumers that ran before positions
  were stored). The position write is conditional: a consumer that lost its partition to another one, or a
  rebuild that paused the group, makes the transaction fail instead of writing twice.
- `StoreSubscription` (servicekit.subscription) reads the service's own events from its event store in log
  order, for the service's own projections: internal events never go through Kafka.

A handler that keeps failing is retried `max_attempts` times with exponential backoff, then the record is
dead-lettered (`<topic>.dlq` with the error in its headers) and the stream goes on. A record is
dead-lettered once per group (`servicekit.dlq.KafkaDeadLetters`): met again (after a fence, in a rebuild) it
is counted. A record whose type is handled in another major version than any registered model (an unknown
major) is dead-lettered at once, not skipped; older majors are upcast (`events.registry`) and reach the
handler of the current one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from events import DomainEvent, Envelope, UnknownEventType, registry
from events.registry import parse_type_name
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import DuplicateKeyError

from .dlq import KafkaDeadLetters
from .eventstore import Fenced
from .kafka import create_consumer
from .logging import causation_id_var, correlation_id_var, get_logger
from .metrics import (
    CONSUMER_DEAD_LETTERS,
    CONSUMER_HANDLED,
    CONSUMER_LAG,
    CONSUMER_LAST_PROGRESS,
    CONSUMER_RETRIES,
)
from .mongo import Database, Document, Session, in_transaction
from .settings import ServiceSettings

log = get_logger(__name__)

PROCESSED = "processed_events"
POSITIONS = "consumer_positions"

E = TypeVar("E", bound=DomainEvent)


class _AlreadyProcessed(Exception):
    pass


class UnknownMajor(Exception):
    """A record of a type whose event is handled here, but in a major version nobody registered."""


@dataclass(frozen=True)
class ReceivedEvent:
    envelope: Envelope
    event: DomainEvent
    topic: str
    partition: int
    offset: int  # the Kafka offset, or the store position (seq) for the service's own events


Handler = Callable[[ReceivedEvent, Session], Awaitable[None]]
IdempotentHandler = Callable[[ReceivedEvent], Awaitable[None]]


class EventHandlers:
    """A routing table from event types to handlers: `@handlers.on(OrderPaid)`.

    A handler registered with `on` runs inside the consumer's transaction, which also records the consumer's
    position: its effect happens exactly once. A handler registered with `on_idempotent` runs outside it, in
    as many transactions of its own as it likes (one large event, many small commands), before the position
    is recorded: after a crash it runs again, so each of its steps must be idempotent.

    Routing follows the upcasters: a record of an older major reaches the handler of the newest one.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._idempotent: dict[str, list[IdempotentHandler]] = {}
        self._routes: dict[str, str | None] = {}

    def on(self, *event_types: type[DomainEvent]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event_type in event_types:
                self._handlers.setdefault(event_type.type_name(), []).append(handler)
            self._routes.clear()
            return handler

        return register

    def on_idempotent(
        self, *event_types: type[DomainEvent]
    ) -> Callable[[IdempotentHandler], IdempotentHandler]:
        def register(handler: IdempotentHandler) -> IdempotentHandler:
            for event_type in event_types:
                self._idempotent.setdefault(event_type.type_name(), []).append(handler)
            self._routes.clear()
            return handler

        return register

    @property
    def type_names(self) -> set[str]:
        return set(self._handlers) | set(self._idempotent)

    def route(self, type_name: str) -> str | None:
        """The registered type name that handles records of `type_name` (after upcasting), or None.

        Raises `UnknownMajor` for a major of a handled event that no model or upcaster knows."""
        if type_name in self._routes:
            found = self._routes[type_name]
        else:
            found = None
            current = registry.current_type(type_name)
            for name in self.type_names:
                if name == current or registry.current_type(name) == current:
                    found = name
                    break
            self._routes[type_name] = found
        if found is None and type_name not in registry:
            try:
                context, name, _ = parse_type_name(type_name)
            except ValueError:
                return None
            prefix = f"{context}.{name}.v"
            if any(handled.startswith(prefix) for handled in self.type_names):
                raise UnknownMajor(
                    f"{type_name}: a major version this service does not know (upgrade it first)"
                )
        return found

    def handles(self, type_name: str) -> bool:
        try:
            return self.route(type_name) is not None
        except UnknownMajor:
            return True

    def idempotent_for(self, type_name: str) -> list[IdempotentHandler]:
        route = self.route(type_name)
        return self._idempotent.get(route, []) if route else []

    @property
    def contexts(self) -> set[str]:
        return {name.split(".", 1)[0] for name in self.type_names}

    @property
    def topics(self) -> list[str]:
        """The topics of the handled types (each type's model says its topic)."""
        topics = set()
        for name in self.type_names:
            try:
                topics.add(registry.model_for(name).topic())
            except UnknownEventType:
                topics.add(registry.topic_for(name))
        return sorted(topics)

    def split(self, own_contexts: Iterable[str]) -> tuple[EventHandlers, EventHandlers]:
        """(handlers of the service's own events, handlers of other contexts' events)."""
        own, foreign = EventHandlers(), EventHandlers()
        mine = set(own_contexts)
        for table, attr in ((self._handlers, "_handlers"), (self._idempotent, "_idempotent")):
            for name, handlers in table.items():
                target = own if name.split(".", 1)[0] in mine else foreign
                getattr(target, attr)[name] = list(handlers)
        return own, foreign

    def __bool__(self) -> bool:
        return bool(self._handlers or self._idempotent)

    async def dispatch(self, received: ReceivedEvent, session: Session) -> None:
        route = self.route(received.envelope.type)
        for handler in self._handlers.get(route, []) if route else []:
            await handler(received, session)


@contextlib.contextmanager
def event_context(envelope: Envelope) -> Any:
    """Log lines and new events of a handler carry the event's correlation and causation."""
    tokens = (
        correlation_id_var.set(envelope.correlation_id or envelope.id),
        causation_id_var.set(envelope.id),
    )
    try:
        with structlog.contextvars.bound_contextvars(event_id=envelope.id, event_type=envelope.type):
            yield
    finally:
        correlation_id_var.reset(tokens[0])
        causation_id_var.reset(tokens[1])


@dataclass
class Item:
    """One record of a batch: where the position goes after it, and the event if a handler wants it."""

    position_after: int
    received: ReceivedEvent | None
    raw: Any = None  # what to dead-letter (the Kafka record, or the stored event)
    poison: BaseException | None = None  # undecodable: dead-letter without trying


class Applier:
    """Applies a batch of items through handlers, in transactions that also move a position.

    `move(session, position)` writes the position conditionally (raising `Fenced` when it cannot);
    `dead_letter(item, error, attempts)` gives an item up. With `dedupe`, the marks `(group, event id)` make a
    redelivered event change nothing (Kafka); the store's own log has no duplicates and needs none.
    """

    def __init__(
        self,
        *,
        client: AsyncMongoClient[Document],
        database: Database,
        group: str,
        handlers: EventHandlers,
        service: str,
        max_attempts: int,
        backoff_seconds: float,
        dedupe: bool,
        move: Callable[[Session, int], Awaitable[None]],
        moved: Callable[[int], None],
        dead_letter: Callable[[Item, BaseException, int], Awaitable[None]],
    ) -> None:
        self.client = client
        self.db = database
        self.group = group
        self.handlers = handlers
        self.service = service
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.dedupe = dedupe
        self.move = move  # writes the position in the transaction (conditionally)
        self.moved = moved  # told once that transaction committed
        self.dead_letter = dead_letter
        self.handled = 0
        self.dead_lettered = 0
        self.retried = 0

    async def apply(self, items: Sequence[Item]) -> None:
        """Everything of `items` in order: runs of transactional work in one transaction each, an item with
        idempotent handlers on its own, a failing run record by record (retried, then dead-lettered)."""
        run: list[Item] = []
        for item in items:
            special = item.poison is not None or (
                item.received is not None and self.handlers.idempotent_for(item.received.envelope.type)
            )
            if special:
                if run:
                    await self._apply_run(run)
                    run = []
                await self._apply_one(item)
            else:
                run.append(item)
        if run:
            await self._apply_run(run)

    async def _apply_run(self, run: Sequence[Item]) -> None:
        if len(run) > 1 or run[0].received is None:
            try:
                await self._transaction(run, attempts=2)
                return
            except (Fenced, asyncio.CancelledError):
                raise
            except Exception as exc:
                if not any(item.received is not None for item in run):
                    raise  # nothing of ours failed: the database did
                log.info("consumer.batch_fallback", group=self.group, size=len(run), error=repr(exc)[:300])
        for item in run:
            await self._apply_one(item)

    async def _transaction(self, items: Sequence[Item], attempts: int = 5) -> int:
        applied = await in_transaction(self.client, lambda tx: self._work(items, tx), attempts=attempts)
        self.moved(items[-1].position_after)
        self._count(applied)
        return applied

    def _count(self, applied: int) -> None:
        if applied:
            self.handled += applied
            CONSUMER_HANDLED.labels(self.service, self.group).inc(applied)

    async def _work(self, items: Sequence[Item], session: Session) -> int:
        await self.move(session, items[-1].position_after)
        received = [i.received for i in items if i.received is not None]
        if not received:
            return 0
        done: set[str] = set()
        if self.dedupe:
            ids = [f"{self.group}:{r.envelope.id}" for r in received]
            done = {
                d["_id"]
                async for d in self.db[PROCESSED].find({"_id": {"$in": ids}}, {"_id": 1}, session=session)
            }
        marks = []
        for r in received:
            mark_id = f"{self.group}:{r.envelope.id}"
            if mark_id in done:
                continue
            done.add(mark_id)
            with event_context(r.envelope):
                await self.handlers.dispatch(r, session)
            if self.dedupe:
                marks.append(self._mark(mark_id, r))
        if marks:
            try:
                await self.db[PROCESSED].insert_many(marks, ordered=False, session=session)
            except DuplicateKeyError as exc:  # a concurrent delivery won the race; this transaction is dead
                raise _AlreadyProcessed from exc
        return len(marks) if self.dedupe else len(received)

    def _mark(self, mark_id: str, received: ReceivedEvent) -> Document:
        return {
            "_id": mark_id,
            "group": self.group,
            "event_id": received.envelope.id,
            "type": received.envelope.type,
            "at": datetime.now(UTC),
        }

    async def _already_processed(self, received: ReceivedEvent) -> bool:
        if not self.dedupe:
            return False
        return bool(
            await self.db[PROCESSED].find_one({"_id": f"{self.group}:{received.envelope.id}"}, {"_id": 1})
        )

    async def _apply_one(self, item: Item) -> None:
        """One item with its retries; dead-lettered (and the position moved past it) when it keeps failing."""
        if item.poison is not None:
            await self._give_up(item, item.poison, 1)
            return
        received = item.received
        if received is None:
            await self._transaction([item])
            return
        idempotent = self.handlers.idempotent_for(received.envelope.type)
        for attempt in range(1, self.max_attempts + 1):
            try:
                if idempotent and not await self._already_processed(received):
                    with event_context(received.envelope):
                        for handler in idempotent:
                            await handler(received)
                await self._transaction([item], attempts=5)
                return
            except Fenced:
                raise
            except _AlreadyProcessed:  # another delivery won the race: the next attempt finds its mark
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "consumer.handler_failed",
                    group=self.group,
                    attempt=attempt,
                    event_id=received.envelope.id,
                    event_type=received.envelope.type,
                    error=repr(exc)[:500],
                )
                if attempt == self.max_attempts:
                    await self._give_up(item, exc, attempt)
                    return
                self.retried += 1
                CONSUMER_RETRIES.labels(self.service, self.group).inc()
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        await self._transaction([item])  # the last attempt lost a race to another delivery: its mark is there

    async def _give_up(self, item: Item, exc: BaseException, attempts: int) -> None:
        await self.dead_letter(item, exc, attempts)
        self.dead_lettered += 1
        await in_transaction(self.client, lambda tx: self.move(tx, item.position_after))
        self.moved(item.position_after)


def error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner, consumer: AIOKafkaConsumer) -> None:
        self.runner = runner
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self.runner._stored.pop(tp, None)
            self.runner._lag.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        for tp in assigned:
            await self.runner._seek_to_stored(self.consumer, tp)


class ConsumerRunner:
    """One consumer group on Kafka, its positions and marks in the service's database (see the module)."""

    def __init__(
        self,
        *,
        settings: ServiceSettings,
        client: AsyncMongoClient[Document],
        database: Database,
        group_id: str,
        handlers: EventHandlers,
        producer: AIOKafkaProducer,
        topics: Iterable[str] | None = None,
        max_attempts: int | None = None,
        backoff_seconds: float | None = None,
        on_handled: Callable[[], None] | None = None,
        batch_size: int = 100,
    ) -> None:
        self.settings = settings
        self.client = client
        self.db = database
        self.group_id = group_id
        self.handlers = handlers
        self.producer = producer
        self.topics = sorted(set(topics) if topics is not None else handlers.topics)
        self.on_handled = on_handled
        self.batch_size = batch_size
        self.ready = asyncio.Event()
        self.last_progress = time.monotonic()
        self._stored: dict[
            TopicPartition, int
        ] = {}  # the position as stored (the condition of the next write)
        self._lag: dict[TopicPartition, int] = {}
        self._service = settings.service_name
        self.applier = Applier(
            client=client,
            database=database,
            group=group_id,
            handlers=handlers,
            service=self._service,
            max_attempts=max_attempts or settings.consumer_max_attempts,
            backoff_seconds=(
                backoff_seconds if backoff_seconds is not None else settings.consumer_backoff_seconds
            ),
            dedupe=True,
            move=self._move,
            moved=self._moved,
            dead_letter=self._dead_letter,
        )
        self._current: TopicPartition | None = None
        self.dead_letters = KafkaDeadLetters(settings, database, group_id, producer)

    # ------------------------------------------------------------------ figures

    @property
    def handled(self) -> int:
        return self.applier.handled

    @property
    def dead_lettered(self) -> int:
        return self.applier.dead_lettered

    @property
    def lag(self) -> int:
        return sum(self._lag.values())

    def stalled(self, stall_seconds: float) -> bool:
        return self.lag > 0 and time.monotonic() - self.last_progress > stall_seconds

    @staticmethod
    async def ensure_indexes(database: Database, *, marks_days: int = 30) -> None:
        await database[PROCESSED].create_indexes(
            [
                IndexModel([("group", ASCENDING)], name="group"),
                IndexModel([("at", ASCENDING)], name="marks_ttl", expireAfterSeconds=marks_days * 86_400),
            ]
        )
        await database[POSITIONS].create_index([("group", ASCENDING)], name="group")

    # ------------------------------------------------------------------ positions

    def _position_id(self, tp: TopicPartition) -> str:
        return position_id(self.group_id, tp.topic, tp.partition)

    async def _seek_to_stored(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        doc = await self.db[POSITIONS].find_one({"_id": self._position_id(tp)})
        if doc is None:
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
                committed = await consumer.position(tp)
            marker = await self.db[POSITIONS].find_one({"_id": position_id(self.group_id, "*", -1)})
            with contextlib.suppress(DuplicateKeyError):
                await self.db[POSITIONS].insert_one(
                    {
                        "_id": self._position_id(tp),
                        "group": self.group_id,
                        "topic": tp.topic,
                        "partition": tp.partition,
                        "offset": committed,
                        "paused": bool(marker and marker.get("paused")),  # a rebuild may hold the group
                    }
                )
            doc = await self.db[POSITIONS].find_one({"_id": self._position_id(tp)})
            assert doc is not None
        self._stored[tp] = int(doc["offset"])
        consumer.seek(tp, int(doc["offset"]))

    async def _move(self, session: Session, position: int) -> None:
        tp = self._current
        assert tp is not None
        stored = self._stored.get(tp)
        moved = await self.db[POSITIONS].update_one(
            {"_id": self._position_id(tp), "offset": stored, "paused": {"$ne": True}},
            {"$set": {"offset": position}},
            session=session,
        )
        if moved.matched_count != 1:
            raise Fenced(
                f"{self.group_id} {tp.topic}[{tp.partition}]: position moved from {stored} or paused"
            )

    def _moved(self, position: int) -> None:
        assert self._current is not None
        self._stored[self._current] = position

    # ------------------------------------------------------------------ records

    def items_of(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Item]:
        items: list[Item] = []
        for record in records:
            item = Item(position_after=record.offset + 1, received=None, raw=record)
            try:
                envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or []))
                if self.handlers.route(envelope.type) is not None:
                    item.received = ReceivedEvent(
                        envelope, envelope.decode(), record.topic, record.partition, record.offset
                    )
            except (UnknownEventType, UnknownMajor, ValueError) as exc:
                item.poison = exc
            items.append(item)
        return items

    async def handle_records(
        self, tp: TopicPartition, records: Sequence[ConsumerRecord[bytes, bytes]]
    ) -> None:
        self._current = tp
        items = self.items_of(records)
        started = time.monotonic()
        before = self.handled
        await self.applier.apply(items)
        self.last_progress = time.monotonic()
        CONSUMER_LAST_PROGRESS.labels(self._service, self.group_id).set(time.time())
        if self.handled > before and self.on_handled is not None:
            self.on_handled()
        seconds = time.monotonic() - started
        if seconds > self.settings.consumer_slow_batch_seconds:
            log.warning(
                "consumer.slow_batch",
                group=self.group_id,
                topic=tp.topic,
                partition=tp.partition,
                records=len(records),
                applied=self.handled - before,
                seconds=round(seconds, 2),
                types=sorted({i.received.envelope.type for i in items if i.received is not None})[:5],
            )

    async def handle_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Records of one partition (tests and tools; the loop uses `handle_records`)."""
        if records:
            tp = TopicPartition(records[0].topic, records[0].partition)
            if tp not in self._stored:
                doc = await self.db[POSITIONS].find_one({"_id": self._position_id(tp)})
                if doc is None:
                    await self.db[POSITIONS].update_one(
                        {"_id": self._position_id(tp)},
                        {
                            "$setOnInsert": {
                                "group": self.group_id,
                                "topic": tp.topic,
                                "partition": tp.partition,
                                "offset": records[0].offset,
                                "paused": False,
                            }
                        },
                        upsert=True,
                    )
                    doc = await self.db[POSITIONS].find_one({"_id": self._position_id(tp)})
                assert doc is not None
                self._stored[tp] = int(doc["offset"])
            await self.handle_records(tp, records)

    async def _dead_letter(self, item: Item, exc: BaseException, attempts: int) -> None:
        record: ConsumerRecord[bytes, bytes] = item.raw
        if await self.dead_letters.send(record, error_text(exc), attempts):
            CONSUMER_DEAD_LETTERS.labels(self._service, self.group_id, record.topic).inc()

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until `stop` is set. A failure of the broker or the database restarts the consumer after a
        pause: it reads again from the stored positions."""
        stop = stop or asyncio.Event()
        pause = 1.0
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self._consume(stop)
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if time.monotonic() - started > 60:  # it had been working: a new failure starts over
                    pause = 1.0
                log.warning("consumer.restarting", group=self.group_id, error=repr(exc)[:300], pause=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer: AIOKafkaConsumer = create_consumer(self.settings, group_id=self.group_id)
        consumer.subscribe(self.topics, listener=_Rebalance(self, consumer))
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                if consumer.assignment():
                    self.ready.set()
                self._update_lag(consumer)  # before the work: a batch that hangs shows as waiting work
                for tp, records in batch.items():
                    try:
                        for start in range(0, len(records), self.batch_size):
                            await self.handle_records(tp, records[start : start + self.batch_size])
                    except Fenced as exc:
                        log.info("consumer.fenced", group=self.group_id, reason=str(exc))
                        await asyncio.sleep(0.5)
                        await self._seek_to_stored(consumer, tp)
                self._update_lag(consumer)
                if batch:
                    with contextlib.suppress(Exception):  # positions live in the database; this is for tools
                        await consumer.commit()
                elif not self.lag:
                    self.last_progress = time.monotonic()
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            stored = self._stored.get(tp)
            if highwater is None or stored is None:
                continue
            self._lag[tp] = max(0, highwater - stored)
            CONSUMER_LAG.labels(self._service, self.group_id, tp.topic, str(tp.partition)).set(self._lag[tp])


def position_id(group: str, topic: str, partition: int) -> str:
    return f"{group}|{topic}|{partition}"


def run_in_background(coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
    """Start a long-running task whose crash is logged instead of lost."""

    async def guarded() -> Any:
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("task.crashed", task=name)
            raise

    return asyncio.get_running_loop().create_task(guarded(), name=name)
