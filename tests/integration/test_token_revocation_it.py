"""Ending access on the real platform: token versions, logout, the gateway-only rule, login throttling,
activation that reveals nothing, the password policy (docs/security-auth.md).

"Directly at a service" means a request to the service's own port, signed with the gateway's secret as the
gateway would sign it: the service then decides by itself (its revocation view), as it would for a request
the gateway forwarded before it learnt of the revocation. An unsigned direct request is refused outright.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from pymongo import AsyncMongoClient
from servicekit import origin
from servicekit.launcher import ServiceProcesses

from .helpers import bearer, login

pytestmark = pytest.mark.integration

PASSWORD = "Jianshe2026!"
# Documented bound (docs/security-auth.md): a revoked token is refused by every service within this long.
REVOCATION_BOUND_SECONDS = 5.0

# One GET per service that needs a token (any answer but 401 means the token was accepted).
PROBES = {
    "registration": "/api/registration/enterprises/me",
    "enrollment": "/api/enrollment/me/profile",
    "payment": "/api/payment/orders",
    "exam": "/api/exam/banks",
    "certification": "/api/certification/certificates",
}

MEASURED: dict[str, float] = {}


@pytest.fixture
def api(platform: ServiceProcesses) -> Iterator[httpx.AsyncClient]:
    yield httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30)


async def direct(
    platform: ServiceProcesses,
    service: str,
    token: str | None,
    *,
    signed: bool = True,
    secret: str | None = None,
) -> httpx.Response:
    path = PROBES[service]
    headers = bearer(token) if token else {}
    if signed:
        key = secret or platform.env["GATEWAY_SIGNING_SECRET"]
        headers[origin.PROOF_HEADER] = origin.sign(key, "GET", path.encode())
    async with httpx.AsyncClient(base_url=platform.url(service), timeout=30) as client:
        return await client.get(path, headers=headers)


def revoked(response: httpx.Response) -> bool:
    return response.status_code == 401 and response.json().get("code") == "token_revoked"


async def signup(api: httpx.AsyncClient, password: str = PASSWORD) -> dict[str, Any]:
    response = await api.post(
        "/api/gateway/auth/signup/enterprise",
        json={
            "username": f"rev-{uuid.uuid4().hex[:10]}",
            "password": password,
            "display_name": "吊销测试企业",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def accepted_everywhere(platform: ServiceProcesses, api: httpx.AsyncClient, token: str) -> None:
    assert (await api.get("/api/gateway/auth/me", headers=bearer(token))).status_code == 200
    for service in PROBES:
        response = await direct(platform, service, token)
        assert response.status_code != 401, (service, response.text)


async def refused_everywhere(platform: ServiceProcesses, token: str, *, since: float, what: str) -> float:
    """Poll every service until each refuses the token (401 token_revoked); the slowest delay in seconds."""
    waiting = set(PROBES)
    slowest = 0.0
    while waiting:
        for service in sorted(waiting):
            if revoked(await direct(platform, service, token)):
                waiting.discard(service)
                slowest = max(slowest, time.monotonic() - since)
        if waiting:
            assert time.monotonic() - since < REVOCATION_BOUND_SECONDS, f"{what}: still accepted by {waiting}"
            await asyncio.sleep(0.05)
    MEASURED[what] = slowest
    print(f"\nrevocation delay ({what}): {slowest:.2f} s")
    return slowest


async def test_a_password_change_ends_old_tokens_at_the_gateway_and_at_every_service(
    platform: ServiceProcesses, api: httpx.AsyncClient
) -> None:
    account = await signup(api)
    old = account["access_token"]
    await accepted_everywhere(platform, api, old)
    changed = await api.post(
        "/api/gateway/auth/password",
        headers=bearer(old),
        json={"old_password": PASSWORD, "new_password": "Xinmima-2026-ok"},
    )
    assert changed.status_code == 200, changed.text
    since = time.monotonic()
    at_gateway = await api.get("/api/gateway/auth/me", headers=bearer(old))
    assert revoked(at_gateway) and "重新登录" in at_gateway.json()["detail"], at_gateway.text
    proxied = await api.get(PROBES["payment"], headers=bearer(old))
    assert revoked(proxied), proxied.text
    await refused_everywhere(platform, old, since=since, what="password change")
    await accepted_everywhere(platform, api, changed.json()["access_token"])


async def test_a_token_issued_in_the_same_second_as_the_password_change_is_refused(
    platform: ServiceProcesses, api: httpx.AsyncClient
) -> None:
    account = await signup(api)
    username, password = account["username"], PASSWORD
    for attempt in range(5):
        before = (await login(api, username, password))["access_token"]
        new_password = f"Xinmima-2026-{attempt}x"
        changed = await api.post(
            "/api/gateway/auth/password",
            headers=bearer(before),
            json={"old_password": password, "new_password": new_password},
        )
        assert changed.status_code == 200, changed.text
        password = new_password
        issued = jwt.decode(before, options={"verify_signature": False})["iat"]
        after = jwt.decode(changed.json()["access_token"], options={"verify_signature": False})["iat"]
        if issued == after:
            break
    else:
        pytest.fail("could not issue a token in the same second as a password change")
    assert revoked(await api.get("/api/gateway/auth/me", headers=bearer(before)))
    await refused_everywhere(platform, before, since=time.monotonic(), what="same second")


async def test_refresh_token_reuse_ends_the_access_tokens(
    platform: ServiceProcesses, api: httpx.AsyncClient
) -> None:
    account = await signup(api)
    first = await api.post("/api/gateway/auth/refresh", json={"refresh_token": account["refresh_token"]})
    assert first.status_code == 200, first.text
    access = first.json()["access_token"]
    await accepted_everywhere(platform, api, access)
    reused = await api.post("/api/gateway/auth/refresh", json={"refresh_token": account["refresh_token"]})
    assert revoked(reused), reused.text
    since = time.monotonic()
    assert revoked(await api.get("/api/gateway/auth/me", headers=bearer(access)))
    await refused_everywhere(platform, access, since=since, what="refresh-token reuse")


async def test_logout_ends_the_access_token_at_every_service(
    platform: ServiceProcesses, api: httpx.AsyncClient
) -> None:
    account = await signup(api)
    other = await login(api, account["username"], PASSWORD)  # a second session of the same account
    token = account["access_token"]
    await accepted_everywhere(platform, api, token)
    out = await api.post(
        "/api/gateway/auth/logout", headers=bearer(token), json={"refresh_token": account["refresh_token"]}
    )
    assert out.status_code == 204, out.text
    since = time.monotonic()
    assert revoked(await api.get("/api/gateway/auth/me", headers=bearer(token)))
    await refused_everywhere(platform, token, since=since, what="logout")
    await accepted_everywhere(platform, api, other["access_token"])  # only that token ended


async def test_a_service_refuses_requests_that_did_not_come_through_the_gateway(
    platform: ServiceProcesses, api: httpx.AsyncClient
) -> None:
    account = await signup(api)
    for service in PROBES:
        response = await direct(platform, service, account["access_token"], signed=False)
        assert response.status_code == 403, (service, response.text)
        assert response.json()["code"] == "not_via_gateway" and "网关" in response.json()["detail"]
        forged = await direct(platform, service, account["access_token"], secret="not-the-gateway" * 4)
        assert forged.status_code == 403
        async with httpx.AsyncClient(base_url=platform.url(service), timeout=30) as client:
            assert (await client.get("/healthz")).status_code == 200
    # Through the gateway the same request is served.
    assert (await api.get(PROBES["payment"], headers=bearer(account["access_token"]))).status_code != 403


async def test_activation_answers_the_same_whether_or_not_the_id_number_has_an_account(
    platform: ServiceProcesses, api: httpx.AsyncClient
) -> None:
    from .helpers import make_id_number

    with_account = make_id_number(datetime(1990, 5, 17).date(), male=True)
    without_account = make_id_number(datetime(1991, 6, 18).date(), male=False)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.env["MONGO_URL"])
    try:
        now = datetime.now(UTC)
        await client["gateway"]["accounts"].insert_one(
            {
                "_id": uuid.uuid4().hex,
                "username": with_account.lower(),
                "role": "person",
                "org_id": with_account,
                "city": None,
                "display_name": "测试学员",
                "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                "status": "active",
                "failed_logins": 0,
                "locked_until": None,
                "created_at": now,
                "password_changed_at": now,
            }
        )
    finally:
        await client.close()
    answers = []
    for number in (with_account, without_account):
        response = await api.post(
            "/api/gateway/auth/activate",
            json={"id_number": number, "code": "12345678", "password": "Xuyuan-2026-ok"},
        )
        answers.append((response.status_code, response.json()["code"], response.json()["detail"]))
    assert answers[0] == answers[1], answers
    assert answers[0][:2] == (401, "invalid_activation_code")


async def test_an_attacker_elsewhere_does_not_lock_the_owner_out(
    platform: ServiceProcesses, api: httpx.AsyncClient
) -> None:
    account = await signup(api)
    owner = {"X-Forwarded-For": "198.51.100.7"}
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    username = account["username"]

    async def attempt(headers: dict[str, str], password: str) -> httpx.Response:
        return await api.post(
            "/api/gateway/auth/login", json={"username": username, "password": password}, headers=headers
        )

    assert (await attempt(owner, PASSWORD)).status_code == 200  # the owner's usual client
    statuses = []
    throttled: httpx.Response | None = None
    for i in range(15):
        response = await attempt(attacker, f"Wrong-guess-{i}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            throttled = response
            break
    assert throttled is not None, statuses
    assert statuses[:3] == [401, 401, 401]
    body = throttled.json()
    assert body["code"] == "login_throttled" and "后再试" in body["detail"]
    assert int(throttled.headers["Retry-After"]) >= 1
    # The right password from the attacker's client waits too; the owner logs in from theirs at once.
    assert (await attempt(attacker, PASSWORD)).status_code == 429
    assert (await attempt(owner, PASSWORD)).status_code == 200
    # Nothing was locked: after the wait the attacker's client may try again.
    await asyncio.sleep(int(throttled.headers["Retry-After"]))
    assert (await attempt(attacker, "Wrong-again-1")).status_code == 401
    # Many clients, one guess each: past the account's free failures every unknown client waits, the
    # owner's client still does not.
    for i in range(12):
        await attempt({"X-Forwarded-For": f"192.0.2.{i + 10}"}, f"Spray-guess-{i}")
    stranger = await attempt({"X-Forwarded-For": "192.0.2.200"}, PASSWORD)
    assert stranger.status_code == 429 and stranger.json()["code"] == "login_throttled", stranger.text
    assert (await attempt(owner, PASSWORD)).status_code == 200


async def test_a_common_password_is_refused_in_chinese(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/gateway/auth/signup/enterprise",
        json={
            "username": f"weak-{uuid.uuid4().hex[:8]}",
            "password": "abcd1234",
            "display_name": "弱密码企业",
        },
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "weak_password"
    assert "常见的弱密码" in body["detail"] and "长度至少 10 位" in body["detail"]
    assert {e["rule"] for e in body["errors"]} >= {"not_common", "min_length"}


async def test_disabling_an_account_ends_its_tokens_everywhere(
    platform: ServiceProcesses, api: httpx.AsyncClient, admin_credentials: tuple[str, str]
) -> None:
    account = await signup(api)
    token = account["access_token"]
    await accepted_everywhere(platform, api, token)
    admin = (await login(api, *admin_credentials))["access_token"]
    disabled = await api.put(
        f"/api/gateway/accounts/{account['account_id']}/disabled",
        headers=bearer(admin),
        json={"disabled": True},
    )
    assert disabled.status_code == 200 and disabled.json()["status"] == "locked", disabled.text
    since = time.monotonic()
    assert revoked(await api.get("/api/gateway/auth/me", headers=bearer(token)))
    await refused_everywhere(platform, token, since=since, what="account disabled")
    refused = await api.post(
        "/api/gateway/auth/login", json={"username": account["username"], "password": PASSWORD}
    )
    assert refused.status_code == 423 and "停用" in refused.json()["detail"], refused.text
    enabled = await api.put(
        f"/api/gateway/accounts/{account['account_id']}/disabled",
        headers=bearer(admin),
        json={"disabled": False},
    )
    assert enabled.status_code == 200 and enabled.json()["status"] == "active"
    fresh = await login(api, account["username"], PASSWORD)
    await accepted_everywhere(platform, api, fresh["access_token"])
