"""`/api/<service>/admin/dead-letters` on the real stack: every service's app has it, only administrators
get through, personal data in errors is masked, and replaying (a Kafka or a store letter) is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from events import Envelope
from kit_events import CounterIncremented
from servicekit import kafka
from servicekit.app import create_app
from servicekit.auth import Identity, Role, TokenCodec
from servicekit.consumer import ConsumerRunner, ReceivedEvent
from servicekit.mongo import Session, create_client
from servicekit.projections import Projection
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.subscription import STORE_DEAD_LETTERS
from servicekit.testing import running_app, unique_name

pytestmark = pytest.mark.integration

ID_NUMBER = "330102199001011234"
MOBILE = "13812345678"


async def _dead_letter_one(settings: ServiceSettings, topic: str) -> str:
    """A record of `topic` a consumer group of this service gives up on (its error quotes personal data)."""
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    projection = Projection(
        name="people", collections=["people"], database=settings.database_name, extra_topics=[topic]
    )

    @projection.handlers.on(CounterIncremented)
    async def refuse(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        raise ValueError(f"身份证号{event.counter_id} 手机 {MOBILE} 不符")

    envelope = Envelope.for_event(
        CounterIncremented(counter_id=ID_NUMBER, amount=1), subject="s", source="/t"
    )
    producer = kafka.create_producer(settings)
    await producer.start()
    try:
        key, value, headers = envelope.to_kafka()
        await (await producer.send(topic, value=value, key=key, headers=headers))
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
        await runner.handle_batch([r async for r in kafka.read_to_end(settings, [topic])])
        assert runner.dead_lettered == 1
    finally:
        await producer.stop()
        await client.close()
    return envelope.id


async def test_administrators_list_and_replay_dead_letters_over_http(
    make_settings: Callable[..., ServiceSettings], jwt_secret: str
) -> None:
    settings = make_settings(unique_name("adm"))
    service = settings.service_name
    topic = unique_name("people") + ".events"
    await kafka.ensure_topics(settings, [topic])
    event_id = await _dead_letter_one(settings, topic)
    runtime = ServiceRuntime(settings, own_topics=[CounterIncremented.topic()])
    app = create_app(runtime, [], title="test")
    codec = TokenCodec(jwt_secret, settings.jwt_issuer)
    admin = {"Authorization": "Bearer " + codec.issue(Identity("acc-1", Role.ADMIN))}
    institution = {"Authorization": "Bearer " + codec.issue(Identity("acc-2", Role.INSTITUTION, org_id="i"))}
    base = f"/api/{service}/admin/dead-letters"
    async with running_app(app) as client:
        # a store letter: one of the service's own events its projection gave up on
        await runtime.db[STORE_DEAD_LETTERS].insert_one(
            {
                "_id": "totals:ev-store-1",
                "subscription": "totals",
                "event_id": "ev-store-1",
                "type": "kittest.CounterIncremented.v7",
                "error": f"申请人 姓名: 张三 手机 {MOBILE}",
                "attempts": 5,
                "failed_at": datetime(2020, 1, 1, tzinfo=UTC),
                "seen": 1,
                "replayed": False,
            }
        )

        assert (await client.get(base)).status_code == 401
        refused = await client.get(base, headers=institution)
        assert refused.status_code == 403 and refused.json()["code"] == "role_forbidden"

        listed = await client.get(base, headers=admin)
        assert listed.status_code == 200, listed.text
        page = listed.json()
        assert page["total"] == 2 and topic in page["topics"]
        kafka_letter, store_letter = page["items"]  # the newest first
        assert (kafka_letter["source"], kafka_letter["event_id"], kafka_letter["topic"]) == (
            "kafka",
            event_id,
            topic,
        )
        assert kafka_letter["state"] == "pending" and kafka_letter["state_label"] == "待处理"
        assert "330102********1234" in kafka_letter["error"] and "138****5678" in kafka_letter["error"]
        assert (store_letter["source"], store_letter["event_id"]) == ("store", "ev-store-1")
        assert ID_NUMBER not in listed.text and MOBILE not in listed.text and "张三" not in listed.text

        only_topic = (await client.get(base, params={"topic": topic, "limit": 1}, headers=admin)).json()
        assert [i["id"] for i in only_topic["items"]] == [kafka_letter["id"]] and only_topic["total"] == 1
        second = (await client.get(base, params={"skip": 1, "limit": 1}, headers=admin)).json()
        assert [i["id"] for i in second["items"]] == [store_letter["id"]]
        stored = (await client.get(base, params={"source": "store"}, headers=admin)).json()
        assert [i["id"] for i in stored["items"]] == [store_letter["id"]]

        # replay a Kafka letter: published again to the original topic, once however often it is asked
        replay = f"{base}/{kafka_letter['id']}/replay"
        assert (await client.post(replay, headers=institution)).status_code == 403
        first = await client.post(replay, headers=admin)
        assert first.status_code == 200, first.text
        assert first.json()["state"] == "replayed" and first.json()["replayed_now"] is True
        again = await client.post(replay, headers=admin)
        assert again.status_code == 200 and again.json()["replayed_now"] is False
        republished = [
            r
            async for r in kafka.read_to_end(settings, [topic])
            if kafka.headers_dict(r.headers).get("ce_id") == event_id
        ]
        assert len(republished) == 2, "the original and one replay"
        pending = (await client.get(base, params={"state": "pending"}, headers=admin)).json()
        assert [i["id"] for i in pending["items"]] == [store_letter["id"]]

        # replay a store letter: flagged for the service's subscriptions, once
        store_replay = f"{base}/{store_letter['id']}/replay"
        flagged = (await client.post(store_replay, headers=admin)).json()
        assert flagged["state"] == "replay_requested" and flagged["replayed_now"] is True
        assert (await client.post(store_replay, headers=admin)).json()["replayed_now"] is False
        letter = await runtime.db[STORE_DEAD_LETTERS].find_one({"_id": "totals:ev-store-1"})
        assert letter is not None and letter["replay"] is True

        unknown = await client.post(f"{base}/k.bm8tc3VjaA/replay", headers=admin)
        assert unknown.status_code == 404 and unknown.json()["code"] == "dead_letter_not_found"
        assert (await client.post(f"{base}/garbage/replay", headers=admin)).status_code == 404
