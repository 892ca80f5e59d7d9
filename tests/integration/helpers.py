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


# Hangzhou's district codes: a random one by default, so that two tests picking the same birth date (and the
# README walkthrough's fixed 330106199005170019) share an ID number only once in some 3,000 draws.
HANGZHOU_DISTRICTS = ("330102", "330105", "330106", "330108", "330109", "330110")


def make_id_number(birth: date, male: bool, region: str | None = None) -> str:
    region = region or random.choice(HANGZHOU_DISTRICTS)
    seq = random.randrange(0, 100) * 10 + random.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
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


async def new_account(client: httpx.AsyncClient, admin_token: str, role: str, **extra: str) -> str:
    """An account made by the administrator; returns its access token."""
    import uuid

    username = f"{role[:4]}-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/api/gateway/accounts",
        headers=bearer(admin_token),
        json={"username": username, "role": role, "display_name": username, **extra},
    )
    assert created.status_code == 201, created.text
    return str((await login(client, username, created.json()["generated_password"]))["access_token"])


async def approved_enterprise(
    client: httpx.AsyncClient, admin_token: str, city: str = "杭州"
) -> dict[str, Any]:
    """An enterprise signed up, registered and approved; returns its signup answer (token, org_id)."""
    import uuid

    signup = await client.post(
        "/api/gateway/auth/signup/enterprise",
        json={
            "username": f"ent-{uuid.uuid4().hex[:8]}",
            "password": "Jianshe2026!",
            "display_name": "测试施工企业",
        },
    )
    assert signup.status_code == 201, signup.text
    token, enterprise_id = signup.json()["access_token"], signup.json()["org_id"]
    assert (await register_enterprise(client, token, city=city)).status_code == 201
    reviewer = await new_account(client, admin_token, "reviewer", city=city)
    checks = [
        {"check": c, "passed": True}
        for c in ("local_enterprise", "construction_enterprise", "documents_compliant")
    ]
    approved = await client.post(
        f"/api/registration/enterprises/{enterprise_id}/approve",
        headers=bearer(reviewer),
        json={"checks": checks},
    )
    assert approved.status_code == 204, approved.text

    async def enrollment_knows() -> bool:
        r = await client.get("/api/enrollment/applicants", headers=bearer(token))
        return r.status_code == 200

    await eventually(enrollment_knows, what="enrollment to learn of the approval")
    return dict(signup.json())


async def wait_job(
    client: httpx.AsyncClient, token: str, status_url: str, timeout: float = 120
) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        job = (await client.get(status_url, headers=bearer(token))).json()
        return job if job["state"] != "running" else None

    return await eventually(finished, timeout=timeout, what=f"job {status_url}")


async def publish_offer(
    client: httpx.AsyncClient,
    institution_token: str,
    name: str = "测试培训学校",
    payment_methods: tuple[str, ...] = ("offline", "online"),
) -> None:
    """The institution publishes an offer of every position in both modes (batches need an offer)."""
    specialised = ("土建施工", "装饰装修", "设备安装", "市政工程")
    offers: list[dict[str, Any]] = []
    for position in ("施工员", "质量员", "安全员", "标准员", "材料员", "机械员", "劳务员", "资料员"):
        for specialisation in specialised if position in ("施工员", "质量员") else (None,):
            offers.append(
                {
                    "position": position,
                    "specialisation": specialisation,
                    "fee_online_fen": 60000,
                    "fee_offline_fen": 90000,
                }
            )
    response = await client.put(
        "/api/enrollment/institutions/me/offer",
        headers=bearer(institution_token),
        json={
            "name": name,
            "city": "杭州",
            "offers": offers,
            "features": "理论与实操结合",
            "exam_locations": ["杭州市西湖区考点"],
            "payment_methods": list(payment_methods),
        },
    )
    assert response.status_code == 200, response.text


async def pay_offline(
    client: httpx.AsyncClient,
    enterprise_token: str,
    institution_token: str,
    order_id: str,
    *,
    confirm: bool = True,
) -> httpx.Response:
    """The enterprise uploads a voucher paid and invoiced in its own name; the institution confirms it."""
    me = (await client.get("/api/registration/enterprises/me", headers=bearer(enterprise_token))).json()
    order = (await client.get(f"/api/payment/orders/{order_id}", headers=bearer(enterprise_token))).json()

    async def uploaded() -> httpx.Response | None:
        r = await client.post(
            f"/api/payment/orders/{order_id}/voucher",
            headers=bearer(enterprise_token),
            data=voucher_form(me["name"], me["credit_code"], order["amount_fen"]),
            files={"file": ("voucher.jpg", sample_jpeg(), "image/jpeg")},
        )
        assert r.status_code in (201, 409), r.text  # 409 enterprise_unknown until payment learns of it
        return r if r.status_code == 201 else None

    voucher = await eventually(uploaded, what="the voucher to be accepted")
    if not confirm:
        return voucher
    return await client.post(f"/api/payment/orders/{order_id}/confirm", headers=bearer(institution_token))


def voucher_form(name: str, credit_code: str, amount_fen: int, **overrides: str) -> dict[str, str]:
    form = {
        "payer_name": name,
        "amount": f"{amount_fen / 100:.2f}",
        "paid_on": "2026-03-01",
        "bank_serial": "ICBC20260301001",
        "note": "培训费",
        "invoice_type": "ordinary",
        "company_name": name,
        "tax_number": credit_code,
    }
    form.update(overrides)
    return form


async def upload_head_photos(
    client: httpx.AsyncClient,
    enterprise_token: str,
    batch_id: str,
    id_numbers: list[str],
    photo: bytes | None = None,
    documents: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The enterprise uploads a materials zip with a head photo (`<ID number>$头像.jpg`) for each person: an
    application for the exam needs one. Default: a photo that passes every head-photo rule. `documents`:
    other materials (e.g. 报名表) added as small JPEGs."""
    import io
    import zipfile

    import imaging  # services/enrollment/tests (on the pytest path)

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for number in id_numbers:
            zf.writestr(f"{number}$头像.jpg", photo if photo is not None else imaging.good_head_photo())
            for document in documents:
                zf.writestr(f"{number}${document}.jpg", imaging.small_jpeg())
    upload = await client.post(
        f"/api/enrollment/batches/{batch_id}/materials",
        headers=bearer(enterprise_token),
        files={"file": ("头像.zip", archive.getvalue(), "application/zip")},
    )
    assert upload.status_code == 202, upload.text
    job = await wait_job(client, enterprise_token, upload.json()["status_url"])
    assert job["state"] == "succeeded", job
    return dict(job["result"])
