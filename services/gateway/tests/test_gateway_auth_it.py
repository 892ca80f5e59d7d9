"""Accounts, login, tokens and the administrator command, against the real local stack."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from gateway import cli
from gateway.adapters.accounts_mongo import MongoAccountRepository
from gateway.domain.accounts import Account
from gateway.domain.errors import UsernameTaken
from gateway.main import build_app
from gateway.settings import GatewaySettings
from gateway.testing import PASSWORD, bearer, down_upstreams, login, new_username, signup
from servicekit.auth import Role
from servicekit.mongo import create_client
from servicekit.testing import running_app

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(gateway_settings: Callable[..., GatewaySettings]) -> GatewaySettings:
    return gateway_settings(**down_upstreams())


@pytest.fixture
async def client(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(build_app(settings)) as http:
        yield http


# Where a test asserts that the next attempt is held back, the wait is long (a minute from the first one
# held back): on a busy machine a password hash can take longer than the default first wait of 1 s, which
# would then have ended before the next attempt arrives. (Waits ending by themselves: test_gateway_domain.py
# and test_a_wait_ends_by_itself.)
LONG_WAIT = 60.0


@pytest.fixture
def patient_settings(gateway_settings: Callable[..., GatewaySettings]) -> GatewaySettings:
    return gateway_settings(login_base_delay_seconds=LONG_WAIT, **down_upstreams())


@pytest.fixture
async def patient_client(patient_settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(build_app(patient_settings)) as http:
        yield http


async def account_document(settings: GatewaySettings, username: str) -> dict[str, Any]:
    mongo = create_client(settings.mongo_url)
    try:
        doc = await mongo[settings.database_name]["accounts"].find_one({"username": username})
    finally:
        await mongo.close()
    assert doc is not None
    return doc


def run_cli(settings: GatewaySettings, argv: list[str], stdin: str | None = None) -> int:
    return cli.main(argv, settings=settings, stdin=io.StringIO(stdin) if stdin is not None else None)


async def create_admin(settings: GatewaySettings, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The first administrator, created by the CLI (which prints the generated password once)."""
    username = new_username("root")
    code = await asyncio.to_thread(
        run_cli, settings, ["create-account", "--role", "admin", "--username", username]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    line = next(line for line in out.splitlines() if line.startswith("初始密码"))
    password = line.split("：", 1)[1].strip()
    assert len(password) == 16
    return username, password


async def test_signup_login_me(client: httpx.AsyncClient, settings: GatewaySettings) -> None:
    username = new_username()
    body = await signup(client, username)
    assert body["account"]["username"] == username and body["role"] == "enterprise"
    org_id = body["org_id"]
    assert (
        len(org_id) == 32
        and body["account"]["org_id"] == org_id
        and body["account"]["id"] == body["account_id"]
    )
    assert body["token_type"] == "bearer" and body["expires_in"] == 900 and body["refresh_token"]

    response = await login(client, username.upper(), PASSWORD)  # usernames are case-insensitive
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert {k: tokens[k] for k in ("token_type", "expires_in", "role", "org_id", "city")} == {
        "token_type": "bearer",
        "expires_in": 900,
        "role": "enterprise",
        "org_id": org_id,
        "city": None,
    }
    assert "hash" not in response.text and "$argon2" not in response.text

    me = await client.get("/api/gateway/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["account_id"] == body["account_id"]
    assert me.json()["role"] == "enterprise" and me.json()["org_id"] == org_id
    assert me.json()["display_name"] == "杭州测试建设有限公司" and me.json()["role_label"] == "企业"

    # the token is what every service verifies (same secret and issuer)
    codec = client._transport.app.state.token_codec  # type: ignore[attr-defined]
    identity, _ = codec.decode(tokens["access_token"])
    assert identity.role is Role.ENTERPRISE and identity.org_id == org_id

    doc = await account_document(settings, username)
    assert doc["password_hash"].startswith("$argon2id$") and doc["status"] == "active"
    assert doc["failed_logins"] == 0 and doc["password_changed_at"] is not None

    unauthenticated = await client.get("/api/gateway/auth/me")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"].startswith("application/problem+json")
    assert unauthenticated.json()["code"] == "not_authenticated"


async def test_signup_refusals(client: httpx.AsyncClient) -> None:
    username = new_username()
    await signup(client, username)
    duplicate = await client.post(
        "/api/gateway/auth/signup/enterprise",
        json={"username": username.upper(), "password": "Another2025x", "display_name": "另一家"},
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "username_taken"
    assert "已被使用" in duplicate.json()["detail"]

    for password, rule in (
        ("111111", "not_common"),
        ("abcdefgh", "letters_and_digits"),
        ("Ab1", "min_length"),
    ):
        weak = await client.post(
            "/api/gateway/auth/signup/enterprise",
            json={"username": new_username(), "password": password, "display_name": "某企业"},
        )
        assert weak.status_code == 422, weak.text
        assert weak.json()["code"] == "weak_password" and weak.json()["detail"].startswith("密码不符合要求")
        assert rule in {e["rule"] for e in weak.json()["errors"]}

    same_as_name = await client.post(
        "/api/gateway/auth/signup/enterprise",
        json={"username": "zhang2025", "password": "Zhang2025", "display_name": "某企业"},
    )
    assert same_as_name.status_code == 422 and "不能与用户名相同" in same_as_name.json()["detail"]


async def test_wrong_password_and_throttle(
    patient_client: httpx.AsyncClient, patient_settings: GatewaySettings
) -> None:
    client = patient_client
    username = new_username()
    await signup(client, username)

    unknown = await login(client, new_username("nobody"), PASSWORD)
    wrong = await login(client, username, "Wrong2025pw")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["code"] == wrong.json()["code"] == "invalid_credentials"
    assert unknown.json()["detail"] == wrong.json()["detail"] == "用户名或密码不正确"

    for _ in range(2):
        assert (await login(client, username, "Wrong2025pw")).status_code == 401
    fourth = await login(client, username, "Wrong2025pw")
    assert fourth.status_code == 429 and fourth.json()["code"] == "login_throttled"
    assert "秒后再试" in fourth.json()["detail"]
    assert 1 <= int(fourth.headers["Retry-After"]) <= LONG_WAIT

    right = await login(client, username, PASSWORD)  # the same client waits, right password or not
    assert right.status_code == 429, right.text

    doc = await account_document(patient_settings, username)
    assert doc["status"] == "active" and doc.get("locked_until") is None  # nothing was locked


async def test_a_wait_ends_by_itself(client: httpx.AsyncClient) -> None:
    username = new_username()
    await signup(client, username)
    for _ in range(4):
        await login(client, username, "Wrong2025pw")  # the fourth is held back (or, on a slow day, wrong)
    await asyncio.sleep(2.05)  # at most the wait after a fourth failure (2 s)
    assert (await login(client, username, PASSWORD)).status_code == 200


async def test_concurrent_failures_are_counted(patient_client: httpx.AsyncClient) -> None:
    client = patient_client
    username = new_username()
    await signup(client, username)
    results = await asyncio.gather(*(login(client, username, "Wrong2025pw") for _ in range(5)))
    assert {r.status_code for r in results} <= {401, 429}
    assert (await login(client, username, PASSWORD)).status_code == 429


async def test_username_index_is_unique(settings: GatewaySettings) -> None:
    mongo = create_client(settings.mongo_url)
    try:
        repository = MongoAccountRepository(mongo[settings.database_name])
        await repository.ensure_indexes()
        now = datetime.now(UTC)
        first = Account(
            id=uuid.uuid4().hex,
            username=new_username(),
            role=Role.ADMIN,
            display_name="管理员",
            password_hash="$argon2id$x",
            created_at=now,
            password_changed_at=now,
        )
        await repository.add(first)
        with pytest.raises(UsernameTaken):
            await repository.add(replace(first, id=uuid.uuid4().hex))
    finally:
        await mongo.close()


async def test_success_resets_the_failure_count(client: httpx.AsyncClient) -> None:
    username = new_username()
    await signup(client, username)
    for _ in range(3):
        assert (await login(client, username, "Wrong2025pw")).status_code == 401
    await asyncio.sleep(1.05)
    assert (await login(client, username, PASSWORD)).status_code == 200
    for _ in range(3):
        assert (await login(client, username, "Wrong2025pw")).status_code == 401


async def test_the_owners_known_client_is_not_held_back(
    gateway_settings: Callable[..., GatewaySettings],
) -> None:
    settings = gateway_settings(
        trusted_proxies="127.0.0.1",
        login_free_failures=1,
        login_base_delay_seconds=LONG_WAIT,
        **down_upstreams(),
    )
    async with running_app(build_app(settings)) as client:
        username = new_username()
        await signup(client, username)

        async def attempt(address: str, password: str) -> httpx.Response:
            return await client.post(
                "/api/gateway/auth/login",
                json={"username": username, "password": password},
                headers={"X-Forwarded-For": address},
            )

        assert (await attempt("198.51.100.7", PASSWORD)).status_code == 200
        assert (await attempt("203.0.113.1", "Wrong2025pw")).status_code == 401
        assert (await attempt("203.0.113.1", "Wrong2025pw")).status_code == 429
        assert (await attempt("198.51.100.7", PASSWORD)).status_code == 200


async def test_refresh_rotation(client: httpx.AsyncClient) -> None:
    body = await signup(client)
    first = body["refresh_token"]

    refreshed = await client.post("/api/gateway/auth/refresh", json={"refresh_token": first})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first and second["access_token"] != body["access_token"]
    assert second["org_id"] == body["org_id"]
    me = await client.get("/api/gateway/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200

    reused = await client.post("/api/gateway/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401 and reused.json()["code"] == "token_revoked"

    # an access token is not a refresh token
    wrong_type = await client.post(
        "/api/gateway/auth/refresh", json={"refresh_token": second["access_token"]}
    )
    assert wrong_type.status_code == 401 and wrong_type.json()["code"] == "token_invalid"
    garbage = await client.post("/api/gateway/auth/refresh", json={"refresh_token": "not-a-token"})
    assert garbage.status_code == 401 and garbage.json()["code"] == "token_invalid"


async def test_reusing_a_rotated_refresh_token_ends_the_sessions(client: httpx.AsyncClient) -> None:
    username = new_username()
    body = await signup(client, username)
    await asyncio.sleep(1.05)  # token times have a resolution of one second
    stolen = body["refresh_token"]
    legit = (await client.post("/api/gateway/auth/refresh", json={"refresh_token": stolen})).json()
    await asyncio.sleep(1.05)
    assert (await client.post("/api/gateway/auth/refresh", json={"refresh_token": stolen})).status_code == 401
    after = await client.post("/api/gateway/auth/refresh", json={"refresh_token": legit["refresh_token"]})
    assert after.status_code == 401 and after.json()["code"] == "token_revoked"
    assert (await login(client, username, PASSWORD)).status_code == 200


async def test_logout_revokes(client: httpx.AsyncClient) -> None:
    body = await signup(client)
    other = await signup(client)
    access, refresh = body["access_token"], body["refresh_token"]

    no_bearer = await client.post("/api/gateway/auth/logout", json={"refresh_token": refresh})
    assert no_bearer.status_code == 401
    not_mine = await client.post(
        "/api/gateway/auth/logout", json={"refresh_token": other["refresh_token"]}, headers=bearer(access)
    )
    assert not_mine.status_code == 403 and not_mine.json()["code"] == "not_owner"

    out = await client.post(
        "/api/gateway/auth/logout", json={"refresh_token": refresh}, headers=bearer(access)
    )
    assert out.status_code == 204, out.text

    again = await client.post("/api/gateway/auth/refresh", json={"refresh_token": refresh})
    assert again.status_code == 401 and again.json()["code"] == "token_revoked"
    me = await client.get("/api/gateway/auth/me", headers=bearer(access))
    assert me.status_code == 401 and me.json()["code"] == "token_revoked"
    # the other enterprise's session is untouched
    assert (
        await client.post("/api/gateway/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 200


async def test_password_change(client: httpx.AsyncClient) -> None:
    username = new_username()
    body = await signup(client, username)
    await asyncio.sleep(1.05)  # token times have a resolution of one second
    headers = bearer(body["access_token"])
    new_password = "Ningbo2026new"

    wrong_old = await client.post(
        "/api/gateway/auth/password",
        json={"old_password": "Wrong2025pw", "new_password": new_password},
        headers=headers,
    )
    assert wrong_old.status_code == 403 and wrong_old.json()["code"] == "wrong_password"
    weak = await client.post(
        "/api/gateway/auth/password",
        json={"old_password": PASSWORD, "new_password": "12345678"},
        headers=headers,
    )
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    same = await client.post(
        "/api/gateway/auth/password",
        json={"old_password": PASSWORD, "new_password": PASSWORD},
        headers=headers,
    )
    assert same.status_code == 422 and "不能与原密码相同" in same.json()["detail"]
    unauthenticated = await client.post(
        "/api/gateway/auth/password", json={"old_password": PASSWORD, "new_password": new_password}
    )
    assert unauthenticated.status_code == 401

    changed = await client.post(
        "/api/gateway/auth/password",
        json={"old_password": PASSWORD, "new_password": new_password},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text

    assert (await login(client, username, PASSWORD)).status_code == 401
    assert (await login(client, username, new_password)).status_code == 200
    # refresh tokens from before the change are refused; the one handed back with the change works
    stale = await client.post("/api/gateway/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert stale.status_code == 401 and stale.json()["code"] == "token_revoked"
    fresh = await client.post(
        "/api/gateway/auth/refresh", json={"refresh_token": changed.json()["refresh_token"]}
    )
    assert fresh.status_code == 200


async def test_admin_creates_accounts(
    client: httpx.AsyncClient, settings: GatewaySettings, capsys: pytest.CaptureFixture[str]
) -> None:
    admin_name, admin_password = await create_admin(settings, capsys)
    admin_login = await login(client, admin_name, admin_password)
    assert admin_login.status_code == 200 and admin_login.json()["role"] == "admin"
    admin = bearer(admin_login.json()["access_token"])
    enterprise = bearer((await signup(client))["access_token"])

    reviewer = {
        "username": new_username("rev"),
        "role": "reviewer",
        "city": "杭州",
        "display_name": "杭州审核员",
    }
    refused = await client.post("/api/gateway/accounts", json=reviewer, headers=enterprise)
    assert refused.status_code == 403 and refused.json()["code"] == "role_forbidden"
    assert "管理员" in refused.json()["detail"]
    assert (await client.post("/api/gateway/accounts", json=reviewer)).status_code == 401

    no_city = await client.post("/api/gateway/accounts", json={**reviewer, "city": None}, headers=admin)
    assert no_city.status_code == 422 and no_city.json()["code"] == "invalid_account"
    bad_city = await client.post("/api/gateway/accounts", json={**reviewer, "city": "上海"}, headers=admin)
    assert bad_city.status_code == 422

    created = await client.post("/api/gateway/accounts", json=reviewer, headers=admin)
    assert created.status_code == 201, created.text
    generated = created.json()["generated_password"]
    assert len(generated) == 16 and created.json()["account"]["city"] == "杭州"
    reviewer_login = await login(client, reviewer["username"], generated)
    assert reviewer_login.status_code == 200
    assert reviewer_login.json()["role"] == "reviewer" and reviewer_login.json()["city"] == "杭州"

    duplicate = await client.post("/api/gateway/accounts", json=reviewer, headers=admin)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "username_taken"

    institution = {
        "username": new_username("inst"),
        "role": "institution",
        "display_name": "浙江育人专修学院",
    }
    no_org = await client.post("/api/gateway/accounts", json=institution, headers=admin)
    assert no_org.status_code == 422 and "org_id" in no_org.json()["detail"]
    with_org = await client.post(
        "/api/gateway/accounts",
        json={**institution, "org_id": "inst-001", "password": "Yuren2025ok"},
        headers=admin,
    )
    assert with_org.status_code == 201 and with_org.json()["generated_password"] is None
    inst_login = await login(client, institution["username"], "Yuren2025ok")
    assert inst_login.json()["org_id"] == "inst-001"

    weak = await client.post(
        "/api/gateway/accounts",
        json={"username": new_username("adm"), "role": "admin", "password": "111111"},
        headers=admin,
    )
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    person = await client.post(
        "/api/gateway/accounts", json={"username": new_username("p"), "role": "person"}, headers=admin
    )
    assert person.status_code == 422


async def test_cli_as_a_process(settings: GatewaySettings) -> None:
    env = {**os.environ, "MONGO_URL": settings.mongo_url, "SERVICE_NAME": settings.service_name}
    env.pop("MONGO_DATABASE", None)

    async def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli",
            "create-account",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await process.communicate(stdin.encode())
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    username = new_username("root")
    code, out, err = await run(
        "--role", "admin", "--username", username, "--password-stdin", stdin="Admin2025ok\n"
    )
    assert code == 0, err
    assert username in out and "初始密码" not in out
    code, _, err = await run("--role", "admin", "--username", username)
    assert code == 1 and "已被使用" in err

    doc = await account_document(settings, username)
    assert doc["role"] == "admin" and doc["password_hash"].startswith("$argon2id$")


async def test_cli_refusals(settings: GatewaySettings, capsys: pytest.CaptureFixture[str]) -> None:
    weak = ["create-account", "--role", "admin", "--username", new_username("root"), "--password-stdin"]
    assert await asyncio.to_thread(run_cli, settings, weak, "111111\n") == 1
    assert "密码不符合要求" in capsys.readouterr().err
    assert await asyncio.to_thread(run_cli, settings, weak, "\n") == 1
    assert "没有读到密码" in capsys.readouterr().err
    reviewer = ["create-account", "--role", "reviewer", "--username", new_username("rev")]
    assert await asyncio.to_thread(run_cli, settings, reviewer) == 1
    assert "城市" in capsys.readouterr().err
    with_city = [*reviewer, "--city", "温州市", "--display-name", "温州审核员"]
    assert await asyncio.to_thread(run_cli, settings, with_city) == 0
    out = capsys.readouterr().out
    assert "所属城市：温州" in out and "初始密码" in out


async def test_operational_endpoints_and_merged_openapi(
    client: httpx.AsyncClient, settings: GatewaySettings
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "service": settings.service_name}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    document = (await client.get("/openapi.json")).json()
    assert "/api/gateway/auth/login" in document["paths"] and "/api/gateway/accounts" in document["paths"]
    assert document["info"]["x-unavailable"] == [
        "certification",
        "enrollment",
        "exam",
        "payment",
        "registration",
    ]
    assert not any(path.startswith("/api/{service}") for path in document["paths"])
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "cdn" not in docs.text and "https://" not in docs.text, "Swagger UI works without internet access"
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert asset in docs.text and (await client.get(asset)).status_code == 200
    unknown = await client.get("/api/gateway/nothing-here")
    assert unknown.status_code == 404
