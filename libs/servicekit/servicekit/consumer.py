"""Consumer runner: consumer groups, commit after processing, exactly-once effects, retries, dead letters.

Each record is handled in one MongoDB transaction that also inserts the mark `(group, event id)` into
`processed_events`: a redelivered event finds its mark and changes nothing. A handler that keeps failing is
retried `max_attempts` times with exponential backoff, then the record goes to `<topic>.dlq` with the error
in its headers and the stream goes on. Offsets are committed only after the records were handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from events import DomainEvent, Envelope, UnknownEventType
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from .kafka import DLQ_SUFFIX, create_consumer
from .logging import causation_id_var, correlation_id_var, get_logger
from .mongo import Database, Document, Session, in_transaction
from .settings import ServiceSettings

log = get_logger(__name__)

PROCESSED = "processed_events"

E = TypeVar("E", bound=DomainEvent)


class _AlreadyProcessed(Exception):
    pass


@dataclass(frozen=True)
class ReceivedEvent:
    envelope: Envelope
    event: DomainEvent
    topic: str
    partition: int
    offset: int


Handler = Callable[[ReceivedEvent, Session], Awaitable[None]]
IdempotentHandler = Callable[[ReceivedEvent], Awaitable[None]]


class EventHandlers:
    """A routing table from event types to handlers: `@handlers.on(OrderPaid)`.

    A handler registered with `on` runs inside the consumer's transaction, which also records the consumer's
    position: its effect happens exactly once. A handler registered with `on_idempotent` runs outside it, in
    as many transactions of its own as it likes (one large event, many small commands), before the position
    is recorded: after a crash it runs again, so each of its steps must be idempotent.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._idempotent: dict[str, list[IdempotentHandler]] = {}

    def on(self, *event_types: type[DomainEvent]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event_type in event_types:
                self._handlers.setdefault(event_type.type_name(), []).append(handler)
            return handler

        return register

    def on_idempotent(
        self, *event_types: type[DomainEvent]
    ) -> Callable[[IdempotentHandler], IdempotentHandler]:
        def register(handler: IdempotentHandler) -> IdempotentHandler:
            for event_type in event_types:
                self._idempotent.setdefault(event_type.type_name(), []).append(handler)
            return handler

        return register

    def handles(self, type_name: str) -> bool:
        return type_name in self._handlers or type_name in self._idempotent

    @property
    def topics(self) -> list[str]:
        return sorted({name.split(".", 1)[0] + ".events" for name in self._handlers})

    async def dispatch(self, received: ReceivedEvent, session: Session) -> None:
        for handler in self._handlers.get(received.envelope.type, []):
            await handler(received, session)


class ConsumerRunner:
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
        self.max_attempts = max_attempts or settings.consumer_max_attempts
        self.backoff_seconds = (
            backoff_seconds if backoff_seconds is not None else settings.consumer_backoff_seconds
        )
        self.on_handled = on_handled
        self.batch_size = batch_size
        self.handled = 0
        self.dead_lettered = 0
        self.ready = asyncio.Event()

    @staticmethod
    async def ensure_indexes(database: Database) -> None:
        await database[PROCESSED].create_index("group")

    async def handle_record(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Handle one record; returns "handled", "duplicate", "skipped" or "dead-lettered"."""
        try:
            envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or []))
        except ValueError as exc:
            await self._dead_letter(record, exc, attempts=1)
            return "dead-lettered"
        if not self.handlers.handles(envelope.type):
            return "skipped"
        try:
            event = envelope.decode()
        except (UnknownEventType, ValueError) as exc:
            await self._dead_letter(record, exc, attempts=1)
            return "dead-lettered"
        received = ReceivedEvent(envelope, event, record.topic, record.partition, record.offset)
        tokens = (
            correlation_id_var.set(envelope.correlation_id or envelope.id),
            causation_id_var.set(envelope.id),
        )
        try:
            with structlog.contextvars.bound_contextvars(event_id=envelope.id, event_type=envelope.type):
                for attempt in range(1, self.max_attempts + 1):
                    try:
                        outcome = await in_transaction(self.client, lambda tx: self._apply(received, tx))
                    except _AlreadyProcessed:
                        return "duplicate"
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        log.warning(
                            "consumer.handler_failed", group=self.group_id, attempt=attempt, error=repr(exc)
                        )
                        if attempt == self.max_attempts:
                            await self._dead_letter(record, exc, attempts=attempt)
                            return "dead-lettered"
                        await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                        continue
                    if outcome == "handled":
                        self.handled += 1
                        if self.on_handled is not None:
                            self.on_handled()
                    return outcome
        finally:
            correlation_id_var.reset(tokens[0])
            causation_id_var.reset(tokens[1])
        return "dead-lettered"  # pragma: no cover - the loop always returns

    async def handle_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Handle records in one transaction (one dedupe query, one insert of marks); on any failure fall
        back to one transaction per record, where the retries and the dead-lettering happen."""
        batch: list[ReceivedEvent] = []
        for record in records:
            try:
                envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or []))
                if not self.handlers.handles(envelope.type):
                    continue
                batch.append(
                    ReceivedEvent(envelope, envelope.decode(), record.topic, record.partition, record.offset)
                )
            except (UnknownEventType, ValueError):
                batch = []
                break
        else:
            if len(batch) <= 1:
                batch = []
        if batch:
            try:
                handled = await in_transaction(
                    self.client, lambda tx: self._apply_many(batch, tx), attempts=2
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("consumer.batch_fallback", group=self.group_id, size=len(batch), error=repr(exc))
            else:
                self.handled += handled
                if handled and self.on_handled is not None:
                    self.on_handled()
                return
        for record in records:
            await self.handle_record(record)

    async def _apply_many(self, batch: Sequence[ReceivedEvent], session: Session) -> int:
        ids = [f"{self.group_id}:{r.envelope.id}" for r in batch]
        done = {
            d["_id"]
            async for d in self.db[PROCESSED].find({"_id": {"$in": ids}}, {"_id": 1}, session=session)
        }
        marks = []
        for mark_id, received in zip(ids, batch, strict=True):
            if mark_id in done:
                continue
            done.add(mark_id)
            tokens = (
                correlation_id_var.set(received.envelope.correlation_id or received.envelope.id),
                causation_id_var.set(received.envelope.id),
            )
            try:
                await self.handlers.dispatch(received, session)
            finally:
                correlation_id_var.reset(tokens[0])
                causation_id_var.reset(tokens[1])
            marks.append(
                {
                    "_id": mark_id,
                    "group": self.group_id,
                    "event_id": received.envelope.id,
                    "type": received.envelope.type,
                    "at": datetime.now(UTC),
                }
            )
        if marks:
            await self.db[PROCESSED].insert_many(marks, ordered=False, session=session)
        return len(marks)

    async def _apply(self, received: ReceivedEvent, session: Session) -> str:
        mark = {
            "_id": f"{self.group_id}:{received.envelope.id}",
            "group": self.group_id,
            "event_id": received.envelope.id,
            "type": received.envelope.type,
            "at": datetime.now(UTC),
        }
        if await self.db[PROCESSED].find_one({"_id": mark["_id"]}, {"_id": 1}, session=session):
            return "duplicate"
        try:
            await self.db[PROCESSED].insert_one(mark, session=session)
        except DuplicateKeyError as exc:  # a concurrent delivery won the race; this transaction is dead
            raise _AlreadyProcessed from exc
        await self.handlers.dispatch(received, session)
        return "handled"

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], exc: BaseException, attempts: int
    ) -> None:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        headers = [(k, v) for k, v in (record.headers or []) if not k.startswith("dlq_")]
        headers += [
            ("dlq_error", error[:4000].encode()),
            ("dlq_group", self.group_id.encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        topic = record.topic if record.topic.endswith(DLQ_SUFFIX) else record.topic + DLQ_SUFFIX
        await (await self.producer.send(topic, value=record.value, key=record.key, headers=headers))
        self.dead_lettered += 1
        log.error("consumer.dead_lettered", group=self.group_id, topic=topic, error=error)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until `stop` is set; commits after each handled batch. A failure of the broker or the
        database restarts the consumer after a pause: uncommitted records come again and are de-duplicated."""
        stop = stop or asyncio.Event()
        pause = 1.0
        while not stop.is_set():
            try:
                await self._consume(stop)
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer.restarting", group=self.group_id, error=repr(exc), pause=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer: AIOKafkaConsumer = create_consumer(self.settings, *self.topics, group_id=self.group_id)
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                if consumer.assignment():
                    self.ready.set()
                for records in batch.values():
                    for start in range(0, len(records), self.batch_size):
                        await self.handle_batch(records[start : start + self.batch_size])
                if batch:
                    await consumer.commit()
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


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
