"""The sandbox payment provider is a development adapter, and vouchers are decoded (on the real stack).

- Off unless configured: a payment process started without PAYMENT_SANDBOX answers 503 to online payment and
  has no cashier and no sandbox callback; with PLATFORM_ENV=production, PAYMENT_SANDBOX=1 stops it at start.
- On (the local platform): anonymous requests cannot mark an order paid (the cashier pays only for the
  signed-in payer), and a forged, unsigned or stale callback is refused; the order stays unpaid.
- Vouchers: a 20000×20000 PNG, a corrupt JPEG, a truncated PDF and an oversized file are refused with a
  precise Chinese message, and nothing is stored. Lists refuse `skip=2**63` with 422.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses
from servicekit.localstack import free_port
from servicekit.objectstore import ObjectStore
from servicekit.settings import ServiceSettings

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    publish_offer,
    sample_jpeg,
    sample_pdf,
    voucher_form,
)

pytestmark = pytest.mark.integration

CALLBACK = "/api/payment/online/callback/sandbox"


# -- a payment process of its own (own database, bucket and consumer groups) -------------------------------


def _payment_env(platform: ServiceProcesses, **overrides: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        **platform.env,
        "SERVICE_NAME": f"payment-it-{uuid.uuid4().hex[:8]}",
        "REQUIRE_GATEWAY": "0",  # called directly, not through the gateway
        "LOG_JSON": "1",
    }
    env.pop("PAYMENT_SANDBOX", None)
    env.pop("PLATFORM_ENV", None)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _start_payment(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "payment.main:build_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def unconfigured_payment(platform: ServiceProcesses, tmp_path: Path) -> Iterator[str]:
    """A payment process started without PAYMENT_SANDBOX (as a production deployment would be)."""
    port = free_port()
    log = tmp_path / "payment-unconfigured.log"
    proc = _start_payment(_payment_env(platform), port, log)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("payment without the sandbox did not start: " + log.read_text()[-3000:])
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _forged_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), str(ts).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Sandbox-Timestamp": str(ts),
        "X-Sandbox-Signature": signature,
    }


def _notice(payment_id: str, order_number: str, amount_fen: int) -> bytes:
    return json.dumps(
        {
            "payment_id": payment_id,
            "order_number": order_number,
            "amount_fen": amount_fen,
            "status": "SUCCESS",
            "paid_at": datetime.now(UTC).isoformat(),
        }
    ).encode()


async def test_the_sandbox_is_off_unless_configured(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], unconfigured_payment: str
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as gateway:
        admin = (await login(gateway, *admin_credentials))["access_token"]
        enterprise = (await approved_enterprise(gateway, admin))["access_token"]
    async with httpx.AsyncClient(base_url=unconfigured_payment, timeout=30) as api:
        started = await api.post(
            f"/api/payment/orders/{uuid.uuid4().hex}/pay-online", headers=bearer(enterprise), json={}
        )
        assert started.status_code == 503, started.text
        assert started.json()["code"] == "online_payment_unavailable"
        assert "在线支付暂未开通" in started.json()["detail"]
        payment_id = "sbx_" + uuid.uuid4().hex[:24]
        for method, path in (
            ("GET", f"/api/payment/sandbox/cashier/{payment_id}"),
            ("POST", f"/api/payment/sandbox/cashier/{payment_id}/pay"),
            ("GET", f"/api/payment/sandbox/payments/{payment_id}"),
        ):
            r = await api.request(method, path, headers=bearer(enterprise))
            assert r.status_code == 404, (path, r.status_code, r.text)
        body = _notice(payment_id, "DD1", 180000)
        callback = await api.post(CALLBACK, content=body, headers=_forged_headers(body, "x" * 40))
        assert callback.status_code == 404, callback.text
        paths = (await api.get("/openapi.json")).json()["paths"]
        assert not [p for p in paths if "sandbox" in p], sorted(paths)


def test_the_sandbox_is_refused_in_production(platform: ServiceProcesses, tmp_path: Path) -> None:
    log = tmp_path / "payment-production.log"
    env = _payment_env(platform, PLATFORM_ENV="production", PAYMENT_SANDBOX="1")
    proc = _start_payment(env, free_port(), log)
    try:
        code = proc.wait(timeout=90)
    finally:
        _stop(proc)
    output = log.read_text()
    assert code != 0, output[-3000:]
    assert "PAYMENT_SANDBOX" in output and "PLATFORM_ENV=production" in output, output[-3000:]


# -- the local platform, sandbox on ------------------------------------------------------------------------


async def _unpaid_order(api: httpx.AsyncClient, admin: str, *, mode: str = "online") -> dict[str, Any]:
    institution_id = "inst-sb-" + uuid.uuid4().hex[:8]
    institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
    await publish_offer(api, institution)
    signup = await approved_enterprise(api, admin)
    enterprise = signup["access_token"]
    batch = {
        "institution_id": institution_id,
        "position": "施工员",
        "specialisation": "土建施工",
        "training_mode": mode,
        "applicants": [
            {
                "name": "孙八",
                "gender": "男",
                "mobile": "13800003333",
                "id_number": make_id_number(date(1990, 7, 7), male=True),
                "education": "大专",
                "employer": "杭州建工集团有限公司",
            }
        ],
    }
    created = await api.post("/api/enrollment/batches", headers=bearer(enterprise), json=batch)
    assert created.status_code == 201, created.text
    applicant_id = created.json()["applicant_ids"][0]
    qualified = await api.post(
        f"/api/enrollment/applicants/{applicant_id}/qualify", headers=bearer(institution)
    )
    assert qualified.status_code == 204, qualified.text

    async def ordered() -> dict[str, Any] | None:
        r = await api.post(
            "/api/payment/orders",
            headers=bearer(enterprise),
            json={"institution_id": institution_id, "applicant_ids": [applicant_id]},
        )
        return dict(r.json()) if r.status_code == 201 else None

    order = await eventually(ordered, what="an order for the qualified applicant")
    return {
        **order,
        "enterprise": enterprise,
        "enterprise_id": signup["org_id"],
        "institution": institution,
        "applicant_id": applicant_id,
    }


async def test_anonymous_requests_and_forged_callbacks_cannot_mark_an_order_paid(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        order = await _unpaid_order(api, admin)
        order_id, enterprise = order["order_id"], bearer(order["enterprise"])
        other = bearer((await approved_enterprise(api, admin))["access_token"])
        detail = (await api.get(f"/api/payment/orders/{order_id}", headers=enterprise)).json()

        started = await api.post(f"/api/payment/orders/{order_id}/pay-online", headers=enterprise, json={})
        assert started.status_code == 200, started.text
        payment_id = started.json()["payment_id"]

        # anonymous: the cashier neither pays nor cancels, the payment records are not shown
        for path in (
            f"/api/payment/sandbox/cashier/{payment_id}/pay",
            f"/api/payment/sandbox/cashier/{payment_id}/cancel",
        ):
            anonymous = await api.post(path)
            assert anonymous.status_code == 401, (path, anonymous.text)
            stranger = await api.post(path, headers=other)
            assert stranger.status_code == 404 and stranger.json()["code"] == "payment_not_found"
        assert (await api.get(f"/api/payment/sandbox/payments/{payment_id}")).status_code == 401
        assert (
            await api.get(f"/api/payment/sandbox/payments/{payment_id}", headers=other)
        ).status_code == 404

        # forged callbacks: a made-up secret, no signature at all, a stale timestamp
        body = _notice(payment_id, detail["order_number"], detail["amount_fen"])
        forged = await api.post(CALLBACK, content=body, headers=_forged_headers(body, "f" * 48))
        assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature", forged.text
        unsigned = await api.post(CALLBACK, content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401 and unsigned.json()["code"] == "invalid_signature"
        stale = await api.post(
            CALLBACK, content=body, headers=_forged_headers(body, "f" * 48, int(time.time()) - 3600)
        )
        assert stale.status_code == 401

        # the order is still unpaid, the sandbox's payment still open: nothing was paid
        after = (await api.get(f"/api/payment/orders/{order_id}", headers=enterprise)).json()
        assert after["status"] == "unpaid", after
        sandbox = await api.get(f"/api/payment/sandbox/payments/{payment_id}", headers=enterprise)
        assert sandbox.status_code == 200 and sandbox.json()["status"] == "created"
        assert sandbox.json()["notifications"] == []
        applicant = (
            await api.get(f"/api/enrollment/applicants/{order['applicant_id']}", headers=enterprise)
        ).json()
        assert applicant["status"] != "enrolled"


# -- vouchers ----------------------------------------------------------------------------------------------


def _huge_png(width: int = 20000, height: int = 20000) -> bytes:
    """A few hundred bytes that declare 400 million pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def test_vouchers_that_do_not_decode_are_refused_and_nothing_is_stored(
    platform: ServiceProcesses,
    admin_credentials: tuple[str, str],
    make_settings: Callable[..., ServiceSettings],
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        order = await _unpaid_order(api, admin, mode="offline")
        order_id, enterprise = order["order_id"], bearer(order["enterprise"])
        me = (await api.get("/api/registration/enterprises/me", headers=enterprise)).json()
        detail = (await api.get(f"/api/payment/orders/{order_id}", headers=enterprise)).json()
        form = voucher_form(me["name"], me["credit_code"], detail["amount_fen"])

        async def upload(name: str, data: bytes, content_type: str) -> httpx.Response:
            return await api.post(
                f"/api/payment/orders/{order_id}/voucher",
                headers=enterprise,
                data=form,
                files={"file": (name, data, content_type)},
            )

        jpeg, pdf = sample_jpeg(), sample_pdf()
        cases = [
            ("bomb.png", _huge_png(), "image/png", 422, "image_too_large", "20000×20000"),
            ("cut.jpg", jpeg[: len(jpeg) // 2], "image/jpeg", 422, "corrupt_file", "图片无法完整解码"),
            ("bad.jpg", jpeg[:200] + os.urandom(2000), "image/jpeg", 422, "corrupt_file", "缴费凭证"),
            ("cut.pdf", pdf[: len(pdf) // 2], "application/pdf", 422, "corrupt_file", "PDF 文件不完整"),
            (
                "big.pdf",
                b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024),
                "application/pdf",
                413,
                "voucher_too_large",
                "10 MB",
            ),
            ("v.gif", b"GIF89a" + b"\x00" * 100, "image/gif", 422, "voucher_type_not_allowed", "GIF"),
        ]
        for name, data, content_type, status, code, words in cases:
            r = await upload(name, data, content_type)
            assert r.status_code == status, (name, r.status_code, r.text)
            assert r.json()["code"] == code and words in r.json()["detail"], (name, r.json())
        assert "缴费凭证" in (await upload("cut.pdf", pdf[:-40], "application/pdf")).json()["detail"]

        # nothing stored: no voucher on the order, no object in payment's bucket
        seen = (await api.get(f"/api/payment/orders/{order_id}", headers=enterprise)).json()
        assert seen["voucher"] is None
        missing = await api.get(f"/api/payment/orders/{order_id}/voucher", headers=enterprise)
        assert missing.status_code == 404 and missing.json()["code"] == "no_voucher"
        objects = ObjectStore(make_settings(service_name="payment"))
        stored = list(
            objects.client.list_objects(objects.bucket, prefix=f"vouchers/{order_id}/", recursive=True)
        )
        assert stored == []

        # a good voucher is still accepted
        async def accepted() -> httpx.Response | None:
            r = await upload("ok.pdf", pdf, "application/pdf")
            assert r.status_code in (201, 409), r.text  # 409 until payment learns of the enterprise
            return r if r.status_code == 201 else None

        await eventually(accepted, what="a good voucher accepted")


async def test_payment_lists_refuse_an_absurd_skip_and_long_text(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        for params in ({"skip": str(2**63)}, {"skip": "100001"}, {"limit": "1001"}):
            r = await api.get("/api/payment/orders", headers=bearer(admin), params=params)
            assert r.status_code == 422, (params, r.status_code, r.text)
        ok = await api.get("/api/payment/orders", headers=bearer(admin), params={"skip": "0", "limit": "3"})
        assert ok.status_code == 200 and len(ok.json()["items"]) <= 3
        enterprise = bearer((await approved_enterprise(api, admin))["access_token"])
        long_reason = await api.post(
            f"/api/payment/orders/{uuid.uuid4().hex}/cancel", headers=enterprise, json={"reason": "x" * 501}
        )
        assert long_reason.status_code == 422, long_reason.text
        too_long = await api.post(
            "/api/payment/orders",
            headers=enterprise,
            json={"institution_id": "i" * 65, "applicant_ids": ["a"]},
        )
        assert too_long.status_code == 422, too_long.text
