"""Institution sanctions on the real stack, through the gateway: a warning blocks nothing; a suspension of new
enrollments takes the offer out of the search and the comparison and refuses new batches (409
institution_suspended, naming the period and the reason) while the institution's page says why; a suspension
of exam sessions makes the exam service (from the events on Kafka) refuse new sessions; lifting allows
everything again; every step is an event in enrollment's store; only the administrator sanctions, and an
institution sees only its own sanctions."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from events import InstitutionSanctioned, InstitutionSanctionLifted
from servicekit import clock
from servicekit.eventstore import EVENTS
from servicekit.launcher import ServiceProcesses
from servicekit.mongo import create_client

from .exam_support import new_session
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


def _batch(institution_id: str) -> dict[str, Any]:
    return {
        "institution_id": institution_id,
        "position": "安全员",
        "training_mode": "offline",
        "applicants": [
            {
                "name": "赵六",
                "gender": "男",
                "id_number": make_id_number(date(1990, 5, 1), male=True),
                "mobile": f"139{uuid.uuid4().int % 10**8:08d}",
                "education": "大专",
                "employer": "杭州建工集团有限公司",
            }
        ],
    }


async def test_institution_sanctions(platform: ServiceProcesses, admin_credentials: tuple[str, str]) -> None:
    today = clock.today()
    suffix = uuid.uuid4().hex[:6]
    institution_id, other_id = f"inst-sanc-{suffix}", f"inst-sanc2-{suffix}"
    name = f"处理测试培训学校{suffix}"
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin_token = (await login(api, *admin_credentials))["access_token"]
        admin = bearer(admin_token)
        institution_token = await new_account(
            api, admin_token, "institution", org_id=institution_id, city="杭州"
        )
        other_token = await new_account(api, admin_token, "institution", org_id=other_id, city="杭州")
        institution, other = bearer(institution_token), bearer(other_token)
        await publish_offer(api, institution_token, name=name)
        await publish_offer(api, other_token, name=f"对照培训学校{suffix}")
        signup = await approved_enterprise(api, admin_token)
        enterprise = bearer(signup["access_token"])
        base = f"/api/enrollment/institutions/{institution_id}/sanctions"

        async def listed(include_suspended: bool = False) -> dict[str, Any] | None:
            r = await api.get(
                "/api/enrollment/institutions",
                headers=enterprise,
                params={"city": "杭州", "position": "安全员", "include_suspended": include_suspended},
            )
            assert r.status_code == 200, r.text
            return next((i for i in r.json()["items"] if i["institution_id"] == institution_id), None)

        async def compare() -> httpx.Response:
            return await api.get(
                "/api/enrollment/institutions/compare",
                headers=enterprise,
                params={"ids": f"{institution_id},{other_id}"},
            )

        await eventually(listed, what="the offer in the search")

        # only the administrator sanctions; an institution sees only its own sanctions
        warning = {"kind": "warning", "reason": "考场巡查发现监考松散"}
        for who in (institution, enterprise):
            r = await api.post(base, headers=who, json=warning)
            assert r.status_code == 403, r.text
        assert (await api.get(base, headers=enterprise)).status_code == 403
        assert (await api.get(base, headers=other)).status_code == 404
        assert (await api.get(f"/api/enrollment/institutions/{other_id}/sanctions", headers=other)).json()[
            "items"
        ] == []
        unknown = await api.post(
            f"/api/enrollment/institutions/nope-{suffix}/sanctions", headers=admin, json=warning
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "institution_not_found"
        past = await api.post(
            base,
            headers=admin,
            json={
                "kind": "suspend_enrollment",
                "reason": "放松考试纪律",
                "starts_on": (today - timedelta(days=1)).isoformat(),
                "ends_on": (today + timedelta(days=3)).isoformat(),
            },
        )
        assert past.status_code == 422 and past.json()["code"] == "invalid_sanction", past.text
        assert {e["code"] for e in past.json()["errors"]} == {"starts_in_past"}

        # a warning: recorded, visible at once (to the administrator and to the institution), blocks nothing
        r = await api.post(base, headers=admin, json=warning)
        assert r.status_code == 201, r.text
        warning_id = r.json()["sanction_id"]
        assert [i["sanction_id"] for i in r.json()["items"]] == [warning_id]
        mine = (await api.get("/api/enrollment/institutions/me/sanctions", headers=institution)).json()
        assert mine["items"][0]["kind"] == "warning" and mine["warnings"] == 1 and mine["in_force"] == []
        assert (
            await api.post("/api/enrollment/batches", headers=enterprise, json=_batch(institution_id))
        ).status_code == 201
        assert (await compare()).status_code == 200
        await new_session(api, institution_token, position="安全员")

        # suspension of new enrollments: refused at once (read from the stream), gone from search and compare
        period = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=10)).isoformat()}
        r = await api.post(
            base,
            headers=admin,
            json={"kind": "suspend_enrollment", "reason": "放松考试纪律，纵容替考", **period},
        )
        assert r.status_code == 201, r.text
        enrollment_id = r.json()["sanction_id"]
        assert r.json()["in_force"] == ["suspend_enrollment"]
        refused = await api.post("/api/enrollment/batches", headers=enterprise, json=_batch(institution_id))
        assert refused.status_code == 409 and refused.json()["code"] == "institution_suspended", refused.text
        detail = refused.json()["detail"]
        assert (
            name in detail
            and "纵容替考" in detail
            and f"{period['starts_on']} 至 {period['ends_on']}" in detail
        )

        async def gone() -> bool:
            return await listed() is None

        await eventually(gone, what="the suspended institution out of the search")
        kept = await listed(include_suspended=True)
        assert kept is not None and kept["suspension"]["reason"] == "放松考试纪律，纵容替考"
        compared = await compare()
        assert compared.status_code == 409 and compared.json()["code"] == "institution_suspended"
        page = (await api.get(f"/api/enrollment/institutions/{institution_id}", headers=enterprise)).json()
        assert page["suspension"]["ends_on"] == period["ends_on"]
        own = (await api.get("/api/enrollment/institutions/me/offer", headers=institution)).json()
        assert own["suspension"]["sanction_id"] == enrollment_id
        await new_session(api, institution_token, position="安全员")  # exam sessions are another kind

        # suspension of exam sessions: the exam service learns it from the events
        r = await api.post(
            base, headers=admin, json={"kind": "suspend_exam_sessions", "reason": "考场纪律松弛", **period}
        )
        assert r.status_code == 201, r.text
        exam_id = r.json()["sanction_id"]
        session_body = {
            "position": "安全员",
            "starts_at": f"{(today + timedelta(days=2)).isoformat()}T09:00:00+08:00",
            "room": "第二考场",
            "address": "杭州市西湖区文三路 90 号考点",
            "seats": 5,
        }

        async def session_refused() -> dict[str, Any] | None:
            r = await api.post("/api/exam/sessions", headers=institution, json=session_body)
            return r.json() if r.status_code == 409 else None

        problem = await eventually(session_refused, what="the exam service to refuse new sessions")
        assert problem["code"] == "institution_suspended" and "考场纪律松弛" in problem["detail"]

        # lifting (with a reason) allows everything again
        bad_lift = await api.post(f"{base}/{exam_id}/lift", headers=admin, json={"reason": " "})
        assert bad_lift.status_code == 422
        assert (
            await api.post(f"{base}/{exam_id}/lift", headers=institution, json={"reason": "已整改"})
        ).status_code == 403
        for sanction_id in (enrollment_id, exam_id):
            r = await api.post(
                f"{base}/{sanction_id}/lift", headers=admin, json={"reason": "已整改到位，恢复业务"}
            )
            assert r.status_code == 200, r.text
        again = await api.post(
            f"{base}/{exam_id}/lift", headers=admin, json={"reason": "已整改到位，恢复业务"}
        )
        assert again.status_code == 409 and again.json()["code"] == "sanction_lifted"
        history = (await api.get(base, headers=admin)).json()
        assert history["in_force"] == [] and [i["status"] for i in history["items"]] == [
            "lifted",
            "lifted",
            "recorded",
        ]
        assert (
            await api.post("/api/enrollment/batches", headers=enterprise, json=_batch(institution_id))
        ).status_code == 201
        await eventually(listed, what="the institution back in the search")
        assert (await compare()).status_code == 200

        async def session_allowed() -> bool:
            r = await api.post("/api/exam/sessions", headers=institution, json=session_body)
            assert r.status_code in (201, 409), r.text
            return r.status_code == 201

        await eventually(session_allowed, what="the exam service to allow new sessions again")

    # all of it is events in enrollment's store, on the institution's stream, in order
    client = create_client(platform.env["MONGO_URL"])
    try:
        docs = [
            d
            async for d in client["enrollment"][EVENTS]
            .find({"stream_id": f"sanctions-{institution_id}"})
            .sort("version", 1)
        ]
    finally:
        await client.close()
    assert [d["type"] for d in docs] == [InstitutionSanctioned.type_name()] * 3 + [
        InstitutionSanctionLifted.type_name()
    ] * 2
    assert [d["data"]["kind"] for d in docs[:3]] == ["warning", "suspend_enrollment", "suspend_exam_sessions"]
    assert all(d["data"]["institution_id"] == institution_id for d in docs)
    assert docs[1]["data"]["ends_on"] == period["ends_on"] and docs[0]["data"]["ends_on"] is None
    assert docs[0]["data"]["sanction_id"] == warning_id
