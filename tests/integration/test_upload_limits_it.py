"""Upload limits, decode checks, paging and text limits on the real platform (findings of a security probe).

* A body over its route's limit is refused before it is read, sent to a service directly (with the gateway's
  proof, as the gateway forwards it) or through the gateway: a declared 200 MB body is answered 413 after a
  few KB were sent; a streamed (chunked) body stops being read soon after it passes the limit.
* The materials zip's documented limit (500 MB) is reachable through the gateway (its old cap was 50 MB), and
  concurrent zips are spooled to disk, not held in the enrollment process's memory (its RSS is measured).
* ID cards: a 20000×20000 PNG, a corrupt JPEG and a truncated PDF are refused with precise codes, nothing
  stored; registration refuses a truncated PDF as its business licence.
* skip = 2^63 is a 422 on every list endpoint; a 50,000-character name is a 422.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import struct
import time
import uuid
import zipfile
import zlib
from datetime import date
from typing import Any

import httpx
import pytest
from PIL import Image
from servicekit.launcher import ServiceProcesses
from servicekit.origin import sign

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    publish_offer,
    registration_form,
    sample_jpeg,
    sample_pdf,
    wait_job,
)

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
DEFAULT_LIMIT = 12 * MiB
ID_CARD = "/api/enrollment/me/id-card/front"
SIGNUP = {"password": "Jianshe2026!", "display_name": "测试施工企业"}
BATCH = {"institution_id": "x", "position": "安全员", "training_mode": "online"}


# ------------------------------------------------------------------------------------------ raw HTTP client

BOUNDARY = "limits-probe-boundary"
MULTIPART_HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
    "Content-Type: image/png\r\n\r\n"
).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return status, json.loads(body) if body else {}


async def raw_upload(
    port: int,
    path: str,
    extra_headers: dict[str, str],
    *,
    offer: int,
    declared: int | None,
    method: str = "PUT",
    chunk: int = 256 * 1024,
    stop_after: int | None = None,
    multipart: bool = True,
) -> tuple[int | None, dict[str, Any], int, float]:
    """Send up to `offer` bytes (declared with Content-Length, or chunked when `declared` is None), stopping
    as soon as the server answers (or after `stop_after` bytes, then waiting for the answer); returns (status
    or None when the connection was cut, body, bytes sent, seconds until the answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    content_type = f"multipart/form-data; boundary={BOUNDARY}" if multipart else "application/octet-stream"
    headers = {"Host": "127.0.0.1", "Content-Type": content_type, **extra_headers}
    if declared is not None:
        headers["Content-Length"] = str(declared)
    else:
        headers["Transfer-Encoding"] = "chunked"
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    started = time.perf_counter()
    answer = asyncio.create_task(_read_response(reader))
    sent = 0
    payload = os.urandom(chunk)
    try:
        writer.write(head.encode())
        if multipart:  # a file field's head: the service's multipart parser streams (and spools) the rest
            part = MULTIPART_HEAD
            writer.write(part if declared is not None else b"%x\r\n%b\r\n" % (len(part), part))
        await writer.drain()
        while sent < offer and not answer.done() and (stop_after is None or sent < stop_after):
            piece = payload[: min(chunk, offer - sent)]
            writer.write(piece if declared is not None else b"%x\r\n%b\r\n" % (len(piece), piece))
            await writer.drain()
            sent += len(piece)
            await asyncio.sleep(0)
        status, body = await asyncio.wait_for(answer, timeout=30)
        return status, body, sent, time.perf_counter() - started
    except (ConnectionError, asyncio.IncompleteReadError):
        # the server answered and closed while we were still sending: the answer may already be in our
        # receive buffer with the reader not yet scheduled — give it a moment before calling it cut
        try:
            status, body = await asyncio.wait_for(asyncio.shield(answer), timeout=5)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            return None, {}, sent, time.perf_counter() - started
        return status, body, sent, time.perf_counter() - started
    finally:
        answer.cancel()
        writer.close()


def proof(platform: ServiceProcesses, method: str, path: str) -> dict[str, str]:
    """The header the gateway adds to what it forwards (services run with REQUIRE_GATEWAY=1)."""
    return {"X-Gateway-Proof": sign(platform.env["GATEWAY_SIGNING_SECRET"], method, path.encode())}


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


# ---------------------------------------------------------------------------------------------- body sizes


async def test_a_declared_200_mb_body_is_refused_before_it_is_read(platform: ServiceProcesses) -> None:
    """Directly to the service and through the gateway: 413 after a few KB sent, never the 200 MB."""
    for name, headers in (
        ("enrollment", proof(platform, "PUT", ID_CARD)),
        ("gateway", {}),
    ):
        status, body, sent, seconds = await raw_upload(
            platform.ports[name],
            ID_CARD,
            headers,
            offer=200 * MiB,
            declared=200 * MiB,
            stop_after=64 * 1024,
            chunk=16 * 1024,
        )
        assert status == 413, (name, status, body)
        assert body["code"] == "payload_too_large" and "12 MB" in body["detail"], body
        assert sent <= 64 * 1024 and seconds < 10, (name, sent, seconds)


async def test_a_streamed_body_stops_being_read_soon_after_the_limit(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    """Chunked, no length: the service (and the gateway) stop reading once it passes 12 MB; what the
    client managed to send is the limit plus what the sockets buffer, not the 200 MB offered. (The body is
    read before the route's role check: a signed-in caller of any role reaches the limit.)"""
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        token = (await login(api, *admin_credentials))["access_token"]
    for name, headers in (
        ("enrollment", proof(platform, "PUT", ID_CARD)),
        ("gateway", bearer(token)),
    ):
        status, body, sent, _ = await raw_upload(
            platform.ports[name], ID_CARD, headers, offer=200 * MiB, declared=None
        )
        assert status in (413, None), (name, status, body)  # None: cut off while still sending
        if status == 413:
            assert body["code"] == "payload_too_large", body
        assert sent < DEFAULT_LIMIT + 24 * MiB, (name, sent)


def _padding_zip(size: int, entry: int = 15 * MiB) -> bytes:
    """A zip of incompressible entries (stored) of about `size` bytes: nothing usable, but a valid zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(max(1, size // entry)):
            archive.writestr(f"padding-{index}.jpg", b"\xff\xd8\xff" + random.randbytes(entry - 3))
    return out.getvalue()


async def _enterprise_with_batch(api: httpx.AsyncClient, admin: str) -> tuple[dict[str, str], str, str]:
    institution_id = f"inst-ul-{uuid.uuid4().hex[:6]}"
    institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
    await publish_offer(api, institution, name="上传限额测试学校")
    enterprise = bearer((await approved_enterprise(api, admin))["access_token"])
    id_number = make_id_number(date(1990, 3, 4), male=True)
    created = await api.post(
        "/api/enrollment/batches",
        headers=enterprise,
        json={
            "institution_id": institution_id,
            "position": "安全员",
            "training_mode": "online",
            "applicants": [
                {
                    "name": "周九",
                    "gender": "男",
                    "id_number": id_number,
                    "mobile": f"139{random.randrange(10**8):08d}",
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    return enterprise, created.json()["batch_id"], id_number


async def test_materials_zip_limit_is_the_documented_one_and_zips_are_not_held_in_memory(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=120) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        enterprise, batch_id, _ = await _enterprise_with_batch(api, admin)
        url = f"/api/enrollment/batches/{batch_id}/materials"

        # 60 MB: over the gateway's old 50 MB cap, under the documented 500 MB: accepted and read as a zip
        big = _padding_zip(60 * MiB)
        assert len(big) > 50 * MiB
        accepted = await api.post(
            url, headers=enterprise, files={"file": ("big.zip", big, "application/zip")}
        )
        assert accepted.status_code == 202, accepted.text
        job = await wait_job(api, enterprise["Authorization"][7:], accepted.json()["status_url"])
        assert job["state"] == "failed" and job["error"]["code"] == "no_usable_materials", job
        del big

        # concurrent zips: spooled to a temporary file each, read one entry at a time (not held in memory)
        pid = platform.processes["enrollment"].pid
        zips = [_padding_zip(45 * MiB) for _ in range(6)]
        before = rss_bytes(pid)
        peak = before
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_bytes(pid))
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch())
        try:
            answers = await asyncio.gather(
                *(
                    api.post(url, headers=enterprise, files={"file": (f"z{i}.zip", z, "application/zip")})
                    for i, z in enumerate(zips)
                )
            )
            assert all(a.status_code == 202 for a in answers), [a.text for a in answers]
            for answer in answers:
                await wait_job(api, enterprise["Authorization"][7:], answer.json()["status_url"])
        finally:
            done.set()
            await watcher
        growth = peak - before
        print(f"enrollment RSS {before / MiB:.0f} MB → peak {peak / MiB:.0f} MB (+{growth / MiB:.0f} MB)")
        # 6 × 45 MB = 270 MB held (and copied) before; now a few MB of buffers per request and one entry
        assert growth < 150 * MiB, growth


# ------------------------------------------------------------------------------------------- decode checks


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    png = out.getvalue()
    ihdr = struct.pack(">II", width, height) + png[24:29]
    return png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF) + png[33:]


async def _person(api: httpx.AsyncClient, admin: str) -> dict[str, str]:
    institution_id = f"inst-ic-{uuid.uuid4().hex[:6]}"
    institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
    await publish_offer(api, institution, name="证件检查测试学校")
    enterprise = bearer((await approved_enterprise(api, admin))["access_token"])
    id_number = make_id_number(date(1991, 7, 8), male=False)
    created = await api.post(
        "/api/enrollment/batches",
        headers=enterprise,
        json={
            "institution_id": institution_id,
            "position": "安全员",
            "training_mode": "online",
            "applicants": [
                {
                    "name": "吴十",
                    "gender": "女",
                    "id_number": id_number,
                    "mobile": f"139{random.randrange(10**8):08d}",
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                }
            ],
        },
    )
    assert created.status_code == 201, created.text

    async def issue_code() -> str | None:
        r = await api.post(f"/api/gateway/persons/{id_number}/activation-code", headers=bearer(institution))
        return str(r.json()["code"]) if r.status_code == 200 else None

    code = await eventually(issue_code, what="the gateway to know the person")
    activated = await api.post(
        "/api/gateway/auth/activate", json={"id_number": id_number, "code": code, "password": "Xuyuan2026!"}
    )
    assert activated.status_code == 200, activated.text
    return bearer(activated.json()["access_token"])


async def test_id_cards_are_decoded_completely(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        person = await _person(api, admin)
        jpeg = sample_jpeg()
        cases = {
            "bomb.png": (bomb_png(), 422, "image_too_large", "20000×20000"),
            "corrupt.jpg": (jpeg[: len(jpeg) // 2], 422, "corrupt_file", "无法完整解码"),
            "garbage.jpg": (jpeg[:300] + b"\x00" * 4000, 422, "corrupt_file", "无法完整解码"),
            "truncated.pdf": (sample_pdf()[:-60], 415, "unsupported_format", "实际是 PDF"),
        }
        for name, (data, status, code, words) in cases.items():
            r = await api.put(ID_CARD, headers=person, files={"file": (name, data, "image/png")})
            assert r.status_code == status and r.json()["code"] == code, (name, r.text)
            assert "身份证正面照片" in r.json()["detail"] and words in r.json()["detail"], (name, r.text)
        profile = (await api.get("/api/enrollment/me/profile", headers=person)).json()
        assert profile["id_card"]["front"] is None  # nothing stored

        # registration: a truncated PDF as the business licence
        signup = await api.post(
            "/api/gateway/auth/signup/enterprise",
            json={
                "username": f"ent-{uuid.uuid4().hex[:8]}",
                "password": "Jianshe2026!",
                "display_name": "企业",
            },
        )
        token = signup.json()["access_token"]
        refused = await api.post(
            "/api/registration/enterprises",
            headers=bearer(token),
            data=registration_form(),
            files={
                "business_licence": ("licence.pdf", sample_pdf()[:-60], "application/pdf"),
                "commitment_letter": ("letter.png", bomb_png(), "image/png"),
            },
        )
        assert refused.status_code == 422, refused.text
        codes = {e["field"]: e["code"] for e in refused.json()["errors"]}
        assert codes == {"business_licence": "corrupt_file", "commitment_letter": "image_too_large"}, codes


# ------------------------------------------------------------------------------------------ paging and text


async def test_out_of_range_paging_and_overlong_texts_are_422(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = bearer((await login(api, *admin_credentials))["access_token"])
        lists = [
            "/api/registration/enterprises",
            "/api/enrollment/applicants",
            "/api/enrollment/review-queue",
            "/api/enrollment/training-plans",
            "/api/exam/candidates",
            "/api/exam/sessions",
        ]
        for path in lists:
            for skip in (2**63, 2**63 - 1, -1, 100_001):
                r = await api.get(path, headers=admin, params={"skip": skip})
                assert r.status_code == 422, (path, skip, r.status_code, r.text)
                assert r.json()["errors"][0]["field"] == "skip", r.text
            assert (await api.get(path, headers=admin, params={"skip": 100_000})).status_code == 200, path
            huge = await api.get(path, headers=admin, params={"limit": 2**63})
            assert huge.status_code == 422, (path, huge.text)

        enterprise = bearer((await approved_enterprise(api, admin["Authorization"][7:]))["access_token"])
        applicant = {
            "name": "张" * 50_000,
            "gender": "男",
            "id_number": make_id_number(date(1990, 1, 1), male=True),
            "education": "大专",
            "employer": "杭州建工集团有限公司",
        }
        r = await api.post(
            "/api/enrollment/batches",
            headers=enterprise,
            json={
                "institution_id": "x",
                "position": "安全员",
                "training_mode": "online",
                "applicants": [applicant],
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_request", r.text
        assert {e["field"] for e in r.json()["errors"]} == {"applicants.0.name"}, r.text

        signup = await api.post(
            "/api/gateway/auth/signup/enterprise",
            json={
                "username": f"ent-{uuid.uuid4().hex[:8]}",
                "password": "Jianshe2026!",
                "display_name": "企业",
            },
        )
        long_name = await api.post(
            "/api/registration/enterprises",
            headers=bearer(signup.json()["access_token"]),
            data=registration_form(name="建" * 50_000),
            files={"business_licence": ("l.jpg", sample_jpeg(), "image/jpeg")},
        )
        assert long_name.status_code == 422 and long_name.json()["errors"][0]["field"] == "name", (
            long_name.text
        )
