"""Helpers for tests that drive the gateway over HTTP (used by the gateway tests and cross-service tests)."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import httpx

PASSWORD = "Zhejiang2025"


def closed_port() -> int:
    """A local port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def down_upstreams() -> dict[str, str]:
    """Every upstream pointed at a port nothing listens on."""
    return {
        f"{name}_url": f"http://127.0.0.1:{closed_port()}"
        for name in ("registration", "enrollment", "payment", "exam", "certification")
    }


def new_username(prefix: str = "ent") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signup(
    client: httpx.AsyncClient, username: str | None = None, password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post(
        "/api/gateway/auth/signup/enterprise",
        json={
            "username": username or new_username(),
            "password": password,
            "display_name": "杭州测试建设有限公司",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/gateway/auth/login", json={"username": username, "password": password})
