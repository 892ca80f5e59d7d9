"""Outbox relay: publishes stored events to Kafka, per-aggregate in order, at least once.

The event store is the outbox. The relay reads the oldest unpublished events, sends them (key = stream id,
so one aggregate stays on one partition, in order), waits for the broker's acknowledgement of all of them,
and only then marks them published. A crash between the send and the mark re-sends on restart: consumers
de-duplicate by event id. Run it in-process (`OutboxRelay.run`) or alone: `python -m servicekit.relay`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from aiokafka import AIOKafkaProducer

from .eventstore import EventStore
from .logging import configure_logging, get_logger
from .mongo import create_client
from .settings import ServiceSettings

log = get_logger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        linger_seconds: float = 0.02,
    ) -> None:
        self.store = store
        self.producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        # After a wake-up, wait this long so that one query picks up the events of several commands.
        self.linger_seconds = linger_seconds
        self._wakeup = asyncio.Event()
        self.published_total = 0

    def wake(self) -> None:
        self._wakeup.set()

    async def run_once(self) -> int:
        """Publish one batch; returns how many events were published."""
        batch = await self.store.unpublished(self.batch_size)
        if not batch:
            return 0
        futures = []
        for item in batch:
            key, value, headers = item.envelope.to_kafka()
            futures.append(await self.producer.send(item.topic, value=value, key=key, headers=headers))
        await asyncio.gather(*futures)
        await self.store.mark_published([item.envelope.id for item in batch])
        self.published_total += len(batch)
        return len(batch)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        backoff = self.poll_seconds
        while not stop.is_set():
            try:
                published = await self.run_once()
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker or the database is away: wait and try again
                log.warning("relay.publish_failed", error=repr(exc), retry_in=backoff)
                published = 0
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if published:
                continue  # more may be waiting
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_seconds)
                await asyncio.sleep(self.linger_seconds)


async def _main(args: argparse.Namespace) -> None:
    settings = ServiceSettings()
    configure_logging("relay", settings.log_level, settings.log_json)
    client = create_client(settings.mongo_url)
    store = EventStore(client, client[args.database], source=args.source or args.database)
    from .kafka import create_producer

    producer = create_producer(settings)
    await producer.start()
    relay = OutboxRelay(store, producer, batch_size=args.batch_size, poll_seconds=settings.relay_poll_seconds)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await relay.run(stop)
    finally:
        await producer.stop()
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Publish a service's stored events to Kafka.")
    parser.add_argument("--database", required=True, help="the service's MongoDB database")
    parser.add_argument("--source", default=None, help="CloudEvents source (default: the database name)")
    parser.add_argument("--batch-size", type=int, default=500)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
