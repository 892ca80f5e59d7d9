"""The core's guarantees under production conditions, each a regression test of a finding, on the real stack:
two relays with skewed clocks, internal events, upcasting through consumers and rebuilds, an unknown major, a
rebuild while events are being written, an unknown commit result, and a consumer that stops."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from events import Envelope
from kit_events import CounterIncremented, Measured, MeasuredV1, NoteTaken
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure
from servicekit import dlq, kafka
from servicekit.consumer import ConsumerRunner, EventHandlers, ReceivedEvent
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, create_client, in_transaction
from servicekit.projections import Projection, rebuild
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.testing import unique_name

pytestmark = pytest.mark.integration


async def _published_ids(settings: ServiceSettings, topic: str, prefix: str) -> list[Envelope]:
    return [e async for e in _envelopes(settings, topic) if e.subject.startswith(prefix)]


async def _envelopes(settings: ServiceSettings, topic: str) -> AsyncIterator[Envelope]:
    async for record in kafka.read_to_end(settings, [topic]):
        yield Envelope.from_kafka(record.key, record.value, list(record.headers or []))


def _skewed(seconds: float) -> Callable[[], datetime]:
    return lambda: datetime.now(UTC) + timedelta(seconds=seconds)


async def test_two_relays_with_skewed_clocks_publish_each_stream_in_order_once(
    make_settings: Callable[..., ServiceSettings], stack_env: dict[str, str]
) -> None:
    """Replica A's clock is 300 ms ahead, replica B's 300 ms behind: each writes every other version of the
    same streams, so version 2 is *recorded* before version 1. Two relays run at once."""
    settings = make_settings()
    topic = CounterIncremented.topic()
    await kafka.ensure_topics(settings, [topic])
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    ahead = EventStore(client, db, source="/a", clock=_skewed(0.3))
    behind = EventStore(client, db, source="/b", clock=_skewed(-0.3))
    await ahead.ensure_indexes()
    prefix = unique_name("skew")
    streams, versions = 20, 6
    for version in range(versions):
        store = ahead if version % 2 == 0 else behind
        for s in range(streams):
            await store.append(
                f"{prefix}-{s}",
                [CounterIncremented(counter_id=str(s), amount=version)],
                expected_version=version,
            )
    first = await db["events"].find_one({"stream_id": f"{prefix}-0", "version": 1})
    second = await db["events"].find_one({"stream_id": f"{prefix}-0", "version": 2})
    assert first and second and second["recorded_at"] < first["recorded_at"], "the clocks disagree"

    env = {**os.environ, **stack_env}
    cmd = [
        sys.executable,
        "-m",
        "servicekit.relay",
        "--database",
        settings.database_name,
        "--batch-size",
        "7",
    ]
    relays = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)
    ]
    try:
        total = streams * versions
        for _ in range(600):
            received = await _published_ids(settings, topic, prefix)
            if len({e.id for e in received}) == total:
                break
            await asyncio.sleep(0.1)
    finally:
        for relay in relays:
            relay.send_signal(signal.SIGTERM)
        for relay in relays:
            relay.wait(timeout=20)
    received = await _published_ids(settings, topic, prefix)
    assert len(received) == total and len({e.id for e in received}) == total, "each event published once"
    order: dict[str, list[int]] = defaultdict(list)
    for envelope in received:
        order[envelope.subject].append(envelope.data["amount"])
    assert all(v == list(range(versions)) for v in order.values()), "every stream in version order"
    await client.close()


def _recorder(database: str, name: str, seen: list[tuple[str, Any]]) -> Projection:
    projection = Projection(name=name, collections=[f"{name}_docs"], database=database)

    @projection.handlers.on(CounterIncremented)
    async def counted(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        seen.append(("counted", event.amount))
        await projection.collection(session).update_one(
            {"_id": event.counter_id},
            {"$inc": {"total": event.amount, "events": 1}},
            upsert=True,
            session=session,
        )

    @projection.handlers.on(NoteTaken)
    async def noted(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, NoteTaken)
        seen.append(("noted", event.note))
        await projection.collection(session).update_one(
            {"_id": event.counter_id}, {"$set": {"note": event.note}}, upsert=True, session=session
        )

    return projection


async def test_internal_events_stay_in_the_store_and_reach_the_own_projection(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(relay_poll_seconds=0.05)
    seen: list[tuple[str, Any]] = []
    projection = _recorder(settings.database_name, "notes", seen)
    runtime = ServiceRuntime(
        settings, projections=[projection], own_topics=[CounterIncremented.topic()], use_object_store=False
    )
    await runtime.start()
    try:
        await runtime.wait_until_consuming()
        stream = unique_name("internal")
        await runtime.store.append(
            stream,
            [
                CounterIncremented(counter_id=stream, amount=3),
                NoteTaken(counter_id=stream, note="只在本服务内"),
            ],
            expected_version=0,
        )
        await runtime.wait_for_store()
        doc = await runtime.db["notes_docs"].find_one({"_id": stream})
        assert doc == {"_id": stream, "total": 3, "events": 1, "note": "只在本服务内"}
        # (the one Kafka consumer is the token-revocation view's, of the gateway's identity events)
        own_runners = [r for r in runtime.runners if not r.group_id.endswith(".policy.token-revocation")]
        assert own_runners == [], "own events come from the store: no Kafka consumer for them"
        for _ in range(100):
            published = [
                e async for e in _envelopes(settings, CounterIncremented.topic()) if e.subject == stream
            ]
            if published:
                break
            await asyncio.sleep(0.1)
        assert [e.type for e in published] == [CounterIncremented.type_name()], (
            "the internal event stays inside"
        )
    finally:
        await runtime.stop()


def _measures(database: str, topic: str) -> Projection:
    projection = Projection(
        name="measures", collections=["measures"], database=database, extra_topics=[topic]
    )

    @projection.handlers.on(Measured)
    async def measured(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, Measured), "handlers see the newest major"
        await projection.collection(session).update_one(
            {"_id": event.item}, {"$set": {"millimetres": event.millimetres}}, upsert=True, session=session
        )

    return projection


async def _run_until(runner: ConsumerRunner, done: Callable[[], Any], timeout: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        for _ in range(int(timeout * 10)):
            if await done():
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the consumer did not reach the expected state in time")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _publish(settings: ServiceSettings, topic: str, envelopes: list[Envelope]) -> None:
    producer = kafka.create_producer(settings)
    await producer.start()
    try:
        for envelope in envelopes:
            key, value, headers = envelope.to_kafka()
            await producer.send(topic, value=value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


async def test_upcasting_reaches_consumers_and_rebuilds_and_an_unknown_major_is_dead_lettered(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings()
    topic = unique_name("measures") + ".events"
    await kafka.ensure_topics(settings, [topic])
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    projection = _measures(settings.database_name, topic)
    old = Envelope.for_event(MeasuredV1(item="钢筋", centimetres=12), subject="钢筋", source="/t")
    new = Envelope.for_event(Measured(item="模板", millimetres=5), subject="模板", source="/t")
    future = Envelope(
        id="future-1",
        type="kittest.Measured.v3",
        source="/t",
        time=datetime.now(UTC),
        subject="脚手架",
        data={"item": "脚手架", "micrometres": 1},
    )
    await _publish(settings, topic, [old, new, future])
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
        max_attempts=2,
        backoff_seconds=0.01,
    )

    async def both() -> bool:
        return await db["measures"].count_documents({}) == 2 and bool(await dlq.pending(settings, topic))

    await _run_until(runner, both)
    assert {d["_id"]: d["millimetres"] async for d in db["measures"].find({})} == {"钢筋": 120, "模板": 5}
    letters = await dlq.pending(settings, topic)
    assert [letter.event_id for letter in letters] == ["future-1"]
    assert "major version" in letters[0].meta["dlq_error"]

    checked = await rebuild(projection, settings=settings, client=client, database=db, check=True)
    assert checked.differences == []
    assert [p for p in checked.poison if "Measured.v3" in p], checked.poison
    report = await rebuild(projection, settings=settings, client=client, database=db)
    assert report.swapped
    assert {d["_id"]: d["millimetres"] async for d in db["measures"].find({})} == {"钢筋": 120, "模板": 5}
    assert len(await dlq.pending(settings, topic)) == 1, (
        "a rebuild reports poison, it does not dead-letter again"
    )
    await producer.stop()
    await client.close()


async def test_rebuild_while_events_are_written_reports_no_false_difference(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(relay_poll_seconds=0.05)
    seen: list[tuple[str, Any]] = []
    projection = _recorder(settings.database_name, "busy", seen)
    runtime = ServiceRuntime(
        settings, projections=[projection], own_topics=[CounterIncremented.topic()], use_object_store=False
    )
    await runtime.start()
    writing = asyncio.Event()
    written: dict[str, int] = defaultdict(int)

    async def writer() -> None:
        version: dict[str, int] = defaultdict(int)
        n = 0
        while not writing.is_set():
            stream = f"busy-{n % 12}"
            await runtime.store.append(
                stream, [CounterIncremented(counter_id=stream, amount=n)], expected_version=version[stream]
            )
            version[stream] += 1
            written[stream] += n
            n += 1
            await asyncio.sleep(0.005)

    try:
        await runtime.wait_until_consuming()
        task = asyncio.create_task(writer())
        await asyncio.sleep(1.5)
        checks = await runtime.rebuild_projections(check=True)
        assert [r.differences for r in checks] == [[]], "compared at the same position: no false difference"
        swaps = await runtime.rebuild_projections()
        assert all(r.swapped for r in swaps)
        await asyncio.sleep(0.5)
        writing.set()
        await task
        await runtime.wait_for_store()
        totals = {d["_id"]: d["total"] async for d in runtime.db["busy_docs"].find({})}
        assert totals == dict(written), "nothing lost or applied twice across the swap"
    finally:
        writing.set()
        await runtime.stop()


async def test_unknown_commit_result_retries_only_the_commit(
    make_settings: Callable[..., ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit happened but its answer was lost: the work must not run again."""
    settings = make_settings()
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    real_commit = AsyncClientSession.commit_transaction
    lost_answers = {"left": 1}

    async def commit_then_lose_the_answer(self: AsyncClientSession) -> None:
        await real_commit(self)
        if lost_answers["left"]:
            lost_answers["left"] -= 1
            error = OperationFailure("connection reset while reading the commit's answer", code=91)
            error._add_error_label("UnknownTransactionCommitResult")
            raise error

    monkeypatch.setattr(AsyncClientSession, "commit_transaction", commit_then_lose_the_answer)
    runs = []

    async def work(session: Session) -> str:
        runs.append(1)
        await db["orders"].insert_one({"_id": "o-1", "amount_fen": 180000}, session=session)
        return "created"

    assert await in_transaction(client, work) == "created"
    assert len(runs) == 1, "the work ran once"
    assert await db["orders"].count_documents({}) == 1
    await client.close()


async def test_readiness_fails_when_a_consumer_makes_no_progress(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(consumer_stall_seconds=2.0)
    topic = unique_name("stall") + ".events"
    handlers = EventHandlers()
    release = asyncio.Event()

    @handlers.on(CounterIncremented)
    async def hangs(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        if event.counter_id == "stuck":
            await release.wait()

    projection = Projection(name="hangs", collections=["hangs"], handlers=handlers, extra_topics=[topic])
    runtime = ServiceRuntime(settings, projections=[projection], use_object_store=False)
    await runtime.start()

    async def pipeline() -> str:
        return (await runtime.readiness())["pipeline"]

    try:
        await runtime.wait_until_consuming()
        for _ in range(300):  # the shared test topic's history first
            if await pipeline() == "ok" and runtime.runners[0].lag == 0:
                break
            await asyncio.sleep(0.1)
        assert await pipeline() == "ok"
        stuck = CounterIncremented(counter_id="stuck", amount=1)
        await _publish(settings, topic, [Envelope.for_event(stuck, subject="stuck", source="/t")])
        problem = "ok"
        for _ in range(150):
            problem = await pipeline()
            if problem != "ok":
                break
            await asyncio.sleep(0.1)
        assert "no progress" in problem and "hangs" in problem, problem
        release.set()
        for _ in range(150):
            if await pipeline() == "ok":
                break
            await asyncio.sleep(0.1)
        assert await pipeline() == "ok", "ready again once it moves"
    finally:
        release.set()
        await runtime.stop()


def _tally(version: int = 1, upcasters: dict[int, Any] | None = None, every: int = 100) -> Any:
    from servicekit.snapshots import SnapshotKind

    def fold(state: dict[str, int] | None, events: Any) -> dict[str, int]:
        state = dict(state or {"total": 0, "folded": 0})
        for event in events:
            state["total"] += event.amount
            state["folded"] += 1
        return state

    return SnapshotKind(
        name="tally", version=version, fold=fold, dump=dict, load=dict, every=every, upcasters=upcasters or {}
    )


async def test_snapshots_keep_a_long_stream_cheap_and_upcast_or_fall_back(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    from servicekit.snapshots import SNAPSHOTS, execute_on_state, load_state

    settings = make_settings()
    client = create_client(settings.mongo_url)
    store = EventStore(client, client[settings.database_name], source="/t")
    await store.ensure_indexes()
    kind = _tally()
    stream = unique_name("long")
    for n in range(250):
        await execute_on_state(
            store,
            stream,
            kind,
            lambda state, n=n: [CounterIncremented(counter_id=stream, amount=n)],
            stream_type="tally",
        )
    state, version, folded = await load_state(store, stream, kind)
    assert version == 250 and state["total"] == sum(range(250))
    assert folded < kind.every, "a command folds only the events after the snapshot"
    snap = await store.db[SNAPSHOTS].find_one({"_id": stream})
    assert snap is not None and snap["stream_version"] >= 200

    # the state's shape changed: shape 1 is upcast to shape 2 …
    renamed = _tally(version=2, upcasters={1: lambda s: {**s, "total": s["total"]}})
    state2, _, folded2 = await load_state(store, stream, renamed)
    assert state2["total"] == sum(range(250)) and folded2 == folded
    # … and a snapshot that no upcaster can bring to the current shape is ignored: folded from the start
    unknown = _tally(version=3)
    state3, _, folded3 = await load_state(store, stream, unknown)
    assert state3["total"] == sum(range(250)) and folded3 == 250
    await client.close()


async def test_aggregates_read_old_majors_as_the_current_one(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings()
    client = create_client(settings.mongo_url)
    store = EventStore(client, client[settings.database_name], source="/t")
    await store.ensure_indexes()
    await store.append("m-1", [MeasuredV1(item="钢管", centimetres=3)], expected_version=0)
    events, version = await store.load_events("m-1")
    assert version == 1 and events == [Measured(item="钢管", millimetres=30)]
    await client.close()


async def test_an_own_event_that_keeps_failing_is_dead_lettered_and_replayed(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(relay_poll_seconds=0.05, consumer_backoff_seconds=0.01)
    broken = {"on": True}
    projection = Projection(name="fragile", collections=["fragile"], database=settings.database_name)

    @projection.handlers.on(CounterIncremented)
    async def fragile(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        if event.poison and broken["on"]:
            raise RuntimeError("cannot apply this one")
        await projection.collection(session).update_one(
            {"_id": event.counter_id}, {"$inc": {"total": event.amount}}, upsert=True, session=session
        )

    runtime = ServiceRuntime(
        settings, projections=[projection], own_topics=[CounterIncremented.topic()], use_object_store=False
    )
    await runtime.start()
    try:
        await runtime.wait_until_consuming()
        await runtime.store.append("a", [CounterIncremented(counter_id="a", amount=1)], expected_version=0)
        await runtime.store.append(
            "b", [CounterIncremented(counter_id="b", amount=5, poison=True)], expected_version=0
        )
        await runtime.store.append("c", [CounterIncremented(counter_id="c", amount=7)], expected_version=0)
        await runtime.wait_for_store()
        totals = {d["_id"]: d["total"] async for d in runtime.db["fragile"].find({})}
        assert totals == {"a": 1, "c": 7}, "the stream goes on past the poison event"
        letters = await dlq.store_letters(settings, settings.database_name)
        assert [(letter["type"], "cannot apply" in letter["error"]) for letter in letters] == [
            (CounterIncremented.type_name(), True)
        ]
        broken["on"] = False
        assert await dlq.replay_store(settings, settings.database_name, None) == 1
        for _ in range(100):
            if await runtime.db["fragile"].find_one({"_id": "b"}):
                break
            runtime.subscriptions[0].wake()
            await asyncio.sleep(0.1)
        assert (await runtime.db["fragile"].find_one({"_id": "b"}) or {}).get("total") == 5
        assert await dlq.store_letters(settings, settings.database_name) == []
    finally:
        await runtime.stop()


async def test_a_command_answers_once_its_own_read_models_show_it(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    """Read-your-writes: the read right after a command sees what the command did, every time."""
    from fastapi import APIRouter
    from servicekit.app import READ_MODELS_HEADER, create_app
    from servicekit.testing import running_app

    settings = make_settings(relay_poll_seconds=2.0)  # a slow poll: only the wake-ups make it quick
    seen: list[tuple[str, Any]] = []
    projection = _recorder(settings.database_name, "ryw", seen)
    runtime = ServiceRuntime(
        settings, projections=[projection], own_topics=[CounterIncremented.topic()], use_object_store=False
    )
    router = APIRouter()

    @router.post("/counters/{counter_id}")
    async def add(counter_id: str, amount: int) -> dict[str, int]:
        version = await runtime.store.version_of(counter_id)
        await runtime.store.append(
            counter_id, [CounterIncremented(counter_id=counter_id, amount=amount)], expected_version=version
        )
        return {"version": version + 1}

    @router.get("/counters/{counter_id}")
    async def read(counter_id: str) -> dict[str, Any]:
        return await runtime.db["ryw_docs"].find_one({"_id": counter_id}) or {}

    app = create_app(runtime, [router], title="ryw")
    async with running_app(app) as client:
        await runtime.wait_until_consuming()
        for n in range(1, 21):
            added = await client.post("/counters/c", params={"amount": n})
            assert added.status_code == 200 and added.headers[READ_MODELS_HEADER] == "current"
            assert (await client.get("/counters/c")).json()["total"] == sum(range(1, n + 1))
