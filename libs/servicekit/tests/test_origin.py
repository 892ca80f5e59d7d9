"""servicekit.origin: only requests the gateway signed (pure ASGI middleware, no server needed)."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI
from servicekit import origin
from servicekit.origin import GatewayOriginMiddleware, install_origin_check, sign, verify
from servicekit.settings import ServiceSettings

SECRET = "s" * 40


def test_sign_and_verify() -> None:
    now = time.time()
    proof = sign(SECRET, "get", b"/api/x", now)
    assert verify(SECRET, "GET", b"/api/x", proof, max_age=30, now=now)
    assert not verify(SECRET, "POST", b"/api/x", proof, max_age=30, now=now)
    assert not verify(SECRET, "GET", b"/api/y", proof, max_age=30, now=now)
    assert not verify("t" * 40, "GET", b"/api/x", proof, max_age=30, now=now)
    assert not verify(SECRET, "GET", b"/api/x", proof, max_age=30, now=now + 31)
    assert not verify(SECRET, "GET", b"/api/x", "v1:abc:def", max_age=30, now=now)
    assert not verify(SECRET, "GET", b"/api/x", "", max_age=30, now=now)


def app_with_check() -> FastAPI:
    app = FastAPI()

    @app.get("/api/things/{name}")
    async def thing(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(GatewayOriginMiddleware, secret=SECRET, max_age=30)
    return app


async def test_requests_without_the_gateways_proof_are_refused() -> None:
    transport = httpx.ASGITransport(app=app_with_check())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        refused = await client.get("/api/things/a")
        assert refused.status_code == 403
        assert refused.json()["code"] == "not_via_gateway" and "网关" in refused.json()["detail"]
        forged = await client.get(
            "/api/things/a", headers={origin.PROOF_HEADER: sign("x" * 40, "GET", b"/api/things/a")}
        )
        assert forged.status_code == 403
        other_path = await client.get(
            "/api/things/a", headers={origin.PROOF_HEADER: sign(SECRET, "GET", b"/api/things/b")}
        )
        assert other_path.status_code == 403
        ok = await client.get(
            "/api/things/a?x=1", headers={origin.PROOF_HEADER: sign(SECRET, "GET", b"/api/things/a")}
        )
        assert ok.status_code == 200 and ok.json() == {"name": "a"}
        assert (await client.get("/healthz")).status_code == 200


def test_required_by_default_in_production_only() -> None:
    assert not ServiceSettings().gateway_required()
    assert ServiceSettings(PLATFORM_ENV="production").gateway_required()
    assert not ServiceSettings(PLATFORM_ENV="production", REQUIRE_GATEWAY="0").gateway_required()
    assert ServiceSettings(REQUIRE_GATEWAY="1").gateway_required()


def test_a_required_check_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="GATEWAY_SIGNING_SECRET"):
        install_origin_check(FastAPI(), ServiceSettings(REQUIRE_GATEWAY="1"))
    install_origin_check(FastAPI(), ServiceSettings(REQUIRE_GATEWAY="1", GATEWAY_SIGNING_SECRET=SECRET))
