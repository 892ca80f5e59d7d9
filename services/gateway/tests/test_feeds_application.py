"""The feeds' use cases with in-memory fakes: appending with scopes, paging and long-polling, webhook delivery
(signature, retries with backoff, give up and move on, replay, one stuck receiver beside a healthy one)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import pytest
from events import DomainEvent, Envelope
from events.enrollment import ApplicantQualified, ApplicantsImported, ImportedApplicant
from events.exam import CandidateVerified, ExamScheduled, PersonBlacklisted, PersonBlacklistLifted
from events.registration import EnterpriseRegistered
from gateway.feeds.adapters.sender import SendResult
from gateway.feeds.application.appender import append_batch, feed_models
from gateway.feeds.application.dispatcher import Dispatcher
from gateway.feeds.application.feed import FeedService, HeadWatcher
from gateway.feeds.application.subscriptions import SubscriptionService
from gateway.feeds.domain.audience import Audience
from gateway.feeds.domain.messages import SIGNATURE_HEADER, TIMESTAMP_HEADER
from gateway.feeds.domain.webhooks import DeliveryStatus
from gateway.feeds.settings import FeedSettings
from servicekit.auth import Identity, Role
from servicekit.consumer import ReceivedEvent
from servicekit.errors import Conflict, Forbidden
from servicekit.signing import verify

ID = "330106199001011234"


class MemoryLog:
    """The feed log's writer and reader ports in memory (the session is ignored)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.lookup: dict[str, dict[str, Any]] = {}
        self.people: dict[str, dict[str, Any]] = {}
        self.person_reads = 0

    async def existing(self, session: Any, event_ids: Any) -> set[str]:
        return {e["event_id"] for e in self.entries if e["event_id"] in set(event_ids)}

    async def lookups(self, session: Any, keys: Any) -> dict[str, Any]:
        return {k: self.lookup[k] for k in keys if k in self.lookup}

    async def persons(self, session: Any, id_numbers: Any) -> dict[str, Any]:
        self.person_reads += 1
        return {n: self.people[n] for n in id_numbers if n in self.people}

    async def learn(self, session: Any, found: Mapping[str, Mapping[str, Any]]) -> None:
        self.lookup.update({k: dict(v) for k, v in found.items()})

    async def append_many(self, session: Any, entries: Any) -> list[int]:
        return [await self.append(session, dict(entry)) for entry in entries]

    async def append(self, session: Any, entry: dict[str, Any]) -> int:
        seq = len(self.entries) + 1
        self.entries.append({"_id": seq, **entry})
        return seq

    async def head(self) -> int:
        return len(self.entries)

    async def read(self, scope: str, after: int, limit: int) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["_id"] > after and scope in e["scopes"]][:limit]

    async def entry(self, seq: int) -> dict[str, Any] | None:
        return self.entries[seq - 1] if 0 < seq <= len(self.entries) else None

    async def count_after(self, scope: str, after: int, cap: int = 10_000) -> int:
        return len(await self.read(scope, after, cap))


def received(event: DomainEvent, subject: str = "s") -> ReceivedEvent:
    envelope = Envelope.for_event(event, subject=subject, source="/test")
    return ReceivedEvent(envelope, event, event.topic(), 0, 0)


def registered(enterprise: str, city: str) -> EnterpriseRegistered:
    return EnterpriseRegistered(
        enterprise_id=enterprise, credit_code="91330100MA2XXXXX1X", name="建工", city=city, contact_mobile=""
    )


def qualified(applicant: str, enterprise: str, institution: str) -> ApplicantQualified:
    return ApplicantQualified(
        applicant_id=applicant,
        batch_id="b1",
        enterprise_id=enterprise,
        institution_id=institution,
        id_number=ID,
        name="张三",
        position="施工员",
        training_mode="online",
    )


async def test_feed_topics_exclude_face_and_identity() -> None:
    topics = {m.topic() for m in feed_models()}
    assert topics == {
        "registration.events",
        "enrollment.events",
        "payment.events",
        "exam.events",
        "certification.events",
    }


async def test_a_batch_is_appended_in_order_once_with_what_it_teaches() -> None:
    log = MemoryLog()
    first = received(registered("e1", "杭州市"))
    imported = ApplicantsImported(
        batch_id="b1",
        enterprise_id="e1",
        institution_id="i1",
        position="施工员",
        training_mode="online",
        applicants=[ImportedApplicant(applicant_id="a1", name="张三", gender="男", id_number=ID)],
    )
    # One batch: the registration teaches the city, the import the applicant, both used by the events after.
    batch = [first, received(imported), received(qualified("a1", "e1", "i1")), first]
    assert await append_batch(log, batch, None) == [1, 2, 3]
    assert await append_batch(log, [first], None) == []  # redelivered later: nothing changes
    assert [e["scopes"] for e in log.entries] == [
        ["province", "city:杭州"],
        ["province", "city:杭州", "institution:i1"],
        ["province", "city:杭州", "institution:i1"],
    ]
    assert log.lookup["applicant:a1"] == {"enterprise_ids": ["e1"], "institution_ids": ["i1"]}
    assert log.entries[0]["type"] == "registration.EnterpriseRegistered.v1"
    assert log.entries[0]["data"]["city"] == "杭州市"  # the payload as the event says it
    assert log.person_reads == 0


async def test_person_only_events_read_the_persons_once_per_batch() -> None:
    log = MemoryLog()
    log.people[ID] = {"enterprise_ids": ["e1"], "institution_ids": ["i1"]}
    log.lookup["enterprise:e1"] = {"city": "湖州"}
    blacklisted = PersonBlacklisted(
        blacklist_id="bl1", id_number=ID, reason="替考", until=date(2030, 1, 1), blacklisted_by="admin"
    )
    lifted = PersonBlacklistLifted(blacklist_id="bl1", id_number=ID, reason="复核", lifted_by="admin")
    assert await append_batch(log, [received(blacklisted), received(lifted)], None) == [1, 2]
    assert log.person_reads == 1
    assert log.entries[1]["scopes"] == ["province", "city:湖州", "institution:i1"]


async def fill(log: MemoryLog, count: int, scope: str = "city:杭州") -> None:
    for n in range(count):
        await log.append(
            None, {"event_id": f"ev{n}", "type": "t.E.v1", "data": {}, "scopes": ["province", scope]}
        )


AUDIENCE = Audience(Role.REVIEWER, "city:杭州", "杭州市")


async def test_paging_resumes_after_the_cursor_nothing_lost_or_repeated() -> None:
    log = MemoryLog()
    await fill(log, 7)
    await fill(log, 3, scope="city:宁波")
    feed = FeedService(log, HeadWatcher(log, 0.01))
    seen: list[str] = []
    cursor = 0
    while True:
        page = await feed.page(AUDIENCE, cursor, 3)
        seen += [e["id"] for e in page.events]
        cursor = page.cursor
        if not page.events:
            break
    assert seen == [f"ev{n}" for n in range(7)]
    assert cursor == 10  # moved past the other city's entries, never past one of ours
    other = await feed.page(Audience(Role.REVIEWER, "city:宁波", "宁波市"), 0, 100)
    assert len(other.events) == 3


async def test_long_poll_returns_when_an_entry_arrives() -> None:
    log = MemoryLog()
    feed = FeedService(log, HeadWatcher(log, 0.01))

    async def later() -> None:
        await asyncio.sleep(0.05)
        await fill(log, 1, scope="city:宁波")  # not ours: the poll keeps waiting
        await asyncio.sleep(0.05)
        await fill(log, 1)

    writer = asyncio.create_task(later())
    page = await feed.page(AUDIENCE, 0, 10, wait=5)
    await writer
    assert [e["cursor"] for e in page.events] == ["2"]
    empty = await feed.page(AUDIENCE, page.cursor, 10, wait=0.05)
    assert empty.events == [] and empty.cursor == 2


class MemoryWebhooks:
    def __init__(self) -> None:
        self.subs: dict[str, dict[str, Any]] = {}
        self.deliv: dict[str, dict[str, Any]] = {}

    async def insert(self, document: Mapping[str, Any]) -> None:
        self.subs[document["_id"]] = dict(document)

    async def get(self, subscription_id: str) -> dict[str, Any] | None:
        return self.subs.get(subscription_id)

    async def list_all(self, owner_account_id: str | None = None) -> list[dict[str, Any]]:
        return [s for s in self.subs.values() if owner_account_id in (None, s["owner_account_id"])]

    async def count_of(self, owner_account_id: str) -> int:
        return len(await self.list_all(owner_account_id))

    async def delete(self, subscription_id: str) -> bool:
        return self.subs.pop(subscription_id, None) is not None

    async def trying(self, subscription_id: str, current: Mapping[str, Any]) -> None:
        self.subs[subscription_id]["current"] = dict(current)

    async def settled(
        self, subscription_id: str, *, seq: int, success: bool, at: datetime, error: str | None, replay: bool
    ) -> bool:
        sub = self.subs.get(subscription_id)
        if sub is None:
            return False
        if not replay:
            sub["cursor"] = max(sub["cursor"], seq)
            sub["current"] = None
        if success:
            sub["delivered"] += 1
            sub["failed"] -= 1 if replay else 0
        elif not replay:
            sub["failed"] += 1
        return True

    async def record(self, document: Mapping[str, Any]) -> None:
        self.deliv[document["_id"]] = {**self.deliv.get(document["_id"], {}), **document}

    async def delivery(self, subscription_id: str, seq: int) -> dict[str, Any] | None:
        return self.deliv.get(f"{subscription_id}:{seq}")

    async def deliveries(self, subscription_id: str, limit: int, status: str | None = None) -> list[Any]:
        found = [d for d in self.deliv.values() if d["subscription_id"] == subscription_id]
        return [d for d in found if status in (None, d["status"])][:limit]

    async def queue_replay(self, subscription_id: str, seq: int) -> dict[str, Any] | None:
        found = self.deliv.get(f"{subscription_id}:{seq}")
        if found is None or found["status"] != DeliveryStatus.FAILED.value:
            return None
        found["status"] = DeliveryStatus.QUEUED.value
        return found

    async def queued(self, subscription_id: str, limit: int = 20) -> list[dict[str, Any]]:
        return await self.deliveries(subscription_id, limit, DeliveryStatus.QUEUED.value)

    async def prune(self, subscription_id: str, keep: int) -> None:
        pass


class ScriptedSender:
    """Answers per URL: a list of status codes to play (then 200), or `hang` to never answer in time."""

    def __init__(self, script: dict[str, list[int]], hang: set[str] | None = None) -> None:
        self.script = script
        self.hang = hang or set()
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.calls.append((url, body, headers))
        if url in self.hang:
            await asyncio.sleep(3600)
        codes = self.script.get(url, [])
        code = codes.pop(0) if codes else 200
        return SendResult(code, None if code < 300 else f"HTTP {code}", 1.0)


def settings(**overrides: Any) -> FeedSettings:
    values: dict[str, Any] = {
        "first_delay_seconds": 0.01,
        "max_delay_seconds": 0.02,
        "max_attempts": 3,
        "scan_seconds": 0.02,
        "poll_seconds": 0.01,
    }
    values.update(overrides)
    return FeedSettings(**values)


async def start(
    log: MemoryLog, sender: ScriptedSender, config: FeedSettings
) -> tuple[Dispatcher, SubscriptionService, asyncio.Event, asyncio.Task[None], MemoryWebhooks]:
    hooks = MemoryWebhooks()
    dispatcher = Dispatcher(
        settings=config,
        reader=log,
        webhooks=hooks,
        sender=sender,
        watcher=HeadWatcher(log, config.poll_seconds),
        leading=lambda: True,
    )
    service = SubscriptionService(config, hooks, log, dispatcher.wake)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    return dispatcher, service, stop, task, hooks


async def until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


REVIEWER = Identity("r1", Role.REVIEWER, org_id="330100", city="杭州市", username="hz")
INSTITUTION = Identity("i1", Role.INSTITUTION, org_id="inst-1", username="inst")


async def test_delivery_signed_retried_given_up_then_replayed() -> None:
    log = MemoryLog()
    await fill(log, 2)
    sender = ScriptedSender({"https://bo.example.cn/a": [500, 503, 502, 500]})  # 3 failures: event 1 given up
    dispatcher, service, stop, task, hooks = await start(log, sender, settings())
    created = await service.create(
        REVIEWER, url="https://bo.example.cn/a", secret=None, description="", from_start=True
    )
    sub_id = created.subscription["_id"]
    assert created.generated and len(created.secret) >= 32
    await until(lambda: hooks.subs[sub_id]["cursor"] == 2)
    first = hooks.deliv[f"{sub_id}:1"]
    assert first["status"] == "failed" and first["attempts"] == 3 and first["error"] == "HTTP 502"
    second = hooks.deliv[f"{sub_id}:2"]
    assert second["status"] == "delivered" and second["attempts"] == 2  # a 500, then 200
    _, body, headers = sender.calls[-1]
    assert verify(
        created.secret, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER].removeprefix("sha256=")
    )
    assert json.loads(body)["id"] == "ev1" and headers["X-Webhook-Id"] == "ev1"
    assert hooks.subs[sub_id]["failed"] == 1
    # The replay of the failed delivery: delivered now, the failure no longer counted.
    await service.replay(REVIEWER, sub_id, 1)
    await until(lambda: hooks.deliv[f"{sub_id}:1"]["status"] == "delivered")
    assert hooks.deliv[f"{sub_id}:1"]["attempts"] == 4
    assert hooks.subs[sub_id]["failed"] == 0
    with pytest.raises(Conflict):
        await service.replay(REVIEWER, sub_id, 1)
    stop.set()
    await task
    assert not dispatcher.tasks


async def test_a_stuck_receiver_does_not_hold_back_another() -> None:
    log = MemoryLog()
    sender = ScriptedSender({}, hang={"https://stuck.example.cn/"})
    _, service, stop, task, hooks = await start(log, sender, settings())
    stuck = await service.create(
        REVIEWER, url="https://stuck.example.cn/", secret=None, description="", from_start=True
    )
    healthy = await service.create(
        INSTITUTION, url="https://ok.example.cn/", secret="k" * 32, description="", from_start=True
    )
    await fill(log, 5, scope="city:杭州")
    for entry in log.entries:
        entry["scopes"].append("institution:inst-1")
    await until(lambda: hooks.subs[healthy.subscription["_id"]]["cursor"] == 5)
    assert hooks.subs[stuck.subscription["_id"]]["cursor"] == 0
    assert sum(1 for url, _, _ in sender.calls if url == "https://ok.example.cn/") == 5
    stop.set()
    await task


async def test_subscriptions_are_each_owners_own() -> None:
    log = MemoryLog()
    hooks = MemoryWebhooks()
    service = SubscriptionService(settings(max_per_owner=1), hooks, log)
    created = await service.create(
        REVIEWER, url="https://bo.example.cn/a", secret=None, description="x", from_start=False
    )
    with pytest.raises(Conflict) as limit:
        await service.create(
            REVIEWER, url="https://bo.example.cn/b", secret=None, description="", from_start=False
        )
    assert limit.value.code == "webhook_limit"
    with pytest.raises(Forbidden) as other:
        await service.get(INSTITUTION, created.subscription["_id"])
    assert other.value.code == "not_owner"
    assert await service.list_for(INSTITUTION) == []
    assert len(await service.list_for(Identity("a", Role.ADMIN))) == 1
    with pytest.raises(Forbidden):
        await service.create(
            Identity("e", Role.ENTERPRISE, org_id="e1"),
            url="https://x.cn/",
            secret=None,
            description="",
            from_start=False,
        )


async def test_a_later_batch_reaches_the_city_through_a_candidate() -> None:
    log = MemoryLog()
    await append_batch(log, [received(registered("e1", "宁波"))], None)
    scheduled = ExamScheduled(
        candidate_id="c1",
        session_id="s1",
        applicant_id="a1",
        enterprise_id="e1",
        institution_id="i1",
        id_number=ID,
        name="张三",
        position="安全员",
        starts_at=datetime(2026, 5, 1, 1, 0, tzinfo=UTC),
        room="101",
        seat=3,
    )
    await append_batch(log, [received(scheduled)], None)
    verified = CandidateVerified(candidate_id="c1", session_id="s1", id_number=ID)
    assert await append_batch(log, [received(verified)], None) == [3]
    assert log.entries[2]["scopes"] == ["province", "city:宁波", "institution:i1"]
    assert log.person_reads == 0
