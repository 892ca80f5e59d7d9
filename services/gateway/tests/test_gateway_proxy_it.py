"""The reverse proxy and the merged OpenAPI document, with a small upstream app served by uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from gateway.main import build_app
from gateway.settings import GatewaySettings
from gateway.testing import bearer, closed_port, down_upstreams, signup
from servicekit.auth import Identity, Role
from servicekit.testing import running_app

pytestmark = pytest.mark.integration


def echo_app(hits: list[dict[str, Any]]) -> FastAPI:
    """A stand-in for the registration service: answers with what it received."""
    app = FastAPI(title="registration")

    async def echo(path: str, request: Request) -> Response:
        body = await request.body()
        received = {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_text": body[:200].decode(errors="replace"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
        }
        hits.append(received)
        response = JSONResponse(received, status_code=201 if request.method == "POST" else 200)
        response.headers["X-Upstream"] = "echo"
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        app.add_api_route(
            "/api/registration/{path:path}", echo, methods=[method], operation_id=f"echo_{method.lower()}"
        )
    return app


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run `app` with uvicorn on a free local port; yields its base URL."""
    port = closed_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "the upstream app did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def header(received: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in received["headers"] if k.lower() == name.lower()]


@pytest.fixture
def hits() -> list[dict[str, Any]]:
    return []


@pytest.fixture
async def upstream_url(hits: list[dict[str, Any]]) -> AsyncIterator[str]:
    async with serve(echo_app(hits)) as url:
        yield url


@pytest.fixture
def proxied_settings(
    gateway_settings: Callable[..., GatewaySettings], upstream_url: str
) -> Callable[..., GatewaySettings]:
    def make(**overrides: object) -> GatewaySettings:
        values: dict[str, object] = {**down_upstreams(), "registration_url": upstream_url}
        values.update(overrides)
        return gateway_settings(**values)

    return make


@pytest.fixture
async def client(proxied_settings: Callable[..., GatewaySettings]) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(build_app(proxied_settings())) as http:
        yield http


async def test_forwards_path_query_body_and_identity(
    client: httpx.AsyncClient, hits: list[dict[str, Any]]
) -> None:
    enterprise = await signup(client)
    response = await client.post(
        "/api/registration/enterprises/abc%20def?city=%E6%9D%AD%E5%B7%9E&page=2&page=3",
        json={"name": "杭州测试建设有限公司"},
        headers={
            **bearer(enterprise["access_token"]),
            "X-Correlation-ID": "corr-123",
            "X-Identity-Role": "admin",  # forged by the client: must not reach the service
            "Cookie": "session=1",
        },
    )
    assert response.status_code == 201, response.text
    received = response.json()
    assert received == hits[-1]
    assert received["method"] == "POST"
    assert received["raw_path"] == "/api/registration/enterprises/abc%20def"
    assert received["path"] == "/api/registration/enterprises/abc def"
    assert received["query"] == "city=%E6%9D%AD%E5%B7%9E&page=2&page=3"
    assert received["body_text"] == '{"name":"杭州测试建设有限公司"}'
    assert header(received, "authorization") == [f"Bearer {enterprise['access_token']}"]
    assert header(received, "x-identity-account") == [enterprise["account_id"]]
    assert header(received, "x-identity-role") == ["enterprise"]
    assert header(received, "x-identity-org") == [enterprise["org_id"]]
    assert header(received, "x-correlation-id") == ["corr-123"]
    assert header(received, "cookie") == ["session=1"]
    assert header(received, "content-type") == ["application/json"]
    assert header(received, "x-forwarded-host") == ["testserver"]
    assert header(received, "host") != ["testserver"]

    assert response.headers["x-upstream"] == "echo"
    assert response.headers.get_list("set-cookie") == [
        "a=1; Path=/; SameSite=lax",
        "b=2; Path=/; SameSite=lax",
    ]
    assert response.headers["x-correlation-id"] == "corr-123"


async def test_requests_without_token_pass_through(
    client: httpx.AsyncClient, hits: list[dict[str, Any]]
) -> None:
    response = await client.get(
        "/api/registration/public/cities",
        headers={"X-Identity-Account": "forged", "X-Identity-Role": "admin"},
    )
    assert response.status_code == 200
    received = hits[-1]
    assert not [k for k, _ in received["headers"] if k.lower().startswith("x-identity-")]
    assert header(received, "authorization") == []
    correlation = header(received, "x-correlation-id")
    assert len(correlation) == 1 and correlation[0] == response.headers["x-correlation-id"]
    assert received["body_length"] == 0 and not header(received, "transfer-encoding")


async def test_large_and_streamed_bodies(client: httpx.AsyncClient, hits: list[dict[str, Any]]) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    response = await client.put(
        "/api/registration/files/licence.pdf", content=payload, headers={"Content-Type": "application/pdf"}
    )
    assert response.status_code == 200, response.text
    assert hits[-1]["body_length"] == len(payload)
    assert hits[-1]["body_sha256"] == hashlib.sha256(payload).hexdigest()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 1000

    streamed = await client.post("/api/registration/stream", content=chunks())
    assert streamed.status_code == 201
    assert hits[-1]["body_length"] == 4000


async def test_body_limit(
    proxied_settings: Callable[..., GatewaySettings], hits: list[dict[str, Any]]
) -> None:
    async with running_app(build_app(proxied_settings(proxy_max_body_bytes=1000))) as client:
        declared = await client.post("/api/registration/upload", content=b"x" * 1001)
        assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"x" * 400

        streamed = await client.post("/api/registration/upload", content=chunks())
        assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large"
        assert "不能超过" in streamed.json()["detail"]
        assert (await client.post("/api/registration/upload", content=b"x" * 1000)).status_code == 201
    assert [h["body_length"] for h in hits if h["path"].endswith("/upload")] == [1000]


async def test_invalid_token_is_refused_before_the_service(
    client: httpx.AsyncClient, hits: list[dict[str, Any]]
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    expired = app.state.token_codec.issue(Identity("acc-1", Role.ENTERPRISE, org_id="e1"), ttl_seconds=-60)
    refresh = app.state.token_codec.issue(Identity("acc-1", Role.ENTERPRISE), token_type="refresh")
    cases = {
        "Bearer not-a-jwt": "token_invalid",
        f"Bearer {expired}": "token_expired",
        f"Bearer {refresh}": "token_invalid",
        "Basic dXNlcjpwYXNz": "token_invalid",
        "Bearer ": "token_invalid",
    }
    for authorization, code in cases.items():
        response = await client.get("/api/registration/enterprises", headers={"Authorization": authorization})
        assert response.status_code == 401, authorization
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    assert hits == []


async def test_logged_out_token_is_refused(client: httpx.AsyncClient, hits: list[dict[str, Any]]) -> None:
    enterprise = await signup(client)
    headers = bearer(enterprise["access_token"])
    assert (await client.get("/api/registration/mine", headers=headers)).status_code == 200
    out = await client.post(
        "/api/gateway/auth/logout", json={"refresh_token": enterprise["refresh_token"]}, headers=headers
    )
    assert out.status_code == 204
    refused = await client.get("/api/registration/mine", headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert len(hits) == 1


async def test_unknown_service_and_upstream_down(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/api/nothing/here")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_service"
    assert "nothing" in unknown.json()["detail"]

    down = await client.post("/api/enrollment/applications", json={"a": 1})
    assert down.status_code == 502 and down.json()["code"] == "upstream_unavailable"
    assert down.headers["content-type"].startswith("application/problem+json")
    assert "报名服务" in down.json()["detail"] and "enrollment" in down.json()["detail"]


async def test_upstream_going_down(proxied_settings: Callable[..., GatewaySettings]) -> None:
    hits: list[dict[str, Any]] = []
    async with contextlib.AsyncExitStack() as upstream:
        url = await upstream.enter_async_context(serve(echo_app(hits)))
        async with running_app(build_app(proxied_settings(registration_url=url))) as client:
            assert (await client.get("/api/registration/x")).status_code == 200  # a pooled connection now
            await upstream.aclose()
            down = await client.get("/api/registration/x")
            assert down.status_code == 502 and down.json()["code"] == "upstream_unavailable"
            assert "企业注册服务" in down.json()["detail"]
    assert len(hits) == 1


async def test_merged_openapi(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert "/api/gateway/auth/login" in document["paths"]
    assert "/api/registration/{path}" in document["paths"]
    assert document["info"]["x-services"] == ["registration"]
    assert document["info"]["x-unavailable"] == ["certification", "enrollment", "exam", "payment"]
    # FastAPI's validation schemas are identical in both documents: shared, not duplicated
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" in schemas and "registration_HTTPValidationError" not in schemas
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert (await client.get("/openapi.json")).json() == document  # cached
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
