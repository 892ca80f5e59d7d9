"""Registration end to end through the gateway: register with documents → reject → resubmit → approve."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from minio import Minio
from servicekit.launcher import ServiceProcesses

from .helpers import (
    bearer,
    eventually,
    login,
    register_enterprise,
    registration_files,
    registration_form,
    sample_jpeg,
)

pytestmark = pytest.mark.integration
CHECKS_OK = [
    {"check": c, "passed": True}
    for c in ("local_enterprise", "construction_enterprise", "documents_compliant")
]


async def _signup(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await api.post(
        "/api/gateway/auth/signup/enterprise",
        json={"username": f"ent-{uuid.uuid4().hex[:8]}", "password": "Jianshe2026!", "display_name": name},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _reviewer(api: httpx.AsyncClient, admin_token: str, city: str) -> str:
    username = f"rev-{uuid.uuid4().hex[:8]}"
    created = await api.post(
        "/api/gateway/accounts",
        headers=bearer(admin_token),
        json={"username": username, "role": "reviewer", "city": city, "display_name": city},
    )
    assert created.status_code == 201, created.text
    return str((await login(api, username, created.json()["generated_password"]))["access_token"])


def _bucket_objects(env: dict[str, str], prefix: str) -> list[str]:
    endpoint = env["S3_ENDPOINT"].split("://", 1)[1]
    client = Minio(
        endpoint,
        access_key=env["S3_ACCESS_KEY"],
        secret_key=env["S3_SECRET_KEY"],
        secure=False,
        region="us-east-1",
    )
    return [o.object_name or "" for o in client.list_objects("registration", prefix=prefix, recursive=True)]


async def test_register_reject_resubmit_approve(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        reviewer = await _reviewer(api, admin, "杭州")
        enterprise = await _signup(api, "测试建工")
        token, enterprise_id = enterprise["access_token"], enterprise["org_id"]

        # all problems of a bad submission come back at once, and nothing is stored
        bad = await api.post(
            "/api/registration/enterprises",
            headers=bearer(token),
            data=registration_form(contact_mobile="12345", city="上海"),
            files=registration_files(business_licence=b"not an image", commitment_letter=None),
        )
        assert bad.status_code == 422, bad.text
        assert {(e["field"], e["code"]) for e in bad.json()["errors"]} >= {
            ("contact_mobile", "invalid_mobile"),
            ("city", "invalid_city"),
            ("commitment_letter", "document_required"),
            ("business_licence", "unsupported_type"),
        }
        assert _bucket_objects(platform.env, f"enterprises/{enterprise_id}/") == []

        form = registration_form(business_scope="日用百货销售；餐饮服务")
        registered = await register_enterprise(api, token, **form)
        assert registered.status_code == 201, registered.text
        mine = (await api.get("/api/registration/enterprises/me", headers=bearer(token))).json()
        assert mine["status_label"] == "待审核" and mine["authority"] == "杭州市住房和城乡建设局"
        assert {d["kind"] for d in mine["documents"]} == {"business_licence", "commitment_letter"}
        assert "scope_hint" not in mine, "the hint is for the reviewer"

        # the same credit code cannot register twice, and the refused files are not left in the bucket
        other = await _signup(api, "冒名企业")
        again = await register_enterprise(api, other["access_token"], credit_code=form["credit_code"])
        assert again.status_code == 409 and again.json()["code"] == "credit_code_taken"
        assert _bucket_objects(platform.env, f"enterprises/{other['org_id']}/") == []

        # the reviewer sees the registration with the hint and opens the documents through short-lived links
        async def in_queue() -> dict[str, Any] | None:
            items = (
                await api.get(
                    "/api/registration/enterprises",
                    headers=bearer(reviewer),
                    params={"status": "submitted", "name": "杭州建工"},
                )
            ).json()["items"]
            return next((i for i in items if i["enterprise_id"] == enterprise_id), None)

        queued = await eventually(in_queue, what="the registration in the queue")
        assert queued["scope_hint"] and queued["documents"] == ["business_licence", "commitment_letter"]
        links = (
            await api.get(
                f"/api/registration/enterprises/{enterprise_id}/documents", headers=bearer(reviewer)
            )
        ).json()["documents"]
        licence = next(link for link in links if link["kind"] == "business_licence")
        assert 0 < licence["expires_in"] <= 600
        async with httpx.AsyncClient(timeout=10) as anyone:
            downloaded = await anyone.get(licence["url"])
            assert downloaded.status_code == 200 and downloaded.content.startswith(b"\xff\xd8\xff")
            tampered = await anyone.get(licence["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0"))
            assert tampered.status_code in (400, 403)

        # reject with a reason; the enterprise sees it
        checks = [*CHECKS_OK[:2], {"check": "documents_compliant", "passed": False, "note": "承诺书无公章"}]
        no_reason = await api.post(
            f"/api/registration/enterprises/{enterprise_id}/reject",
            headers=bearer(reviewer),
            json={"checks": checks},
        )
        assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
        approve_failing = await api.post(
            f"/api/registration/enterprises/{enterprise_id}/approve",
            headers=bearer(reviewer),
            json={"checks": checks},
        )
        assert approve_failing.status_code == 422 and approve_failing.json()["code"] == "checks_not_passed"
        rejected = await api.post(
            f"/api/registration/enterprises/{enterprise_id}/reject",
            headers=bearer(reviewer),
            json={"checks": checks, "reason": "承诺书未加盖公章，请重新上传"},
        )
        assert rejected.status_code == 204, rejected.text
        mine = (await api.get("/api/registration/enterprises/me", headers=bearer(token))).json()
        assert mine["status"] == "rejected" and mine["rejection_reason"] == "承诺书未加盖公章，请重新上传"

        # correct and resubmit: a new commitment letter and a corrected scope; history is kept
        resubmitted = await api.post(
            "/api/registration/enterprises/me/resubmit",
            headers=bearer(token),
            data={"business_scope": "房屋建筑工程施工总承包"},
            files={"commitment_letter": ("letter.jpg", sample_jpeg(), "image/jpeg")},
        )
        assert resubmitted.status_code == 200, resubmitted.text
        assert resubmitted.json()["submission"] == 2
        mine = (await api.get("/api/registration/enterprises/me", headers=bearer(token))).json()
        assert mine["status"] == "submitted" and mine["submission"] == 2
        letter = next(d for d in mine["documents"] if d["kind"] == "commitment_letter")
        assert letter["content_type"] == "image/jpeg"

        async def resubmission_queued() -> bool:
            item = await in_queue()
            return bool(item and item["submission"] == 2 and item["scope_hint"] is None)

        await eventually(resubmission_queued, what="the resubmission in the queue")
        approved = await api.post(
            f"/api/registration/enterprises/{enterprise_id}/approve",
            headers=bearer(reviewer),
            json={"checks": CHECKS_OK},
        )
        assert approved.status_code == 204, approved.text
        final = (
            await api.get(f"/api/registration/enterprises/{enterprise_id}", headers=bearer(reviewer))
        ).json()
        assert final["status_label"] == "审核通过"
        assert [(r["submission"], r["approved"]) for r in final["reviews"]] == [(1, False), (2, True)]
        assert len(_bucket_objects(platform.env, f"enterprises/{enterprise_id}/")) == 3
