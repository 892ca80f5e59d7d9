"""Small helpers for driving the platform over HTTP."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def make_id_number(birth: date, male: bool, region: str = "330106") -> str:
    seq = random.randrange(0, 99) * 10 + random.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + check


def make_credit_code() -> str:
    body = "91330106" + "".join(random.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 60, what: str = "") -> T:
    """Poll until `probe` returns something truthy (read models are eventually consistent)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or probe}: last={last!r}")


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post("/api/gateway/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def sample_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 80), (255, 255, 255)).save(out, "JPEG")
    return out.getvalue()


def sample_pdf() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 80), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()


def registration_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "credit_code": make_credit_code(),
        "name": "杭州建工集团有限公司",
        "city": "杭州",
        "legal_representative": "王五",
        "contact_name": "李四",
        "contact_mobile": "13800001111",
        "address": "杭州市西湖区文三路 1 号",
        "business_scope": "房屋建筑工程施工总承包",
    }
    form.update(overrides)
    return form


def registration_files(**overrides: bytes | None) -> dict[str, tuple[str, bytes, str]]:
    files: dict[str, bytes | None] = {"business_licence": sample_jpeg(), "commitment_letter": sample_pdf()}
    files.update(overrides)
    return {
        kind: (f"{kind}.bin", data, "application/octet-stream")
        for kind, data in files.items()
        if data is not None
    }


async def register_enterprise(client: httpx.AsyncClient, token: str, **form: Any) -> httpx.Response:
    return await client.post(
        "/api/registration/enterprises",
        headers=bearer(token),
        data=registration_form(**form),
        files=registration_files(),
    )
