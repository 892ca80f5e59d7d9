"""The guarantees of architecture.md, each proven on the real local stack."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from events import Envelope
from kit_events import CounterIncremented, CounterRenamed
from servicekit import dlq, kafka
from servicekit.consumer import ConsumerRunner, ReceivedEvent
from servicekit.errors import ConcurrencyConflict
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, create_client
from servicekit.projections import Projection, rebuild, snapshot
from servicekit.settings import ServiceSettings
from servicekit.testing import unique_name

pytestmark = pytest.mark.integration
TOPIC = CounterIncremented.topic()


async def _store(settings: ServiceSettings) -> EventStore:
    client = create_client(settings.mongo_url)
    store = EventStore(client, client[settings.database_name], source="/test")
    await store.ensure_indexes()
    return store


async def test_append_is_atomic_with_optimistic_concurrency(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    store = await _store(make_settings())
    stored = await store.append(
        "c-1", [CounterIncremented(counter_id="c-1", amount=i) for i in range(3)], expected_version=0
    )
    assert [s.version for s in stored] == [1, 2, 3]
    with pytest.raises(ConcurrencyConflict) as conflict:
        await store.append("c-1", [CounterIncremented(counter_id="c-1", amount=9)] * 2, expected_version=1)
    assert conflict.value.actual == 3
    with pytest.raises(ConcurrencyConflict):
        await store.append("c-1", [CounterIncremented(counter_id="c-1", amount=9)], expected_version=0)
    events, version = await store.load_events("c-1")
    assert version == 3 and [e.amount for e in events] == [0, 1, 2]  # type: ignore[attr-defined]

    # Ten writers race for version 4: exactly one wins, nothing partial is left behind.
    async def writer(i: int) -> bool:
        try:
            await store.append(
                "c-1", [CounterIncremented(counter_id="c-1", amount=100 + i)] * 2, expected_version=3
            )
            return True
        except ConcurrencyConflict:
            return False

    results = await asyncio.gather(*(writer(i) for i in range(10)))
    assert results.count(True) == 1
    events, version = await store.load_events("c-1")
    assert version == 5 and len(events) == 5
    assert await store.db["events"].count_documents({"stream_id": "c-1"}) == 5
    await store.client.close()


async def _published(store: EventStore) -> int:
    """How many stored events the relay has published (its checkpoint is a store position)."""
    checkpoint = await store.db["store_meta"].find_one({"_id": "relay"})
    position = checkpoint["position"] if checkpoint else 0
    if not position:
        return 0
    return await store.db["events"].count_documents({"seq": {"$lte": position}, "public": True})


async def _read_all(settings: ServiceSettings, topic: str) -> list[Envelope]:
    return [
        Envelope.from_kafka(r.key, r.value, list(r.headers))
        async for r in kafka.read_to_end(settings, [topic])
    ]


async def test_relay_survives_being_killed(
    make_settings: Callable[..., ServiceSettings], stack_env: dict[str, str]
) -> None:
    settings = make_settings()
    await kafka.ensure_topics(settings, [TOPIC])
    store = await _store(settings)
    streams, per_stream = 40, 25
    for s in range(streams):
        await store.append(
            f"relay-{settings.service_name}-{s}",
            [CounterIncremented(counter_id=str(s), amount=v) for v in range(per_stream)],
            expected_version=0,
        )
    total = streams * per_stream
    env = {**os.environ, **stack_env}
    cmd = [
        sys.executable,
        "-m",
        "servicekit.relay",
        "--database",
        settings.database_name,
        "--batch-size",
        "5",
    ]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    published = 0
    for _ in range(600):
        published = await _published(store)
        if published >= 50:
            break
        await asyncio.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    at_kill = await _published(store)
    assert 0 < at_kill < total, f"the relay must be killed mid-way (published {at_kill} of {total})"
    second = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(900):
            if await _published(store) == total:
                break
            await asyncio.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    received = [
        e for e in await _read_all(settings, TOPIC) if e.subject.startswith(f"relay-{settings.service_name}")
    ]
    ids = {e.id for e in received}
    stored_ids = {doc["_id"] async for doc in store.db["events"].find({}, {"_id": 1})}
    assert ids == stored_ids, "every stored event reached Kafka"
    seen: dict[str, list[int]] = defaultdict(list)
    first_seen: set[str] = set()
    versions = {doc["_id"]: doc["version"] async for doc in store.db["events"].find({}, {"version": 1})}
    for envelope in received:
        if envelope.id not in first_seen:
            first_seen.add(envelope.id)
            seen[envelope.subject].append(versions[envelope.id])
    assert all(v == sorted(v) for v in seen.values()), "per-aggregate order is kept"
    await store.client.close()


def _counter_projection(database: str) -> Projection:
    projection = Projection(name="counters", collections=["counters"], database=database)

    @projection.handlers.on(CounterIncremented)
    async def incremented(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        if event.poison and poison_switch["on"]:
            raise RuntimeError("poison event: cannot be applied")
        db = session.client.get_database(database)
        if event.flaky:
            attempts = await db["flaky"].find_one_and_update(
                {"_id": received.envelope.id},
                {"$inc": {"n": 1}},
                upsert=True,
                return_document=True,
            )
            if attempts is None or attempts["n"] <= event.flaky:
                raise RuntimeError("transient failure")
        await projection.collection(session).update_one(
            {"_id": event.counter_id},
            {"$inc": {"total": event.amount, "events": 1}},
            upsert=True,
            session=session,
        )

    @projection.handlers.on(CounterRenamed)
    async def renamed(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterRenamed)
        await projection.collection(session).update_one(
            {"_id": event.counter_id}, {"$set": {"name": event.name}}, upsert=True, session=session
        )

    return projection


poison_switch = {"on": True}


async def _publish(settings: ServiceSettings, envelopes: list[Envelope], topic: str, times: int = 1) -> None:
    producer = kafka.create_producer(settings)
    await producer.start()
    try:
        for _ in range(times):
            for envelope in envelopes:
                key, value, headers = envelope.to_kafka()
                await producer.send(topic, value=value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


async def _run_until(runner: ConsumerRunner, done: Callable[[], Any], timeout: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        for _ in range(int(timeout * 10)):
            if await done():
                return
            await asyncio.sleep(0.1)
        raise AssertionError("consumer did not reach the expected state in time")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_consumer_dedupes_retries_dead_letters_and_replays(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings()
    topic = unique_name("kittest") + ".events"
    await kafka.ensure_topics(settings, [topic])
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    projection = _counter_projection(settings.database_name)
    producer = kafka.create_producer(settings)
    await producer.start()
    runner = ConsumerRunner(
        settings=settings,
        client=client,
        database=db,
        group_id=unique_name("g"),
        handlers=projection.handlers,
        producer=producer,
        topics=[topic],
        max_attempts=3,
        backoff_seconds=0.01,
    )
    good = [
        Envelope.for_event(
            CounterIncremented(counter_id=f"k{i % 5}", amount=i), subject=f"k{i % 5}", source="/t"
        )
        for i in range(50)
    ]
    poison = Envelope.for_event(
        CounterIncremented(counter_id="bad", amount=1, poison=True), subject="bad", source="/t"
    )
    flaky = Envelope.for_event(
        CounterIncremented(counter_id="flaky", amount=7, flaky=2), subject="flaky", source="/t"
    )
    # every event delivered twice, a poison event in the middle, and an event that fails twice first
    await _publish(settings, [*good[:25], poison, flaky, *good[25:]], topic, times=2)

    async def all_counted() -> bool:
        docs = [d async for d in db["counters"].find({"_id": {"$regex": "^k"}})]
        return sum(d["events"] for d in docs) >= 50 and bool(await db["counters"].find_one({"_id": "flaky"}))

    await _run_until(runner, all_counted)
    await asyncio.sleep(1.0)  # let redeliveries of the second copy arrive if they were going to count
    docs = {d["_id"]: d async for d in db["counters"].find({})}
    assert sum(d["events"] for k, d in docs.items() if k.startswith("k")) == 50
    assert sum(d["total"] for k, d in docs.items() if k.startswith("k")) == sum(range(50))
    assert docs["flaky"]["total"] == 7, "a transient failure is retried and then applied once"
    assert "bad" not in docs
    letters = await dlq.pending(settings, topic)
    assert {letter.event_id for letter in letters} == {poison.id}, "only the poison event is dead-lettered"
    assert all("poison event" in letter.meta["dlq_error"] for letter in letters)
    assert all(letter.meta["dlq_attempts"] == "3" for letter in letters)
    assert all(letter.meta["dlq_group"] == runner.group_id for letter in letters)

    # the operator fixes the cause, then replays: the event is applied exactly once, the letters are done
    poison_switch["on"] = False
    replayed = await dlq.replay(settings, topic, event_ids={poison.id})
    assert {letter.event_id for letter in replayed} == {poison.id}

    async def bad_counted() -> bool:
        return bool(await db["counters"].find_one({"_id": "bad"}))

    await _run_until(runner, bad_counted)
    await asyncio.sleep(1.0)
    assert (await db["counters"].find_one({"_id": "bad"}))["events"] == 1  # type: ignore[index]
    assert await dlq.pending(settings, topic) == []
    assert await dlq.replay(settings, topic) == [], "nothing is replayed twice by accident"
    await producer.stop()
    await client.close()


async def test_projection_rebuild_equals_original(make_settings: Callable[..., ServiceSettings]) -> None:
    settings = make_settings()
    topic = CounterIncremented.topic()
    await kafka.ensure_topics(settings, [topic])
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    projection = _counter_projection(settings.database_name)
    prefix = unique_name("rb")
    envelopes: list[Envelope] = []
    for i in range(120):
        cid = f"{prefix}-{i % 7}"
        envelopes.append(
            Envelope.for_event(CounterIncremented(counter_id=cid, amount=i), subject=cid, source="/t")
        )
        if i % 10 == 0:
            envelopes.append(
                Envelope.for_event(CounterRenamed(counter_id=cid, name=f"名称{i}"), subject=cid, source="/t")
            )
    await _publish(settings, envelopes, topic)
    producer = kafka.create_producer(settings)
    await producer.start()
    runner = ConsumerRunner(
        settings=settings,
        client=client,
        database=db,
        group_id=projection.group_id(settings.service_name),
        handlers=projection.handlers,
        producer=producer,
        topics=[topic],
    )

    async def counted() -> bool:
        docs = [d async for d in db["counters"].find({"_id": {"$regex": f"^{prefix}"}})]
        return sum(d.get("events", 0) for d in docs) == 120

    await _run_until(runner, counted)
    before = await snapshot(db, ["counters"])
    assert len(before["counters"]) >= 7
    checked = await rebuild(projection, settings=settings, client=client, database=db, check=True)
    assert checked.differences == [] and not checked.swapped
    report = await rebuild(projection, settings=settings, client=client, database=db)
    assert report.swapped and report.differences == []
    after = await snapshot(db, ["counters"])
    assert after == before
    assert report.events_applied >= len(envelopes)
    await producer.stop()
    await client.close()
