"""The notifications consumer and the inbox API on the real local MongoDB (the consumer's handlers called in
transactions as the consumer runner calls them; the app run in-process): an event consumed twice gives its
messages once, the SMS reach the file once, and every account reads only its own principal's inbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from events import DomainEvent, Envelope
from events.enrollment import ApplicantQualified, ApplicantsImported, ImportedApplicant, TrainingPlanned
from events.registration import EnterpriseRegistered, EnterpriseRejected
from gateway.main import build_app
from gateway.notifications.adapters.sms import LocalSmsFile
from gateway.notifications.adapters.store import COLLECTION, MessageStore
from gateway.notifications.application.consumer import NotificationsConsumer
from gateway.notifications.application.dispatch import SmsDispatcher
from gateway.notifications.settings import NotifySettings
from gateway.settings import GatewaySettings
from gateway.testing import bearer, down_upstreams, signup
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Database, create_client, in_transaction
from servicekit.testing import running_app

pytestmark = pytest.mark.integration

ID = "330106199001011234"


@pytest.fixture
def settings(gateway_settings: Callable[..., GatewaySettings]) -> GatewaySettings:
    return gateway_settings(**down_upstreams())


@pytest.fixture
async def mongo(settings: GatewaySettings) -> AsyncIterator[Database]:
    client = create_client(settings.mongo_url)
    try:
        yield client[settings.database_name]
    finally:
        await client.close()


def received(event: DomainEvent, event_id: str | None = None) -> ReceivedEvent:
    envelope = Envelope.for_event(event, subject="s", source="/test", id=event_id or uuid.uuid4().hex)
    return ReceivedEvent(envelope=envelope, event=event, topic=event.topic(), partition=0, offset=0)


async def consume(settings: GatewaySettings, consumer: NotificationsConsumer, *items: ReceivedEvent) -> None:
    policy = consumer.policy()
    client = create_client(settings.mongo_url)
    try:
        for item in items:

            async def work(session: object, item: ReceivedEvent = item) -> None:
                await policy.handlers.dispatch(item, session)

            await in_transaction(client, work)
    finally:
        await client.close()


def imported(enterprise_id: str, applicant_id: str) -> ApplicantsImported:
    person = ImportedApplicant(applicant_id=applicant_id, name="张三", gender="男", id_number=ID.lower())
    return ApplicantsImported(
        batch_id="b-1",
        enterprise_id=enterprise_id,
        institution_id="inst-1",
        position="施工员",
        training_mode="offline",
        applicants=[person],
    )


def registered(enterprise_id: str, mobile: str) -> EnterpriseRegistered:
    return EnterpriseRegistered(
        enterprise_id=enterprise_id,
        credit_code="91330100MA2XXXXX1X",
        name="杭州测试建设有限公司",
        city="杭州",
        contact_mobile=mobile,
    )


async def test_an_event_consumed_twice_gives_its_messages_once(
    settings: GatewaySettings, mongo: Database, tmp_path: Path
) -> None:
    store = MessageStore(mongo)
    await store.ensure_indexes()
    consumer = NotificationsConsumer(settings.database_name, NotifySettings().templates(), "身份证原件")
    enterprise_id = uuid.uuid4().hex
    await mongo["persons"].insert_one({"_id": ID, "name": "张三", "mobile": "13900000002"})
    rejected = received(EnterpriseRejected(enterprise_id=enterprise_id, reviewer_id="r", reason="执照不清晰"))
    qualified = ApplicantQualified(
        applicant_id="a-1",
        batch_id="b-1",
        enterprise_id=enterprise_id,
        institution_id="inst-1",
        id_number=ID,
        name="张三",
        position="施工员",
        training_mode="offline",
    )
    planned = TrainingPlanned(
        plan_id="p-1",
        applicant_id="a-1",
        institution_id="inst-1",
        enterprise_id=enterprise_id,
        training_mode="offline",
        starts_on=date(2026, 12, 7),
        ends_on=date(2026, 12, 9),
    )
    await consume(
        settings,
        consumer,
        received(registered(enterprise_id, "13800000001")),
        received(imported(enterprise_id, "a-1")),
        rejected,
        rejected,  # redelivered
        received(qualified),
        received(planned),
    )
    await consume(settings, consumer, rejected)  # and once more, later

    docs = [d async for d in mongo[COLLECTION].find({}).sort("created_at", 1)]
    seen = sorted((d["kind"], d["recipient"], d["channel"]) for d in docs)
    assert seen == sorted(
        [
            ("registration_rejected", f"enterprise:{enterprise_id}", "inbox"),
            ("registration_rejected", f"enterprise:{enterprise_id}", "sms"),
            ("applicant_qualified", f"enterprise:{enterprise_id}", "inbox"),
            ("applicant_qualified", f"person:{ID}", "inbox"),
            ("applicant_qualified", f"person:{ID}", "sms"),
            # the applicant's ID number from the import: the person is told of the plan
            ("training_planned", f"person:{ID}", "inbox"),
            ("training_planned", f"person:{ID}", "sms"),
            ("training_planned", f"enterprise:{enterprise_id}", "inbox"),
        ]
    )
    sms = {d["kind"]: d for d in docs if d["channel"] == "sms" and d["recipient"].startswith("enterprise")}
    assert sms["registration_rejected"]["mobile"] == "13800000001"
    assert "执照不清晰" in sms["registration_rejected"]["text"]

    outbox = tmp_path / "sms.jsonl"
    dispatcher = SmsDispatcher(store, LocalSmsFile(outbox), every_seconds=1)
    assert await dispatcher.dispatch_once() == 3
    assert await dispatcher.dispatch_once() == 0
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    # the enterprise's rejection, the person's qualification and plan
    assert sorted(line["kind"] for line in lines) == [
        "applicant_qualified",
        "registration_rejected",
        "training_planned",
    ]
    assert len({line["id"] for line in lines}) == 3
    assert await mongo[COLLECTION].count_documents({"status": "pending"}) == 0


async def test_every_account_reads_only_its_own_inbox(
    settings: GatewaySettings, mongo: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SMS_FILE", str(tmp_path / "sms.jsonl"))
    async with running_app(build_app(settings)) as client:
        mine, theirs = await signup(client), await signup(client)
        consumer = NotificationsConsumer(settings.database_name, NotifySettings().templates(), "身份证原件")
        for org, reason in (
            (mine["org_id"], "原因一"),
            (mine["org_id"], "原因二"),
            (theirs["org_id"], "原因三"),
        ):
            event = EnterpriseRejected(enterprise_id=org, reviewer_id="r", reason=reason)
            await consume(settings, consumer, received(event))
        me, them = bearer(mine["access_token"]), bearer(theirs["access_token"])

        assert (await client.get("/api/notifications/inbox")).status_code == 401
        count = await client.get("/api/notifications/inbox/unread-count", headers=me)
        assert count.status_code == 200 and count.json() == {"unread": 2}
        page = (await client.get("/api/notifications/inbox", headers=me)).json()
        assert page["total"] == 2 and page["unread"] == 2 and page["page"] == 1
        assert [m["kind"] for m in page["items"]] == ["registration_rejected"] * 2
        assert "原因二" in page["items"][0]["body"]  # newest first
        assert page["items"][0]["created_at"].endswith("+08:00")
        their_id = (await client.get("/api/notifications/inbox", headers=them)).json()["items"][0]["id"]

        refused = await client.post(f"/api/notifications/inbox/{their_id}/read", headers=me)
        assert refused.status_code == 404 and refused.json()["code"] == "notification_not_found"
        first = page["items"][0]["id"]
        assert (await client.post(f"/api/notifications/inbox/{first}/read", headers=me)).status_code == 200
        unread = (await client.get("/api/notifications/inbox?unread=true", headers=me)).json()
        assert unread["total"] == 1 and "原因一" in unread["items"][0]["body"]
        done = await client.post("/api/notifications/inbox/read-all", headers=me)
        assert done.json() == {"marked": 1}
        count = await client.get("/api/notifications/inbox/unread-count", headers=me)
        assert count.json() == {"unread": 0}
        assert (await client.get("/api/notifications/inbox/unread-count", headers=them)).json() == {
            "unread": 1
        }


async def test_old_events_fill_the_lookups_but_tell_nobody(
    settings: GatewaySettings, mongo: Database
) -> None:
    consumer = NotificationsConsumer(settings.database_name, NotifySettings().templates(), "身份证原件")
    enterprise_id = uuid.uuid4().hex
    old = datetime.now(UTC) - timedelta(days=4)

    def aged(event: DomainEvent) -> ReceivedEvent:
        envelope = Envelope.for_event(event, subject="s", source="/test", time=old)
        return ReceivedEvent(envelope=envelope, event=event, topic=event.topic(), partition=0, offset=0)

    qualified = ApplicantQualified(
        applicant_id="a-old",
        batch_id="b-1",
        enterprise_id=enterprise_id,
        institution_id="inst-1",
        id_number=ID,
        name="张三",
        position="施工员",
        training_mode="offline",
    )
    rejected = EnterpriseRejected(enterprise_id=enterprise_id, reviewer_id="r", reason="旧的驳回")
    await consume(
        settings,
        consumer,
        aged(registered(enterprise_id, "13800000001")),
        aged(imported(enterprise_id, "a-old")),
        aged(qualified),
        aged(rejected),
    )
    assert await mongo[COLLECTION].count_documents({}) == 0
    assert (await mongo["notify_applicants"].find_one({"_id": "a-old"}) or {}).get("id_number") == ID
    assert (await mongo["notify_enterprises"].find_one({"_id": enterprise_id}) or {}).get(
        "mobile"
    ) == "13800000001"
