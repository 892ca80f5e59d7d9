"""A subscription to the service's own event store: its own projections and policies read its own events here,
in log order (the store's sequence), never through Kafka — internal events do not leave the service.

The position lives in `subscriptions` (`{_id: name, position, paused}`) and moves in the same transaction as
the handlers' writes, conditionally (`position` as read, not `paused`): a second runner of the same
subscription, or a rebuild that paused it, makes the transaction fail instead of applying twice. Only the
holder of the service's lease runs it (the same replica that sequences and relays). An event that keeps
failing is recorded in `dead_letters` (with the error) and skipped; `python -m servicekit.dlq list --store`
shows them. An event is dead-lettered once per subscription: met again (after a fence, or by a rebuild) its
letter only counts it (`seen`, `last_seen_at`). An event of a handled type in a major version nobody
registered (written by a newer version of the service) is read too, and dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from events import UnknownEventType, registry
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from .consumer import Applier, EventHandlers, Item, ReceivedEvent, UnknownMajor, error_text, event_context
from .eventstore import EVENTS, EventStore, Fenced, StoredEvent
from .lease import Lease
from .logging import get_logger
from .metrics import CONSUMER_DEAD_LETTERS, CONSUMER_LAST_PROGRESS
from .mongo import Database, Document, Session, in_transaction
from .settings import ServiceSettings

log = get_logger(__name__)

SUBSCRIPTIONS = "subscriptions"
STORE_DEAD_LETTERS = "dead_letters"


async def record_store_letter(
    database: Database, *, subscription: str, stored: StoredEvent, error: str, attempts: int
) -> bool:
    """Record that `subscription` gave up on `stored` (True), or, if it did before, count it as met again."""
    key = f"{subscription}:{stored.envelope.id}"
    now = datetime.now(UTC)
    letters = database[STORE_DEAD_LETTERS]
    existing = await letters.find_one({"_id": key}, {"seen": 1})
    if existing is None:
        letter: Document = {
            "_id": key,
            "subscription": subscription,
            "event_id": stored.envelope.id,
            "type": stored.envelope.type,
            "stream_id": stored.stream_id,
            "seq": stored.seq,
            "error": error[:4000],
            "attempts": attempts,
            "failed_at": now,
            "seen": 1,
            "last_seen_at": now,
            "replayed": False,
        }
        try:
            await letters.insert_one(letter)
        except DuplicateKeyError:
            existing = {}
        else:
            log.error(
                "subscription.dead_lettered",
                subscription=subscription,
                event_id=stored.envelope.id,
                event_type=stored.envelope.type,
                seq=stored.seq,
                error=error[:500],
            )
            return True
    await letters.update_one(
        {"_id": key}, {"$inc": {"seen": 1}, "$set": {"last_seen_at": now, "last_error": error[:4000]}}
    )
    log.warning(
        "dead_letter.seen_again",
        subscription=subscription,
        event_id=stored.envelope.id,
        event_type=stored.envelope.type,
        seq=stored.seq,
        seen=int(existing.get("seen", 1)) + 1,
        error=error[:300],
    )
    return False


class StoreSubscription:
    def __init__(
        self,
        *,
        name: str,
        store: EventStore,
        handlers: EventHandlers,
        settings: ServiceSettings,
        lease: Lease | None = None,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
    ) -> None:
        self.name = name
        self.group_id = name
        self.store = store
        self.db = store.db
        self.handlers = handlers
        self.settings = settings
        self.lease = lease
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._stored: int | None = None
        self.head = 0
        self.last_progress = time.monotonic()
        self.ready = asyncio.Event()
        self.applier = Applier(
            client=store.client,
            database=store.db,
            group=name,
            handlers=handlers,
            service=settings.service_name,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
            dedupe=False,
            move=self._move,
            moved=self._moved,
            dead_letter=self._dead_letter,
        )

    @property
    def handled(self) -> int:
        return self.applier.handled

    @property
    def position(self) -> int:
        return self._stored or 0

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)

    def stalled(self, stall_seconds: float) -> bool:
        return self.lag > 0 and time.monotonic() - self.last_progress > stall_seconds

    def wake(self) -> None:
        self._wakeup.set()

    async def load_position(self) -> tuple[int, bool]:
        doc = await self.db[SUBSCRIPTIONS].find_one({"_id": self.name})
        if doc is None:
            await self.db[SUBSCRIPTIONS].update_one(
                {"_id": self.name}, {"$setOnInsert": {"position": 0, "paused": False}}, upsert=True
            )
            return 0, False
        return int(doc.get("position", 0)), bool(doc.get("paused"))

    async def _move(self, session: Session, position: int) -> None:
        moved = await self.db[SUBSCRIPTIONS].update_one(
            {"_id": self.name, "position": self._stored, "paused": {"$ne": True}},
            {"$set": {"position": position}},
            session=session,
        )
        if moved.matched_count != 1:
            raise Fenced(f"{self.name}: position moved or paused")

    def _moved(self, position: int) -> None:
        self._stored = position

    async def _dead_letter(self, item: Item, exc: BaseException, attempts: int) -> None:
        stored: StoredEvent = item.raw
        if await record_store_letter(
            self.db, subscription=self.name, stored=stored, error=error_text(exc), attempts=attempts
        ):
            CONSUMER_DEAD_LETTERS.labels(self.settings.service_name, self.name, "(store)").inc()

    async def _read_after(self, position: int, until: int) -> list[StoredEvent]:
        """The next events after `position` that the handlers want: every type except the known ones they do
        not handle, so that a major nobody registered (of a handled event) is read and dead-lettered."""
        ignored = sorted(t for t in registry.known_type_names() if not self.handlers.handles(t))
        query: Document = {"seq": {"$gt": position, "$lte": until}}
        if ignored:
            query["type"] = {"$nin": ignored}
        cursor = self.db[EVENTS].find(query).sort("seq", ASCENDING).limit(self.batch_size)
        return [StoredEvent.from_document(doc) async for doc in cursor]

    def items_of(self, batch: Sequence[StoredEvent]) -> list[Item]:
        items = []
        for stored in batch:
            assert stored.seq is not None
            item = Item(position_after=stored.seq, received=None, raw=stored)
            try:
                if self.handlers.route(stored.envelope.type) is not None:
                    item.received = ReceivedEvent(stored.envelope, stored.decode(), "", -1, stored.seq)
            except (UnknownEventType, UnknownMajor, ValueError) as exc:
                item.poison = exc
            items.append(item)
        return items

    async def replay_dead_letters(self) -> int:
        """Apply the dead letters an operator asked to replay (`python -m servicekit.dlq replay --store`)."""
        replayed = 0
        async for letter in self.db[STORE_DEAD_LETTERS].find(
            {"subscription": self.name, "replay": True, "replayed": False}
        ):
            doc = await self.db["events"].find_one({"_id": letter["event_id"]})
            if doc is None:
                continue
            stored = StoredEvent.from_document(doc)
            received = ReceivedEvent(stored.envelope, stored.decode(), "", -1, stored.seq or 0)

            async def work(
                session: Session, received: ReceivedEvent = received, letter_id: str = letter["_id"]
            ) -> None:
                with event_context(received.envelope):
                    await self.handlers.dispatch(received, session)
                await self.db[STORE_DEAD_LETTERS].update_one(
                    {"_id": letter_id},
                    {"$set": {"replayed": True, "replayed_at": datetime.now(UTC)}},
                    session=session,
                )

            try:
                await in_transaction(self.store.client, work)
                replayed += 1
            except Exception as exc:
                await self.db[STORE_DEAD_LETTERS].update_one(
                    {"_id": letter["_id"]}, {"$set": {"replay": False, "error": error_text(exc)[:4000]}}
                )
        return replayed

    async def run_once(self) -> int:
        """Apply the next batch; returns how many events were read (0: nothing new, or paused)."""
        position, paused = await self.load_position()
        self._stored = position
        if paused:
            return 0
        await self.replay_dead_letters()
        head = await self.store.head()
        self.head = max(self.head, head)
        if head <= position:
            return 0
        # Only the types it may handle (a large import of events it ignores is not read at all); when fewer
        # than a batch come back, everything up to `head` has been looked at and the position goes there.
        batch = await self._read_after(position, head)
        items = self.items_of(batch)
        if len(batch) < self.batch_size and (not batch or (batch[-1].seq or 0) < head):
            items.append(Item(position_after=head, received=None))
        started = time.monotonic()
        await self.applier.apply(items)
        self.last_progress = time.monotonic()
        CONSUMER_LAST_PROGRESS.labels(self.settings.service_name, self.name).set(time.time())
        seconds = self.last_progress - started
        if seconds > self.settings.consumer_slow_batch_seconds:
            log.warning(
                "subscription.slow_batch",
                subscription=self.name,
                events=len(batch),
                seconds=round(seconds, 2),
            )
        return len(batch) if len(batch) == self.batch_size else max(1, len(batch))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        pause = self.poll_seconds
        while not stop.is_set():
            if self.lease is not None and not self.lease.held:
                await self._sleep(stop, self.poll_seconds)
                continue
            self.ready.set()
            self._wakeup.clear()  # before the round: a wake-up during it starts the next one at once
            try:
                read = await self.run_once()
                pause = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Fenced as exc:
                log.info("subscription.fenced", subscription=self.name, reason=str(exc))
                await self._sleep(stop, 0.5)
                continue
            except Exception as exc:
                log.warning(
                    "subscription.restarting", subscription=self.name, error=repr(exc)[:300], pause=pause
                )
                await self._sleep(stop, pause)
                pause = min(pause * 2, 30.0)
                continue
            if read < self.batch_size:
                self.last_progress = time.monotonic() if read == 0 else self.last_progress
                await self._sleep(stop, self.poll_seconds)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
