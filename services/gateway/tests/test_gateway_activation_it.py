"""Person accounts on the real local stack: enrollment's `ApplicantsImported` over Kafka builds the `persons`
read model; the enrolling enterprise (or institution, or an administrator) gets a one-time code; the trainee
activates with it and a password of their own."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from events import ApplicantsImported, Envelope
from events.enrollment import ImportedApplicant
from gateway import cli
from gateway.application.accounts import NewAccount
from gateway.domain.persons import id_number_check_character
from gateway.main import build_app
from gateway.projections.persons import PERSONS, persons
from gateway.settings import GatewaySettings
from gateway.testing import bearer, down_upstreams, login, new_username, signup
from servicekit.auth import Role
from servicekit.consumer import ReceivedEvent
from servicekit.kafka import create_producer, ensure_topics
from servicekit.mongo import Database, create_client, in_transaction
from servicekit.projections import snapshot
from servicekit.testing import running_app, unique_name

pytestmark = pytest.mark.integration

TOPIC = ApplicantsImported.topic()
OWN_PASSWORD = "Xuexi2025own"
_rng = random.Random()


def new_id_number() -> str:
    birth = datetime(1970, 1, 1) + timedelta(days=_rng.randrange(0, 12000))
    first17 = f"330106{birth:%Y%m%d}{_rng.randrange(0, 1000):03d}"
    return first17 + id_number_check_character(first17)


def new_mobile() -> str:
    return f"138{_rng.randrange(0, 10**8):08d}"


def applicant(id_number: str, name: str, mobile: str = "") -> ImportedApplicant:
    return ImportedApplicant(
        applicant_id=uuid.uuid4().hex, name=name, gender="男", id_number=id_number, mobile=mobile
    )


def batch(enterprise_id: str, institution_id: str, *applicants: ImportedApplicant) -> ApplicantsImported:
    return ApplicantsImported(
        batch_id=uuid.uuid4().hex,
        enterprise_id=enterprise_id,
        institution_id=institution_id,
        position="施工员",
        specialisation="土建施工",
        training_mode="online",
        applicants=list(applicants),
    )


def envelope(event: ApplicantsImported, time: datetime | None = None) -> Envelope:
    return Envelope.for_event(event, subject=event.batch_id, source="/enrollment", time=time)


async def publish(settings: GatewaySettings, *envelopes: Envelope) -> None:
    await ensure_topics(settings, [TOPIC])
    producer = create_producer(settings)
    await producer.start()
    try:
        for item in envelopes:
            key, value, headers = item.to_kafka()
            await producer.send_and_wait(TOPIC, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


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


@pytest.fixture
async def client(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(build_app(settings)) as http:
        yield http


async def wait_for_person(
    db: Database,
    id_number: str,
    until: Callable[[dict[str, Any]], bool] = lambda _: True,
    timeout: float = 60,
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        doc = await db[PERSONS].find_one({"_id": id_number})
        if doc is not None and until(doc):
            return doc
        assert asyncio.get_running_loop().time() < deadline, f"persons read model: {doc}"
        await asyncio.sleep(0.2)


async def account(settings: GatewaySettings, role: Role, **fields: Any) -> dict[str, Any]:
    """An administrator-created account (the CLI's use case), logged in through the given client later."""
    username = new_username(role.value[:4])
    password = "Guanli2025ok"
    await cli.create_account(settings, NewAccount(username=username, role=role, password=password, **fields))
    return {"username": username, "password": password, **fields}


async def token(client: httpx.AsyncClient, credentials: dict[str, Any]) -> dict[str, str]:
    response = await login(client, credentials["username"], credentials["password"])
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def code_url(id_number: str) -> str:
    return f"/api/gateway/persons/{id_number}/activation-code"


async def activate(client: httpx.AsyncClient, id_number: str, code: str, **extra: Any) -> httpx.Response:
    body = {"id_number": id_number, "code": code, "password": OWN_PASSWORD, **extra}
    return await client.post("/api/gateway/auth/activate", json=body)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


async def test_enrolled_person_activates_with_a_one_time_code(
    client: httpx.AsyncClient, settings: GatewaySettings, mongo: Database
) -> None:
    admin = await token(client, await account(settings, Role.ADMIN))
    institution_id = unique_name("inst")
    institution = await token(client, await account(settings, Role.INSTITUTION, org_id=institution_id))
    reviewer = await token(client, await account(settings, Role.REVIEWER, city="杭州"))
    enrolling = await signup(client)
    other = await signup(client)
    ent, other_ent = bearer(enrolling["access_token"]), bearer(other["access_token"])

    zhang, li = new_id_number(), new_id_number()
    mobile = new_mobile()
    first = batch(
        enrolling["org_id"], institution_id, applicant(zhang, "张三", mobile), applicant(li, "李四")
    )
    await publish(settings, envelope(first))
    doc = await wait_for_person(mongo, zhang)
    assert doc["name"] == "张三" and doc["mobile"] == mobile
    assert doc["enterprise_ids"] == [enrolling["org_id"]] and doc["institution_ids"] == [institution_id]
    await wait_for_person(mongo, li)

    # who may ask for the code
    assert (await client.post(code_url(zhang))).status_code == 401
    not_owner = await client.post(code_url(zhang), headers=other_ent)
    assert not_owner.status_code == 403 and not_owner.json()["code"] == "not_owner", not_owner.text
    by_reviewer = await client.post(code_url(zhang), headers=reviewer)
    assert by_reviewer.status_code == 403 and by_reviewer.json()["code"] == "role_forbidden"
    unknown = await client.post(code_url(new_id_number()), headers=ent)
    assert unknown.status_code == 404 and unknown.json()["code"] == "person_not_found"

    issued = await client.post(code_url(zhang.lower()), headers=ent)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    first_code = body["code"]
    assert len(first_code) == 8 and first_code.isdigit() and body["id_number"] == zhang
    assert body["name"] == "张三" and body["sent_to"] == f"{mobile[:3]}****{mobile[-4:]}"
    assert body["max_attempts"] == 5 and issued.headers["cache-control"] == "no-store"
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=71) < expires_at - datetime.now(UTC) <= timedelta(hours=72)

    stored = await mongo["activation_codes"].find_one({"_id": zhang})
    assert stored is not None and stored["code_hash"].startswith("$argon2id$") and stored["attempts"] == 0
    assert first_code not in str(stored)
    message = await mongo["notifications"].find_one({"mobile": mobile})
    assert message is not None and first_code in message["text"] and message["kind"] == "activation_code"

    # the institution asks too: a new code replaces the first one
    reissued = await client.post(code_url(zhang), headers=institution)
    assert reissued.status_code == 200
    code = reissued.json()["code"]
    assert (await mongo["notifications"].count_documents({"mobile": mobile})) == 2

    refused = await activate(client, zhang, first_code) if first_code != code else None
    if refused is not None:
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_activation_code"
    bad = await activate(client, zhang, wrong(code))
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_activation_code"
    assert bad.json()["errors"]["remaining_attempts"] == (3 if refused is not None else 4)
    malformed = await activate(client, zhang[:17] + ("0" if zhang[17] != "0" else "1"), code)
    assert malformed.status_code == 422 and malformed.json()["code"] == "invalid_id_number"
    weak = await activate(client, zhang, code, password="111111")
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"

    activated = await activate(client, zhang, code)
    assert activated.status_code == 200, activated.text
    tokens = activated.json()
    assert tokens["role"] == "person" and tokens["org_id"] == zhang
    assert tokens["username"] == zhang.lower() and tokens["access_token"] and tokens["refresh_token"]
    me = await client.get("/api/gateway/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "person" and me.json()["org_id"] == zhang
    assert me.json()["display_name"] == "张三" and me.json()["role_label"] == "学员"
    assert (await login(client, zhang, OWN_PASSWORD)).status_code == 200

    # the code is gone: neither it nor a second activation works, and no new code is handed out
    assert await mongo["activation_codes"].find_one({"_id": zhang}) is None
    # ...and a second activation is answered like any wrong code: nothing tells that the account exists
    again = await activate(client, zhang, code, username=new_username("again"))
    assert again.status_code == 401 and again.json()["code"] == "invalid_activation_code"
    no_new_code = await client.post(code_url(zhang), headers=ent)
    assert no_new_code.status_code == 409 and no_new_code.json()["code"] == "person_already_active"
    person_session = bearer(tokens["access_token"])
    assert (await client.post(code_url(li), headers=person_session)).status_code == 403

    # no mobile: the code is only handed over; a chosen username
    li_code = await client.post(code_url(li), headers=admin)
    assert li_code.status_code == 200 and li_code.json()["sent_to"] is None
    username = new_username("Lisi")
    li_tokens = await activate(client, li, li_code.json()["code"], username=username)
    assert li_tokens.status_code == 200, li_tokens.text
    assert li_tokens.json()["username"] == username.lower() and li_tokens.json()["org_id"] == li

    # a later batch of another enterprise: it may now ask for codes as well (sets grow, name stays latest)
    wang = new_id_number()
    await publish(settings, envelope(batch(enrolling["org_id"], institution_id, applicant(wang, "王五"))))
    await wait_for_person(mongo, wang)
    earlier = datetime.now(UTC) - timedelta(days=1)
    later_batch = batch(other["org_id"], "inst-other", applicant(wang, "王老五", new_mobile()))
    await publish(settings, envelope(later_batch, time=earlier))
    doc = await wait_for_person(mongo, wang, lambda d: len(d["enterprise_ids"]) == 2)
    assert doc["enterprise_ids"] == sorted([enrolling["org_id"], other["org_id"]])
    assert doc["institution_ids"] == sorted([institution_id, "inst-other"])
    assert doc["name"] == "王五" and doc["mobile"] == later_batch.applicants[0].mobile
    assert (await client.post(code_url(wang), headers=other_ent)).status_code == 200

    # administrators list accounts (never with hashes)
    listed = await client.get("/api/gateway/accounts", params={"role": "person"}, headers=admin)
    assert listed.status_code == 200, listed.text
    assert {a["org_id"] for a in listed.json()["items"]} == {zhang, li} and listed.json()["total"] == 2
    assert "argon2" not in listed.text and "password_hash" not in listed.text
    page = await client.get("/api/gateway/accounts", params={"limit": 2, "skip": 1}, headers=admin)
    assert len(page.json()["items"]) == 2 and page.json()["total"] == 7  # 3 by admin, 2 signups, 2 persons
    by_prefix = await client.get(
        "/api/gateway/accounts", params={"username": username.upper()}, headers=admin
    )
    assert [a["username"] for a in by_prefix.json()["items"]] == [username.lower()]
    by_city = await client.get("/api/gateway/accounts", params={"city": "杭州市"}, headers=admin)
    assert [a["role"] for a in by_city.json()["items"]] == ["reviewer"]
    bad_city = await client.get("/api/gateway/accounts", params={"city": "上海"}, headers=admin)
    assert bad_city.status_code == 422
    assert (await client.get("/api/gateway/accounts", headers=ent)).status_code == 403
    assert (await client.get("/api/gateway/accounts", headers=person_session)).status_code == 403
    # still: an administrator cannot create a person account
    person = await client.post(
        "/api/gateway/accounts",
        json={"username": new_username("p"), "role": "person", "org_id": wang, "password": OWN_PASSWORD},
        headers=admin,
    )
    assert person.status_code == 422

    # the read model is rebuilt identically from the log
    mine = [zhang, li, wang]
    before = [doc async for doc in mongo[PERSONS].find({"_id": {"$in": mine}}).sort("_id", 1)]
    runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    await runtime.rebuild_projections()
    after = [doc async for doc in mongo[PERSONS].find({"_id": {"$in": mine}}).sort("_id", 1)]
    assert after == before and len(after) == 3


async def test_wrong_codes_void_the_code(
    client: httpx.AsyncClient, settings: GatewaySettings, mongo: Database
) -> None:
    enterprise = await signup(client)
    ent = bearer(enterprise["access_token"])
    number = new_id_number()
    await publish(settings, envelope(batch(enterprise["org_id"], "inst-x", applicant(number, "赵六"))))
    await wait_for_person(mongo, number)
    code = (await client.post(code_url(number), headers=ent)).json()["code"]

    for left in (4, 3, 2, 1):
        response = await activate(client, number, wrong(code))
        assert response.status_code == 401 and response.json()["errors"]["remaining_attempts"] == left
    fifth = await activate(client, number, wrong(code))
    assert fifth.status_code == 423 and fifth.json()["code"] == "activation_locked"
    right_too_late = await activate(client, number, code)
    assert right_too_late.status_code == 423 and right_too_late.json()["code"] == "activation_locked"

    # guesses in parallel cannot exceed the limit either
    code = (await client.post(code_url(number), headers=ent)).json()["code"]
    results = await asyncio.gather(*(activate(client, number, wrong(code)) for _ in range(8)))
    assert sorted(r.status_code for r in results).count(401) == 4
    stored = await mongo["activation_codes"].find_one({"_id": number})
    assert stored is not None and stored["attempts"] == 5

    # a new code starts afresh
    code = (await client.post(code_url(number), headers=ent)).json()["code"]
    assert (await activate(client, number, code)).status_code == 200


async def test_expired_code(gateway_settings: Callable[..., GatewaySettings]) -> None:
    settings = gateway_settings(activation_code_ttl_seconds=1, **down_upstreams())
    async with running_app(build_app(settings)) as client:
        mongo = create_client(settings.mongo_url)
        try:
            enterprise = await signup(client)
            number = new_id_number()
            event = batch(enterprise["org_id"], "inst-x", applicant(number, "钱七", new_mobile()))
            await publish(settings, envelope(event))
            await wait_for_person(mongo[settings.database_name], number)
            issued = await client.post(code_url(number), headers=bearer(enterprise["access_token"]))
            assert issued.status_code == 200
            await asyncio.sleep(1.1)
            expired = await activate(client, number, issued.json()["code"])
            assert expired.status_code == 410 and expired.json()["code"] == "activation_expired"
            none = await activate(client, new_id_number(), "12345678")
            assert none.status_code == 401 and none.json()["code"] == "invalid_activation_code"
        finally:
            await mongo.close()


async def test_persons_projection_is_order_independent(settings: GatewaySettings) -> None:
    """Every order of the same imports (and duplicates) gives the same document."""
    number = new_id_number()
    now = datetime.now(UTC)
    imports = [
        (now, batch("ent-a", "inst-x", applicant(number, "张三", "13800000001"))),
        (now + timedelta(minutes=1), batch("ent-b", "inst-x", applicant(number, "张三丰"))),
        (now - timedelta(minutes=1), batch("ent-c", "inst-y", applicant(number, "张3", "13800000003"))),
    ]
    received = [
        ReceivedEvent(envelope(event, time), event, TOPIC, 0, offset)
        for offset, (time, event) in enumerate(imports)
    ]
    client = create_client(settings.mongo_url)
    try:
        documents: list[list[dict[str, Any]]] = []
        for order in [
            *itertools.permutations(received),
            (received[0], received[1], received[0], received[2]),
        ]:
            database = f"{settings.database_name}-{len(documents)}"
            handlers = persons(database).handlers
            for item in order:
                await in_transaction(client, lambda tx, item=item, h=handlers: h.dispatch(item, tx))
            documents.append((await snapshot(client[database], [PERSONS]))[PERSONS])
            await client.drop_database(database)
        assert all(d == documents[0] for d in documents)
        doc = documents[0][0]
        assert doc["enterprise_ids"] == ["ent-a", "ent-b", "ent-c"] and doc["institution_ids"] == [
            "inst-x",
            "inst-y",
        ]
        assert doc["name"] == "张三丰" and doc["mobile"] == "13800000001"
        assert doc["first_imported_at"] < doc["last_imported_at"]
    finally:
        await client.close()
