"""Idempotency-Key and immutable object keys through the gateway on the real platform: a retried order with
the same key creates one order and answers the same order id (also when the retries race), the same key with
another body is refused, a retried materials upload answers the same job; a materials re-upload never
overwrites an object an earlier event names (a link to the earlier document still gives its bytes)."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from datetime import date

import httpx
import imaging
import pytest
from PIL import Image
from servicekit.launcher import ServiceProcesses

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    publish_offer,
    wait_job,
)

pytestmark = pytest.mark.integration


def coloured_jpeg(rgb: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), rgb).save(out, "JPEG")
    return out.getvalue()


async def _batch(api: httpx.AsyncClient, enterprise: str, institution_id: str, count: int) -> dict[str, str]:
    """A batch of `count` applicants: applicant id → ID number."""
    numbers = [make_id_number(date(1984 + i, 4, 9), male=True) for i in range(count)]
    batch = {
        "institution_id": institution_id,
        "position": "施工员",
        "specialisation": "土建施工",
        "training_mode": "offline",
        "applicants": [
            {
                "name": f"学员{i}",
                "gender": "男",
                "mobile": "13800001111",
                "id_number": number,
                "education": "大专",
                "employer": "杭州建工集团有限公司",
            }
            for i, number in enumerate(numbers)
        ],
    }
    r = await api.post("/api/enrollment/batches", headers=bearer(enterprise), json=batch)
    assert r.status_code == 201, r.text
    return {"batch_id": r.json()["batch_id"], **dict(zip(r.json()["applicant_ids"], numbers, strict=True))}


async def test_idempotent_orders_and_materials(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = "inst-" + uuid.uuid4().hex[:8]
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, institution, name="幂等测试学校")
        enterprise = (await approved_enterprise(api, admin))["access_token"]
        created = await _batch(api, enterprise, institution_id, 3)
        batch_id = created.pop("batch_id")
        a1, a2, a3 = created
        for applicant_id in (a1, a2, a3):
            q = await api.post(
                f"/api/enrollment/applicants/{applicant_id}/qualify", headers=bearer(institution)
            )
            assert q.status_code == 204, q.text

        key = f"order-{uuid.uuid4()}"
        headers = {**bearer(enterprise), "Idempotency-Key": key}
        body = {"institution_id": institution_id, "applicant_ids": [a1]}

        # refused until payment learns of the qualification: a refusal keeps nothing, the same key goes again
        async def ordered() -> httpx.Response | None:
            r = await api.post("/api/payment/orders", headers=headers, json=body)
            assert r.status_code in (201, 422), r.text
            return r if r.status_code == 201 else None

        first = await eventually(ordered, what="the order with an Idempotency-Key")
        order_id = first.json()["order_id"]
        assert "idempotent-replayed" not in first.headers

        # (b) retries with the same key: the same answer, one order
        for _ in range(2):
            again = await api.post("/api/payment/orders", headers=headers, json=body)
            assert again.status_code == 201, again.text
            assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        fresh = await api.post("/api/payment/orders", headers=bearer(enterprise), json=body)
        assert fresh.status_code == 409 and fresh.json()["code"] == "applicant_in_open_order", fresh.text

        async def orders_of(applicant_id: str) -> list[str]:
            listed = (await api.get("/api/payment/orders", headers=bearer(enterprise))).json()["items"]
            return [
                o["order_id"]
                for o in listed
                if applicant_id in [line["applicant_id"] for line in o.get("lines", [])]
            ]

        assert await eventually(lambda: orders_of(a1), what="the order in the read model") == [order_id]

        # (c) the same key with another body is refused, and nothing is created
        reused = await api.post(
            "/api/payment/orders",
            headers=headers,
            json={"institution_id": institution_id, "applicant_ids": [a2]},
        )
        assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused", reused.text
        assert "Idempotency-Key" in reused.json()["detail"]
        too_long = await api.post(
            "/api/payment/orders", headers={**bearer(enterprise), "Idempotency-Key": "k" * 201}, json=body
        )
        assert too_long.status_code == 422 and too_long.json()["code"] == "idempotency_key_too_long"

        # two retries racing with one key: one order; the other answer is the same order or 409 in progress
        racing = {**bearer(enterprise), "Idempotency-Key": f"order-{uuid.uuid4()}"}
        raced = await asyncio.gather(
            *(
                api.post(
                    "/api/payment/orders",
                    headers=racing,
                    json={"institution_id": institution_id, "applicant_ids": [a2]},
                )
                for _ in range(2)
            )
        )
        assert sorted(r.status_code for r in raced) in ([201, 201], [201, 409]), [r.text for r in raced]
        winners = {r.json()["order_id"] for r in raced if r.status_code == 201}
        assert len(winners) == 1
        for r in raced:
            if r.status_code == 409:
                assert (
                    r.json()["code"] == "idempotency_in_progress"
                    and "处理中，请稍后重试" in r.json()["detail"]
                )
        assert await eventually(lambda: orders_of(a2), what="the raced order") == list(winners)
        await asyncio.sleep(1)
        assert await orders_of(a2) == list(winners) and await orders_of(a1) == [order_id]

        # materials: a retried upload answers the same job; a re-upload never overwrites the earlier objects
        number = created[a3]
        first_zip = io.BytesIO()
        with zipfile.ZipFile(first_zip, "w") as zf:
            zf.writestr(f"{number}$报名表.jpg", coloured_jpeg((250, 10, 10)))
            zf.writestr(f"{number}$头像.jpg", imaging.good_head_photo())
        upload_headers = {**bearer(enterprise), "Idempotency-Key": f"materials-{uuid.uuid4()}"}

        async def upload(data: bytes, headers: dict[str, str]) -> httpx.Response:
            return await api.post(
                f"/api/enrollment/batches/{batch_id}/materials",
                headers=headers,
                files={"file": ("资料.zip", data, "application/zip")},
            )

        sent = await upload(first_zip.getvalue(), upload_headers)
        resent = await upload(first_zip.getvalue(), upload_headers)
        assert sent.status_code == resent.status_code == 202, (sent.text, resent.text)
        assert resent.json() == sent.json() and resent.headers["idempotent-replayed"] == "true"
        assert (await wait_job(api, enterprise, sent.json()["status_url"]))["state"] == "succeeded"

        async def link(expected: bytes) -> str | None:
            r = await api.get(f"/api/enrollment/applicants/{a3}/documents", headers=bearer(institution))
            urls = {d["document"]: d["url"] for d in r.json()["documents"]}
            if "报名表" not in urls:
                return None
            return urls["报名表"] if (await api.get(urls["报名表"])).content == expected else None

        earlier = await eventually(lambda: link(coloured_jpeg((250, 10, 10))), what="the first 报名表")
        second_zip = io.BytesIO()
        with zipfile.ZipFile(second_zip, "w") as zf:
            zf.writestr(f"{number}$报名表.jpg", coloured_jpeg((10, 10, 250)))
        replaced = await upload(second_zip.getvalue(), bearer(enterprise))
        assert (await wait_job(api, enterprise, replaced.json()["status_url"]))["state"] == "succeeded"
        newer = await eventually(lambda: link(coloured_jpeg((10, 10, 250))), what="the re-uploaded 报名表")
        assert newer != earlier
        kept = await api.get(earlier)  # the first upload's object, which its MaterialsUploaded names
        assert kept.status_code == 200 and kept.content == coloured_jpeg((250, 10, 10))
