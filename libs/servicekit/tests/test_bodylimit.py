"""servicekit.bodylimit: bodies over their route's limit are refused before or while they are read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, FastAPI, File, Request, UploadFile
from servicekit.bodylimit import BodyLimitMiddleware, MiB, body_limit, declared_limits, route_limit

CHUNK = 64 * 1024


def make_app() -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(settings=SimpleNamespace(max_zip_bytes=3 * MiB))
    app.add_middleware(BodyLimitMiddleware)
    handled: list[str] = []

    @app.post("/small")
    async def small(request: Request) -> dict[str, int]:
        size = len(await request.body())
        handled.append("small")
        return {"size": size}

    api = APIRouter(prefix="/api")

    @api.post("/nested")
    @body_limit(2 * MiB)
    async def nested(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.include_router(api)

    @app.post("/zip")
    @body_limit(lambda s: s.max_zip_bytes)
    async def big(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        handled.append("zip")
        return {"size": len(await file.read())}

    @app.post("/fixed")
    @body_limit(2 * MiB)
    async def fixed(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.state.runtime.settings.max_request_body_bytes = 1 * MiB
    return app, handled


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_declared_length_over_the_limit_is_refused_unread() -> None:
    app, handled = make_app()
    async with client(app) as http:
        response = await http.post("/small", content=b"x" * (MiB + 1))
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "payload_too_large" and "1 MB" in body["detail"]
    assert response.headers["content-type"] == "application/problem+json"
    assert handled == []


async def test_streamed_body_stops_being_read_past_the_limit() -> None:
    app, _ = make_app()
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(200):  # 12.5 MB offered
            sent += CHUNK
            yield b"x" * CHUNK

    async with client(app) as http:
        response = await http.post("/small", content=body())
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert sent <= MiB + 2 * CHUNK


async def test_multipart_upload_streamed_is_stopped_at_the_route_limit() -> None:
    app, handled = make_app()
    sent = 0
    boundary = b"b0undary"

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield (
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n'
            b"Content-Type: application/zip\r\n\r\n"
        )
        for _ in range(400):  # 25 MB offered
            sent += CHUNK
            yield b"x" * CHUNK
        yield b"\r\n--" + boundary + b"--\r\n"

    headers = {"content-type": "multipart/form-data; boundary=b0undary"}
    async with client(app) as http:
        response = await http.post("/zip", content=body(), headers=headers)
    assert response.status_code == 413
    assert "3 MB" in response.json()["detail"]
    assert sent <= 3 * MiB + 2 * CHUNK
    assert handled == []


async def test_within_the_route_limit_passes() -> None:
    app, _ = make_app()
    async with client(app) as http:
        fixed = await http.post("/fixed", content=b"x" * (2 * MiB))
        zipped = await http.post("/zip", files={"file": ("a.zip", b"x" * (2 * MiB), "application/zip")})
        small = await http.post("/small", content=b"x" * 1000)
        nested = await http.post("/api/nested", content=b"x" * (2 * MiB))
        nested_over = await http.post("/api/nested", content=b"x" * (2 * MiB + 1))
    assert nested.json() == {"size": 2 * MiB}  # a route of an included router: its own limit
    assert nested_over.status_code == 413 and "2 MB" in nested_over.json()["detail"]
    assert fixed.json() == {"size": 2 * MiB}
    assert zipped.json() == {"size": 2 * MiB}
    assert small.json() == {"size": 1000}


def test_limits_are_listed_and_matched() -> None:
    app, _ = make_app()
    listed = {path: limit for path, _, limit in declared_limits(app)}
    assert listed == {"/zip": 3 * MiB, "/fixed": 2 * MiB} or listed == {
        "/zip": 3 * MiB,
        "/fixed": 2 * MiB,
        "/api/nested": 2 * MiB,
    }
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/zip", "root_path": ""}
    assert route_limit(app, scope) == 3 * MiB
    assert route_limit(app, {**scope, "path": "/nowhere"}) == MiB
