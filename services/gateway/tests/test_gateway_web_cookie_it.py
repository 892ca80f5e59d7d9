"""The web application's session: the refresh token also travels in an HttpOnly cookie scoped to the auth
endpoints; the JSON answers stay as they are for API clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from gateway.main import build_app
from gateway.settings import GatewaySettings
from gateway.testing import PASSWORD, bearer, down_upstreams, login, new_username, signup
from servicekit.testing import running_app

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(gateway_settings: Callable[..., GatewaySettings]) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(build_app(gateway_settings(**down_upstreams()))) as http:
        yield http


def refresh_cookie(response: httpx.Response) -> str:
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


async def test_login_sets_the_refresh_cookie_and_a_reload_uses_it(client: httpx.AsyncClient) -> None:
    username = new_username()
    body = await signup(client, username)
    response = await login(client, username, PASSWORD)
    assert response.status_code == 200
    cookie = refresh_cookie(response)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert attributes[0] == f"zj_refresh={response.json()['refresh_token']}".lower()
    assert "httponly" in attributes and "samesite=strict" in attributes
    assert "path=/api/gateway/auth" in attributes and "secure" not in attributes
    assert body["refresh_token"]  # signup answers as before (and sets the cookie too)

    # a page reload: no body, the cookie alone; the answer rotates the cookie
    refreshed = await client.post("/api/gateway/auth/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["username"] == username
    assert refresh_cookie(refreshed).startswith(f"zj_refresh={refreshed.json()['refresh_token']};")
    again = await client.post("/api/gateway/auth/refresh", json={})
    assert again.status_code == 200, again.text

    # logout without a body revokes the cookie's refresh token and clears the cookie
    out = await client.post("/api/gateway/auth/logout", json={}, headers=bearer(again.json()["access_token"]))
    assert out.status_code == 204, out.text
    assert 'zj_refresh=""' in refresh_cookie(out) or "max-age=0" in refresh_cookie(out).lower()
    stale = await client.post(
        "/api/gateway/auth/refresh", json={"refresh_token": again.json()["refresh_token"]}
    )
    assert stale.status_code == 401 and stale.json()["code"] == "token_revoked"


async def test_refresh_without_token_or_cookie_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/gateway/auth/refresh")
    assert response.status_code == 401 and response.json()["code"] == "token_missing"
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_cookie_is_secure_behind_tls(client: httpx.AsyncClient) -> None:
    username = new_username()
    await signup(client, username)
    response = await client.post(
        "/api/gateway/auth/login",
        json={"username": username, "password": PASSWORD},
        headers={"x-forwarded-proto": "https"},
    )
    assert response.status_code == 200
    assert "secure" in [part.strip().lower() for part in refresh_cookie(response).split(";")]
