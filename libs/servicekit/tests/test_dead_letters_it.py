"""Dead letters on the real stack: once per (group, record) however often a record is met again (a consumer
fenced by a rebuild's pause reads its batch again, a rebuild replays the log), every path that meets an
unknown major dead-letters it (Kafka consumers, store subscriptions, rebuilds), and personal data in dead
letters stays out of the log lines and of `python -m servicekit.dlq list`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from events import Envelope
from kit_events import CounterIncremented, Measured
from servicekit import dlq, kafka
from servicekit.consumer import POSITIONS, ConsumerRunner, ReceivedEvent
from servicekit.dlq import DEAD_LETTER_MARKS
from servicekit.eventstore import EventStore
from servicekit.logging import configure_logging
from servicekit.mongo import Session, create_client
from servicekit.projections import Projection, rebuild
from servicekit.settings import ServiceSettings
from servicekit.subscription import STORE_DEAD_LETTERS, StoreSubscription
from servicekit.testing import unique_name

pytestmark = pytest.mark.integration

ID_NUMBER = "330102199001011234"
MOBILE = "13812345678"


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


async def _raw_letters(settings: ServiceSettings, topic: str) -> list[dict[str, str]]:
    """Every record of `<topic>.dlq` (not deduplicated), as header dicts."""
    return [
        kafka.headers_dict(r.headers)
        async for r in kafka.read_to_end(settings, [topic + ".dlq"])
        if not kafka.headers_dict(r.headers).get(dlq.REPLAYED_MARK)
    ]


def _measures(database: str, topic: str) -> Projection:
    projection = Projection(
        name="measures", collections=["measures"], database=database, extra_topics=[topic]
    )

    @projection.handlers.on(Measured)
    async def measured(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, Measured)
        await projection.collection(session).update_one(
            {"_id": event.item}, {"$set": {"millimetres": event.millimetres}}, upsert=True, session=session
        )

    return projection


def _future_measure(event_id: str) -> Envelope:
    return Envelope(
        id=event_id,
        type="kittest.Measured.v9",
        source="/t",
        time=datetime.now(UTC),
        subject="脚手架",
        data={"item": "脚手架", "nanometres": 1},
    )


async def test_a_kafka_record_is_dead_lettered_once_however_often_it_is_met(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings()
    topic = unique_name("measures") + ".events"
    await kafka.ensure_topics(settings, [topic])
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    projection = _measures(settings.database_name, topic)
    group = projection.group_id(settings.service_name)
    # the same subject (the record key): both in one partition, the poison one first
    good = Envelope.for_event(Measured(item="模板", millimetres=5), subject="脚手架", source="/t")
    await _publish(settings, topic, [_future_measure("future-kafka"), good])
    records = [r async for r in kafka.read_to_end(settings, [topic])]
    assert len(records) == 2 and records[0].partition == records[1].partition
    part = records[0].partition
    producer = kafka.create_producer(settings)
    await producer.start()
    try:
        runner = ConsumerRunner(
            settings=settings,
            client=client,
            database=db,
            group_id=group,
            handlers=projection.handlers,
            producer=producer,
            topics=[topic],
            max_attempts=2,
            backoff_seconds=0.01,
        )
        # A rebuild paused the group while the batch was being handled: the letter went out, the position
        # could not move (Fenced); after the pause the batch comes again — before, a second copy went out.
        await db[POSITIONS].insert_one(
            {
                "_id": f"{group}|{topic}|{part}",
                "group": group,
                "topic": topic,
                "partition": part,
                "offset": 0,
                "paused": True,
            }
        )
        with pytest.raises(Exception, match="paused"):
            await runner.handle_batch(records)
        await db[POSITIONS].update_one({"_id": f"{group}|{topic}|{part}"}, {"$set": {"paused": False}})
        runner._stored.clear()
        await runner.handle_batch(records)
        assert {d["_id"]: d["millimetres"] async for d in db["measures"].find({})} == {"模板": 5}

        letters = await _raw_letters(settings, topic)
        assert [m["ce_id"] for m in letters] == ["future-kafka"], "one dead letter, not one per meeting"
        assert "major version" in letters[0]["dlq_error"]
        mark = await db[DEAD_LETTER_MARKS].find_one({"_id": f"{group}|{topic}|{part}|0"})
        assert mark is not None and mark["published"] and mark["seen"] == 2, mark

        # Rebuilds (check and swap) meet it again: counted, not copied.
        checked = await rebuild(projection, settings=settings, client=client, database=db, check=True)
        assert checked.differences == [] and any("Measured.v9" in p for p in checked.poison)
        swapped = await rebuild(projection, settings=settings, client=client, database=db)
        assert swapped.swapped
        assert len(await _raw_letters(settings, topic)) == 1
        mark = await db[DEAD_LETTER_MARKS].find_one({"_id": f"{group}|{topic}|{part}|0"})
        assert mark is not None and mark["seen"] == 4, mark
        pending = await dlq.pending(settings, topic)
        assert [(d.event_id, d.copies) for d in pending] == [("future-kafka", 1)]
    finally:
        await producer.stop()
        await client.close()


async def test_a_rebuild_dead_letters_an_unknown_major_no_runner_met_and_only_once(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings()
    topic = unique_name("measures") + ".events"
    await kafka.ensure_topics(settings, [topic])
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    projection = _measures(settings.database_name, topic)
    await _publish(settings, topic, [_future_measure("future-rebuild")])
    try:
        for _ in range(2):
            report = await rebuild(projection, settings=settings, client=client, database=db)
            assert report.swapped and any("Measured.v9" in p for p in report.poison)
        letters = await _raw_letters(settings, topic)
        assert [(m["ce_id"], m["dlq_group"]) for m in letters] == [
            ("future-rebuild", projection.group_id(settings.service_name))
        ]
    finally:
        await client.close()


async def test_a_store_subscription_dead_letters_an_unknown_major_and_a_rebuild_does_not_again(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings()
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    store = EventStore(client, db, source="/t")
    await store.ensure_indexes()
    projection = Projection(name="totals", collections=["totals"], database=settings.database_name)

    @projection.handlers.on(CounterIncremented)
    async def counted(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        await projection.collection(session).update_one(
            {"_id": event.counter_id}, {"$inc": {"total": event.amount}}, upsert=True, session=session
        )

    group = projection.group_id(settings.service_name)
    try:
        await store.append("a", [CounterIncremented(counter_id="a", amount=1)], expected_version=0)
        await store.append("b", [CounterIncremented(counter_id="b", amount=2)], expected_version=0)
        await store.append("c", [CounterIncremented(counter_id="c", amount=3)], expected_version=0)
        # "b" as a newer version of the service would have written it: a major this one does not know.
        await db["events"].update_one(
            {"stream_id": "b"},
            {"$set": {"type": "kittest.CounterIncremented.v7", "data": {"counter_id": "b", "delta": 2}}},
        )
        while await store.sequence():
            pass
        subscription = StoreSubscription(
            name=group, store=store, handlers=projection.handlers, settings=settings
        )
        for _ in range(5):
            await subscription.run_once()
        assert {d["_id"]: d["total"] async for d in db["totals"].find({})} == {"a": 1, "c": 3}
        letters = [d async for d in db[STORE_DEAD_LETTERS].find({})]
        assert [(d["type"], d["subscription"], d["seen"]) for d in letters] == [
            ("kittest.CounterIncremented.v7", group, 1)
        ], "an unknown major of a handled event is dead-lettered, not skipped"
        assert "major version" in letters[0]["error"]

        report = await rebuild(
            projection, settings=settings, client=client, database=db, store=store, own_contexts=["kittest"]
        )
        assert report.swapped and any("CounterIncremented.v7" in p for p in report.poison)
        letters = [d async for d in db[STORE_DEAD_LETTERS].find({})]
        assert [(d["type"], d["seen"], d["replayed"]) for d in letters] == [
            ("kittest.CounterIncremented.v7", 2, False)
        ]
        assert len(await dlq.store_letters(settings, settings.database_name)) == 1
    finally:
        await client.close()


async def test_personal_data_stays_out_of_dead_letter_log_lines_and_the_dlq_command(
    make_settings: Callable[..., ServiceSettings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    saved = structlog.get_config()
    configure_logging(settings.service_name, json_output=True)  # to the captured stderr, masked
    try:
        await _dead_letter_personal_data(settings, capsys)
    finally:
        structlog.configure(**saved)  # later tests must not write to this test's captured stream


async def _dead_letter_personal_data(settings: ServiceSettings, capsys: pytest.CaptureFixture[str]) -> None:
    topic = unique_name("counters") + ".events"
    await kafka.ensure_topics(settings, [topic])
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    projection = Projection(
        name="people", collections=["people"], database=settings.database_name, extra_topics=[topic]
    )

    @projection.handlers.on(CounterIncremented)
    async def refuse(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        raise ValueError(
            f"申请人 姓名: 张三 身份证号{event.counter_id}（前缀 {event.counter_id[:10]}…）手机 {MOBILE} 不符"
        )

    payload = CounterIncremented(counter_id=ID_NUMBER, amount=1)
    await _publish(settings, topic, [Envelope.for_event(payload, subject=ID_NUMBER, source="/t")])
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
        max_attempts=1,
        backoff_seconds=0.01,
    )
    try:
        records = [r async for r in kafka.read_to_end(settings, [topic])]
        await runner.handle_batch(records)
        assert runner.dead_lettered == 1
        letters = await _raw_letters(settings, topic)
        assert len(letters) == 1 and ID_NUMBER in letters[0]["dlq_error"], "the letter itself keeps the error"
    finally:
        await producer.stop()
        await client.close()
    logged = capsys.readouterr().err
    dead_lettered = [
        line for line in logged.splitlines() if "dead_lettered" in line or "handler_failed" in line
    ]
    assert dead_lettered, logged
    env = {
        **os.environ,
        "SERVICE_NAME": settings.service_name,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGO_URL": settings.mongo_url,
    }
    listed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "servicekit.dlq", "list", topic],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    shown: list[dict[str, Any]] = [
        json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")
    ]
    assert len(shown) == 1 and "330102********1234" in shown[0]["error"], listed.stdout
    for text in ["\n".join(dead_lettered), listed.stdout]:
        assert ID_NUMBER not in text
        assert ID_NUMBER[:10] not in text, "not even the first 10 digits"
        assert MOBILE not in text
        assert "张三" not in text
        assert "138****5678" in text
