"""Outbox relay: sequences the stored events and publishes the integration events to Kafka, in log order.

The event store is the outbox. One relay per service works at a time — the holder of the service's lease
(`servicekit.lease`), whatever the number of replicas. Each round it gives the pending events their positions
(`EventStore.sequence`), then publishes the integration events after its checkpoint in position order (key =
stream id, so one aggregate stays on one partition, in version order), waits for the broker's
acknowledgement of all of them, and only then moves its checkpoint (conditionally, so that a relay that lost
the lease cannot move it back). A crash between the send and the checkpoint re-sends on restart: consumers
de-duplicate by event id. Internal events are never published. Run it in-process (`OutboxRelay.run`, as every
service does) or alone: `python -m servicekit.relay --database NAME`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from .eventstore import RELAY_CHECKPOINT, STORE_META, EventStore, Fenced
from .lease import Lease
from .logging import configure_logging, get_logger
from .mongo import create_client
from .settings import ServiceSettings

log = get_logger(__name__)

SEQUENCE_BATCH = 500  # events numbered per round before the relay publishes what it numbered


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        linger_seconds: float = 0.01,
        lease: Lease | None = None,
    ) -> None:
        self.store = store
        self.producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        # After a wake-up, wait this long so that one round picks up the events of several commands.
        self.linger_seconds = linger_seconds
        self.lease = lease
        self._wakeup = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []
        self.published_total = 0
        self.sequenced_total = 0

    def wake(self) -> None:
        self._wakeup.set()

    def on_sequenced(self, listener: Callable[[], None]) -> None:
        """Called after each round that gave events their positions (the store's own subscriptions)."""
        self._listeners.append(listener)

    async def checkpoint(self) -> int:
        doc = await self.store.db[STORE_META].find_one({"_id": RELAY_CHECKPOINT})
        return int(doc["position"]) if doc else 0

    async def sequence_once(self) -> int:
        """One sequencing round (at most `SEQUENCE_BATCH` events); tells the listeners."""
        sequenced = await self.store.sequence(SEQUENCE_BATCH)
        if sequenced:
            self.sequenced_total += sequenced
            for listener in self._listeners:
                listener()
        return sequenced

    async def publish_once(self) -> int:
        """Publish the next batch of integration events; returns how many were published."""
        position = await self.checkpoint()
        batch = await self.store.read_after(position, self.batch_size, public_only=True)
        if not batch:
            return 0
        futures = []
        for item in batch:
            key, value, headers = item.envelope.to_kafka()
            futures.append(await self.producer.send(item.topic, value=value, key=key, headers=headers))
        await asyncio.gather(*futures)
        last = batch[-1].seq
        assert last is not None
        moved = await self.store.db[STORE_META].update_one(
            {"_id": RELAY_CHECKPOINT, "position": position} if position else {"_id": RELAY_CHECKPOINT},
            {"$set": {"position": last}},
            upsert=not position,
        )
        if position and moved.matched_count != 1:
            raise Fenced("another relay moved the checkpoint")
        self.published_total += len(batch)
        return len(batch)

    async def run_once(self) -> int:
        """Sequence and publish until nothing is left, one sequencing round at a time, publishing what it
        numbered in between (a burst of appends never holds back what was stored before it); returns how many
        events were published."""
        published = 0
        while True:
            sequenced = await self.sequence_once()
            while True:
                n = await self.publish_once()
                published += n
                if n < self.batch_size:
                    break
            if sequenced < SEQUENCE_BATCH:
                return published

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        backoff = self.poll_seconds
        while not stop.is_set():
            if self.lease is not None and not self.lease.held:
                await self._sleep(stop, self.poll_seconds)
                continue
            self._wakeup.clear()  # before the round: a wake-up during it starts the next one at once
            try:
                await self.run_once()
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Fenced as exc:  # someone else did it: look again soon
                log.info("relay.fenced", reason=str(exc))
                continue
            except Exception as exc:  # the broker or the database is away: wait and try again
                log.warning("relay.publish_failed", error=repr(exc)[:300], retry_in=backoff)
                await self._sleep(stop, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            woken = await self._sleep(stop, self.poll_seconds)
            if woken:
                await asyncio.sleep(self.linger_seconds)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> bool:
        """Wait for a wake-up, `stop` or `seconds`; returns whether it was woken."""
        waiters = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
        try:
            done, _ = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return waiters[0] in done


async def _main(args: argparse.Namespace) -> None:
    settings = ServiceSettings()
    configure_logging("relay", settings.log_level, settings.log_json)
    client = create_client(settings.mongo_url)
    database = client[args.database]
    store = EventStore(client, database, source=args.source or args.database)
    await store.ensure_indexes()
    from .kafka import create_producer

    producer = create_producer(settings)
    await producer.start()
    stop = asyncio.Event()
    lease = Lease(database, "relay", ttl_seconds=settings.lease_ttl_seconds)
    relay = OutboxRelay(
        store, producer, batch_size=args.batch_size, poll_seconds=settings.relay_poll_seconds, lease=lease
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    keeper = asyncio.create_task(lease.keep(stop))
    try:
        await lease.try_acquire()
        await relay.run(stop)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await keeper
        await producer.stop()
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Sequence a service's stored events and publish them to Kafka."
    )
    parser.add_argument("--database", required=True, help="the service's MongoDB database")
    parser.add_argument("--source", default=None, help="CloudEvents source (default: the database name)")
    parser.add_argument("--batch-size", type=int, default=500)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
