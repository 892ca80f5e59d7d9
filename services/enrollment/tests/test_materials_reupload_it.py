"""Materials re-uploads on the real stack (the enrollment service in-process, its object store failing on the
Nth put when told to): every upload is stored under keys of its own, so a re-upload that fails half-way
leaves every document of the earlier upload readable through the documents endpoint and removes only the
objects the failed request stored; a successful re-upload never overwrites what an earlier event names."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import imaging
import pytest
from enrollment.main import build_app
from enrollment.projections.read_models import ENTERPRISES
from enrollment.settings import EnrollmentSettings
from minio.error import S3Error
from PIL import Image
from servicekit.auth import Identity, Role, TokenCodec
from servicekit.objectstore import ObjectStore
from servicekit.settings import ServiceSettings
from servicekit.testing import running_app, unique_name

pytestmark = pytest.mark.integration

T = TypeVar("T")
ID_NUMBER = "330106199005170019"
DOCUMENTS = ("报名表", "身份证正面", "学历证书")


class FailingStore(ObjectStore):
    """The service's object store, but the `fail_on`-th put after `arm` fails (storage gone mid-upload)."""

    def __init__(self, settings: ServiceSettings) -> None:
        super().__init__(settings)
        self.fail_on: int | None = None
        self.count = 0
        self.put_keys: list[str] = []

    def arm(self, fail_on: int) -> None:
        self.fail_on, self.count, self.put_keys = fail_on, 0, []

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail_on is not None:
            self.count += 1
            if self.count == self.fail_on:
                raise ConnectionError("对象存储暂时不可用（测试）")
        await super().put(key, data, content_type)
        self.put_keys.append(key)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: last={last!r}")


def coloured_jpeg(rgb: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), rgb).save(out, "JPEG")
    return out.getvalue()


def materials_zip(files: dict[str, bytes]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for document, data in files.items():
            zf.writestr(f"{ID_NUMBER}${document}.jpg", data)
    return archive.getvalue()


async def test_a_failed_reupload_keeps_the_earlier_documents(
    make_settings: Callable[..., ServiceSettings], jwt_secret: str
) -> None:
    settings = EnrollmentSettings(**make_settings(unique_name("enrollment")).model_dump())
    codec = TokenCodec(jwt_secret, settings.jwt_issuer)
    enterprise_id, institution_id = f"ent-{uuid.uuid4().hex[:8]}", f"inst-{uuid.uuid4().hex[:8]}"

    def bearer(role: Role, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {codec.issue(Identity(f'acc-{org}', role, org_id=org))}"}

    enterprise, institution = bearer(Role.ENTERPRISE, enterprise_id), bearer(Role.INSTITUTION, institution_id)
    app = build_app(settings)
    runtime = app.state.runtime
    store = FailingStore(settings)
    runtime.objects = store

    async with running_app(app) as api, httpx.AsyncClient(timeout=30) as s3:
        # an approved enterprise (as registration's EnterpriseApproved makes it) and the institution's offer
        await runtime.db[ENTERPRISES].update_one(
            {"_id": enterprise_id},
            {
                "$set": {
                    "status": "approved",
                    "name": "杭州建工集团有限公司",
                    "city": "杭州",
                    "updated_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )
        offer = {
            "name": "测试培训学校",
            "city": "杭州",
            "offers": [{"position": "安全员", "fee_online_fen": 60000, "fee_offline_fen": 90000}],
            "features": "理论与实操结合",
            "exam_locations": ["杭州市西湖区考点"],
            "payment_methods": ["offline"],
        }
        published = await api.put("/api/enrollment/institutions/me/offer", headers=institution, json=offer)
        assert published.status_code == 200, published.text
        batch = {
            "institution_id": institution_id,
            "position": "安全员",
            "training_mode": "offline",
            "applicants": [
                {
                    "name": "张三",
                    "gender": "男",
                    "id_number": ID_NUMBER,
                    "mobile": "13800001111",
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                    "major": "建筑工程技术",
                    "years_in_post": 5,
                }
            ],
        }
        imported = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
        assert imported.status_code == 201, imported.text
        batch_id, applicant_id = imported.json()["batch_id"], imported.json()["applicant_ids"][0]

        async def upload(files: dict[str, bytes]) -> dict[str, Any]:
            r = await api.post(
                f"/api/enrollment/batches/{batch_id}/materials",
                headers=enterprise,
                files={"file": ("资料.zip", materials_zip(files), "application/zip")},
            )
            assert r.status_code == 202, r.text

            async def finished() -> dict[str, Any] | None:
                job = (await api.get(r.json()["status_url"], headers=enterprise)).json()
                return job if job["state"] != "running" else None

            return await eventually(finished, "the materials job")

        async def documents() -> dict[str, bytes]:
            """Every document through the documents endpoint's short-lived links (fetched)."""
            r = await api.get(f"/api/enrollment/applicants/{applicant_id}/documents", headers=institution)
            assert r.status_code == 200, r.text
            out = {}
            for link in r.json()["documents"]:
                fetched = await s3.get(link["url"])
                assert fetched.status_code == 200, (link["document"], fetched.status_code, fetched.text[:200])
                out[link["document"]] = fetched.content
            return out

        async def exists(key: str) -> bool:
            try:
                await ObjectStore(settings).get(key)
            except S3Error as exc:
                assert exc.code == "NoSuchKey", exc
                return False
            return True

        # 1. the first upload: three documents and the head photo
        first = {d: coloured_jpeg((10 * i, 200, 30)) for i, d in enumerate(DOCUMENTS)}
        first["头像"] = imaging.good_head_photo()
        job = await upload(first)
        assert job["state"] == "succeeded", job
        first_keys = list(store.put_keys)
        assert len(first_keys) == 4 and len(set(first_keys)) == 4

        async def first_readable() -> dict[str, bytes] | None:
            seen = await documents()
            return seen if seen.keys() == first.keys() else None

        assert await eventually(first_readable, "the first upload in the read model") == first

        # 2. a re-upload of every document whose third put fails: the job fails, nothing is recorded, the
        #    two objects it had stored are removed, and every document of the first upload is still readable
        second = {d: coloured_jpeg((200, 10 * i, 90)) for i, d in enumerate(DOCUMENTS)}
        second["头像"] = imaging.good_head_photo()
        store.arm(fail_on=3)
        job = await upload(second)
        assert job["state"] == "failed" and job["error"]["code"] == "internal_error", job
        await asyncio.sleep(1)  # give a wrongly recorded event time to reach the read model
        assert await documents() == first
        failed_keys = list(store.put_keys)
        assert len(failed_keys) == 2 and not set(failed_keys) & set(first_keys), (failed_keys, first_keys)
        for key in failed_keys:
            assert not await exists(key), key
        for key in first_keys:
            assert await exists(key), key

        # 3. a re-upload that succeeds replaces single documents in the read model; the objects the first
        #    upload's event names stay as they were
        store.fail_on = None
        store.put_keys = []
        third = {"报名表": coloured_jpeg((1, 2, 250))}
        job = await upload(third)
        assert job["state"] == "succeeded", job
        assert store.put_keys and store.put_keys[0] not in first_keys

        async def replaced() -> dict[str, bytes] | None:
            seen = await documents()
            return seen if seen["报名表"] == third["报名表"] else None

        now = await eventually(replaced, "the re-uploaded document in the read model")
        assert {d: now[d] for d in ("身份证正面", "学历证书", "头像")} == {
            d: first[d] for d in ("身份证正面", "学历证书", "头像")
        }
        for key in first_keys:
            assert await exists(key), key
