"""The write-side collections' check (`rebuild_service(..., check=True)`, `make rebuild-check`) finds what it
is for: a row of enrollment's applicant index lost, a payment claim on the wrong order, a certificate index
state no event explains, an order counter behind the numbers handed out; and it allows what it must (an order
counter ahead). Each corruption is undone at once: the platform is shared with the session's other tests."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses
from servicekit.mongo import create_client
from servicekit.rebuild import rebuild_service

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    publish_offer,
)

pytestmark = pytest.mark.integration


def _applicant(n: int) -> dict[str, Any]:
    return {
        "name": f"写侧学员{n}",
        "gender": "男",
        "id_number": make_id_number(date(1975 + n, 6, 11), male=True),
        "mobile": "13800002222",
        "education": "大专",
        "employer": "杭州建工集团有限公司",
    }


def _changed(collection: str, key: str, field: str, live: object, rebuilt: object) -> str:
    """A difference as `servicekit.projections.diff` words it (live → rebuilt)."""
    return f"{collection}: missing [], extra [], changed {[f'{key}: {field} {live!r} → {rebuilt!r}']}"


async def test_the_write_index_check_reports_exactly_the_corruption(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = "inst-" + uuid.uuid4().hex[:8]
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, institution, name="写侧索引测试学校")
        enterprise = (await approved_enterprise(api, admin))["access_token"]
        batch = {
            "institution_id": institution_id,
            "position": "施工员",
            "specialisation": "土建施工",
            "training_mode": "offline",
            "applicants": [_applicant(n) for n in range(3)],
        }
        r = await api.post("/api/enrollment/batches", headers=bearer(enterprise), json=batch)
        assert r.status_code == 201, r.text
        a1, a2, a3 = r.json()["applicant_ids"]
        for applicant_id in (a1, a2):
            q = await api.post(
                f"/api/enrollment/applicants/{applicant_id}/qualify", headers=bearer(institution)
            )
            assert q.status_code == 204, q.text
        # a3 rejected, then corrected with another ID number (ApplicantCorrected moves its index row)
        rejected = await api.post(
            f"/api/enrollment/applicants/{a3}/reject",
            headers=bearer(institution),
            json={"reason": "身份证号有误"},
        )
        assert rejected.status_code == 204, rejected.text
        new_id_number = make_id_number(date(1990, 2, 3), male=True)
        fixed = await api.put(
            f"/api/enrollment/applicants/{a3}",
            headers=bearer(enterprise),
            json={**_applicant(2), "id_number": new_id_number},
        )
        assert fixed.status_code == 200, fixed.text

        async def ordered() -> dict[str, Any] | None:
            r = await api.post(
                "/api/payment/orders",
                headers=bearer(enterprise),
                json={"institution_id": institution_id, "applicant_ids": [a1]},
            )
            return dict(r.json()) if r.status_code == 201 else None

        order = await eventually(ordered, what="an order for a qualified applicant")
        order_id, day = order["order_id"], order["order_number"][2:10]
        legacy = await api.post(
            "/api/certification/legacy",
            headers=bearer(admin),
            json={
                "certificate_number": f"ZJ-{uuid.uuid4().hex[:10].upper()}",
                "holder_name": "李四",
                "gender": "男",
                "id_number": make_id_number(date(1979, 9, 9), male=True),
                "position": "安全员",
                "issued_on": "2020-05-20",
                "issuer": "浙江省住房和城乡建设厅",
            },
        )
        assert legacy.status_code == 201, legacy.text
        certificate_id = legacy.json()["certificate_id"]

    for key, value in platform.env.items():
        monkeypatch.setenv(key, value)
    client = create_client(platform.env["MONGO_URL"])
    try:
        # enrollment: one applicant_index row lost (the corrected one is as ApplicantCorrected says)
        index = client["enrollment"]["applicant_index"]
        assert (await index.find_one({"_id": a3}) or {}).get("id_number") == new_id_number
        row = await index.find_one({"_id": a2})
        assert row is not None
        await index.delete_one({"_id": a2})
        try:
            result = await rebuild_service("enrollment", check=True)
        finally:
            await index.insert_one(row)
        assert result.differences == [
            f"applicant-index: applicant_index: missing [], extra [{a2!r}], changed []"
        ], result.differences

        # payment: a claim on another order is reported; the order counter ahead of the numbers is not
        claims, counters = client["payment"]["applicant_claims"], client["payment"]["counters"]
        await claims.update_one({"_id": a1}, {"$set": {"order_id": "not-this-order"}})
        await counters.update_one({"_id": f"order-{day}"}, {"$inc": {"seq": 5}})
        try:
            result = await rebuild_service("payment", check=True)
        finally:
            await claims.update_one({"_id": a1}, {"$set": {"order_id": order_id}})
            await counters.update_one({"_id": f"order-{day}"}, {"$inc": {"seq": -5}})
        assert result.differences == [
            "applicant-claims: " + _changed("applicant_claims", a1, "order_id", "not-this-order", order_id)
        ], result.differences

        # payment: the order counter behind the numbers handed out (it would hand one out again)
        counter = await counters.find_one({"_id": f"order-{day}"})
        assert counter is not None
        await counters.update_one({"_id": f"order-{day}"}, {"$set": {"seq": 0}})
        try:
            result = await rebuild_service("payment", check=True)
        finally:
            await counters.update_one({"_id": f"order-{day}"}, {"$set": {"seq": counter["seq"]}})
        assert len(result.differences) == 1, result.differences
        assert result.differences[0].startswith(
            f"order-counters: counters: missing [], behind ['order-{day}: seq 0 < "
        ), result.differences

        # certification: a state no event explains (the rest of the legacy certificate's row, its importer
        # included, comes out of LegacyCertificateImported as the command wrote it)
        certificates = client["certification"]["certificate_index"]
        await certificates.update_one({"_id": certificate_id}, {"$set": {"state": "revoked"}})
        try:
            result = await rebuild_service("certification", check=True)
        finally:
            await certificates.update_one({"_id": certificate_id}, {"$set": {"state": "valid"}})
        assert result.differences == [
            "certificate-index: " + _changed("certificate_index", certificate_id, "state", "revoked", "valid")
        ], result.differences
    finally:
        await client.close()
