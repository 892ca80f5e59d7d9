"""Event pipeline throughput on the real local stack.

Measured in one run, on the same broker and database:
- baseline: raw aiokafka, produce N messages of the same size and consume them in a consumer group;
- pipeline: N events appended to the event store (one command, one event, as the services do), sequenced,
  applied to the service's own projection from its event store, published by the relay, and consumed by a
  second service's consumer group (positions and de-duplication marks in the same transaction);
- rebuild: the own projection rebuilt from the event store into new collections and swapped in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from events import DomainEvent, Envelope, event
from servicekit import kafka
from servicekit.consumer import ConsumerRunner, ReceivedEvent
from servicekit.eventstore import EventStore
from servicekit.localstack import LocalStack, StackConfig, uses_external_servers
from servicekit.mongo import Session, create_client
from servicekit.projections import Projection, rebuild
from servicekit.relay import OutboxRelay
from servicekit.settings import ServiceSettings
from servicekit.subscription import StoreSubscription


@event("benchmark", "Ticked", version=1)
class Ticked(DomainEvent):
    stream: str
    n: int
    note: str = "施工现场专业人员职业培训"


WRITERS = 8  # concurrent commands, as a service under load has


def _settings(env: dict[str, str], name: str) -> ServiceSettings:
    return ServiceSettings(
        service_name=name,
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        mongo_url=env["MONGO_URL"],
        s3_endpoint=env["S3_ENDPOINT"],
        s3_access_key=env.get("S3_ACCESS_KEY", ""),
        s3_secret_key=env.get("S3_SECRET_KEY", ""),
        relay_poll_seconds=0.05,
    )


async def raw_kafka(
    settings: ServiceSettings, n: int, payload: bytes, headers: list[tuple[str, bytes]]
) -> float:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(settings, [topic], with_dlq=False)
    producer = kafka.create_producer(settings)
    consumer = kafka.create_consumer(settings, topic, group_id=f"bench-raw-{uuid.uuid4().hex[:8]}")
    await producer.start()
    await consumer.start()
    try:
        started = time.perf_counter()
        for i in range(n):
            await producer.send(topic, value=payload, key=f"s{i % 100}".encode(), headers=headers)
        await producer.flush()
        seen = 0
        while seen < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=1000)
            seen += sum(len(records) for records in batch.values())
            if batch:
                await consumer.commit()
        return time.perf_counter() - started
    finally:
        await consumer.stop()
        await producer.stop()


async def raw_mongo(settings: ServiceSettings, n: int) -> float:
    """The database's own ceiling: N single-document inserts from the same number of concurrent writers."""
    client = create_client(settings.mongo_url)
    collection = client[settings.database_name][f"raw-{uuid.uuid4().hex[:6]}"]
    try:
        started = time.perf_counter()

        async def writer(w: int) -> None:
            for i in range(w, n, WRITERS):
                await collection.insert_one({"stream": f"s{w}", "n": i, "note": "施工现场专业人员职业培训"})

        await asyncio.gather(*(writer(w) for w in range(WRITERS)))
        return time.perf_counter() - started
    finally:
        await collection.drop()
        await client.close()


def tick_projection(database: str) -> Projection:
    projection = Projection(name="ticks", collections=["ticks"], database=database)

    @projection.handlers.on(Ticked)
    async def ticked(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, Ticked)
        await projection.collection(session).update_one(
            {"_id": received.event.stream},
            {"$inc": {"count": 1}, "$max": {"last": received.event.n}},
            upsert=True,
            session=session,
        )

    return projection


@dataclass
class PipelineFigures:
    appended: float  # seconds for the appends alone
    own: float  # append → sequenced → the service's own projection (store subscription)
    published: float  # append → sequenced → published to Kafka by the relay
    other: float  # append → Kafka → another service's consumer → its projection
    rebuilt: float  # the own projection rebuilt from the event store


async def pipeline(settings: ServiceSettings, n: int) -> PipelineFigures:
    """One service appends N events (one command, one event, as the services do); its own projection applies
    them from its event store; the relay publishes them; a second service's consumer applies them too."""
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    other_db = client[settings.database_name + "-other"]
    store = EventStore(client, db, source="/bench")
    await store.ensure_indexes()
    await ConsumerRunner.ensure_indexes(other_db)
    await kafka.ensure_topics(settings, [Ticked.topic()])
    producer = kafka.create_producer(settings)
    await producer.start()
    own = tick_projection(settings.database_name)
    other = tick_projection(settings.database_name + "-other")
    subscription = StoreSubscription(
        name=own.group_id(settings.service_name), store=store, handlers=own.handlers, settings=settings
    )
    runner = ConsumerRunner(
        settings=settings,
        client=client,
        database=other_db,
        group_id=other.group_id(settings.service_name + "-other"),
        handlers=other.handlers,
        producer=producer,
        topics=[Ticked.topic()],
    )
    relay = OutboxRelay(store, producer, poll_seconds=0.05)
    relay.on_sequenced(subscription.wake)
    store.set_on_append(relay.wake)
    stop = asyncio.Event()
    consumer_task = asyncio.create_task(runner.run(stop))
    await asyncio.wait_for(runner.ready.wait(), 60)  # the group join is not part of the figure
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(subscription.run(stop)), consumer_task]
    prefix = uuid.uuid4().hex[:6]
    try:
        started = time.perf_counter()

        async def writer(w: int) -> None:
            # one command, one event, as the services do; writers own disjoint streams
            for version, i in enumerate(range(w, n, WRITERS)):
                stream = f"{prefix}-{w}-{version % 10}"
                await store.append(stream, [Ticked(stream=stream, n=i)], expected_version=version // 10)

        await asyncio.gather(*(writer(w) for w in range(WRITERS)))
        appended = time.perf_counter() - started
        done: dict[str, float] = {}
        while len(done) < 3:
            now = time.perf_counter() - started
            if "own" not in done and subscription.handled >= n:
                done["own"] = now
            if "published" not in done and relay.published_total >= n:
                done["published"] = now
            if "other" not in done and runner.handled >= n:
                done["other"] = now
            await asyncio.sleep(0.005)
        report = await rebuild(
            own, settings=settings, client=client, database=db, store=store, own_contexts=["benchmark"]
        )
        rebuilt = report.seconds if report.events_applied >= n else float("nan")
        return PipelineFigures(appended, done["own"], done["published"], done["other"], rebuilt)
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 30)
        await producer.stop()
        await client.close()


async def main(n: int) -> None:
    stack: LocalStack | None = None
    if uses_external_servers(os.environ):
        env = dict(os.environ)
    else:
        data = Path(tempfile.mkdtemp(prefix="bench-stack-"))
        stack = LocalStack(StackConfig.load_or_create(data, free_ports=True))
        await asyncio.to_thread(stack.start)
        env = stack.env()
    try:
        settings = _settings(env, f"bench-{uuid.uuid4().hex[:6]}")
        sample = Envelope.for_event(Ticked(stream="s-0", n=0), subject="s-0", source="/bench")
        _, payload, headers = sample.to_kafka()
        raw = await raw_kafka(settings, n, payload, headers)
        mongo = await raw_mongo(settings, n)
        figures = await pipeline(settings, n)
        rows = [
            ("raw aiokafka produce+consume", raw, "msg/s", "baseline 1"),
            ("raw MongoDB insert_one, same db", mongo, "docs/s", "baseline 2 (goal: pipeline ≥ 0.5 of it)"),
            (
                "store→own projection (same svc)",
                figures.own,
                "events/s",
                f"ratio {mongo / figures.own:.3f} of baseline 2",
            ),
            (
                "store→relay→Kafka (published)",
                figures.published,
                "events/s",
                f"ratio {raw / figures.published:.3f} of baseline 1",
            ),
            (
                "store→Kafka→other svc projection",
                figures.other,
                "events/s",
                f"ratio {mongo / figures.other:.3f} of baseline 2",
            ),
            (
                "  of which event-store appends",
                figures.appended,
                "events/s",
                f"ratio {mongo / figures.appended:.3f} of baseline 2",
            ),
            (
                "own projection rebuilt from store",
                figures.rebuilt,
                "events/s",
                f"ratio {mongo / figures.rebuilt:.3f} of baseline 2",
            ),
        ]
        print(f"\nevent pipeline, {n} events, {WRITERS} concurrent writers, one stack, one run")
        for label, seconds, unit, note in rows:
            print(f"  {label:<34} {n / seconds:8.0f} {unit:<9} ({seconds:6.2f} s)  {note}")
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.stop)
