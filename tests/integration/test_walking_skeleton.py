"""The thin flow through all five services, over HTTP through the gateway and over Kafka between them:
register → approve → enroll → qualify → order → pay → enrolled → exam (session, face check-in, paper)
passed → certificate → rebuild."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses
from servicekit.rebuild import rebuild_service

from .exam_support import (
    activate_person,
    candidate_of,
    ensure_demo_banks,
    head_photo,
    new_session,
    schedule,
    take_exam,
)
from .helpers import (
    bearer,
    eventually,
    login,
    make_id_number,
    pay_offline,
    publish_offer,
    register_enterprise,
    upload_head_photos,
)

pytestmark = pytest.mark.integration


async def test_walking_skeleton(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = await login(api, *admin_credentials)
        institution_id = "inst-" + uuid.uuid4().hex[:8]
        accounts: dict[str, dict[str, Any]] = {}
        for username, role, extra in (
            ("hz-reviewer", "reviewer", {"city": "杭州"}),
            ("nb-reviewer", "reviewer", {"city": "宁波"}),
            ("yuren", "institution", {"org_id": institution_id, "city": "杭州"}),
        ):
            created = await api.post(
                "/api/gateway/accounts",
                headers=bearer(admin["access_token"]),
                json={"username": username, "role": role, "display_name": username, **extra},
            )
            assert created.status_code == 201, created.text
            accounts[username] = await login(api, username, created.json()["generated_password"])
        reviewer = bearer(accounts["hz-reviewer"]["access_token"])
        other_city = bearer(accounts["nb-reviewer"]["access_token"])
        institution = bearer(accounts["yuren"]["access_token"])
        await publish_offer(api, accounts["yuren"]["access_token"], name="浙江育人专修学院")

        signup = await api.post(
            "/api/gateway/auth/signup/enterprise",
            json={"username": "hz-builder", "password": "Jianshe2026!", "display_name": "杭州建工"},
        )
        assert signup.status_code == 201, signup.text
        enterprise = bearer(signup.json()["access_token"])
        enterprise_id = signup.json()["org_id"]

        # 1. the enterprise registers (with its documents); a bad credit code is refused with the field named
        bad = await register_enterprise(api, signup.json()["access_token"], credit_code="91330106ABCDEFGHJ0")
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["code"] == "invalid_registration"
        assert bad.json()["errors"][0]["field"] == "credit_code"
        registered = await register_enterprise(api, signup.json()["access_token"])
        assert registered.status_code == 201, registered.text
        assert registered.json()["enterprise_id"] == enterprise_id

        # before approval, enrollment refuses with the reason
        batch: dict[str, Any] = {
            "institution_id": institution_id,
            "position": "施工员",
            "specialisation": "土建施工",
            "training_mode": "online",
            "applicants": [
                {
                    "name": "张三",
                    "gender": "男",
                    "mobile": "13800001111",
                    "id_number": make_id_number(date(1990, 5, 17), male=True),
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                }
            ],
        }
        refused = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
        assert refused.status_code == 403 and refused.json()["code"] == "enterprise_not_approved"

        # 2. the Hangzhou reviewer sees it in the queue (Ningbo's does not) and approves it
        async def queued() -> bool:
            r = await api.get(
                "/api/registration/enterprises", headers=reviewer, params={"status": "submitted"}
            )
            return any(item["enterprise_id"] == enterprise_id for item in r.json()["items"])

        await eventually(queued, what="registration in the Hangzhou queue")
        elsewhere = await api.get("/api/registration/enterprises", headers=other_city)
        assert all(item["enterprise_id"] != enterprise_id for item in elsewhere.json()["items"])
        checks = [
            {"check": c, "passed": True}
            for c in ("local_enterprise", "construction_enterprise", "documents_compliant")
        ]
        assert (
            await api.post(
                f"/api/registration/enterprises/{enterprise_id}/approve",
                headers=other_city,
                json={"checks": checks},
            )
        ).status_code == 404
        approved = await api.post(
            f"/api/registration/enterprises/{enterprise_id}/approve",
            headers=reviewer,
            json={"checks": checks},
        )
        assert approved.status_code == 204, approved.text
        mine = await api.get("/api/registration/enterprises/me", headers=enterprise)
        assert mine.json()["status"] == "approved"

        # 3. enrollment learns of the approval (EnterpriseApproved over Kafka): the batch is accepted
        async def enrolled_batch() -> dict[str, Any] | None:
            r = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
            return r.json() if r.status_code == 201 else None

        batch_created = await eventually(enrolled_batch, what="enrollment to accept the approved enterprise")
        applicant_id = batch_created["applicant_ids"][0]
        id_number = batch["applicants"][0]["id_number"]

        # 4. the institution qualifies the applicant (ApplicantQualified)
        qualified = await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution)
        assert qualified.status_code == 204, qualified.text

        # 5. payment knows the applicant: the enterprise orders, the institution confirms (OrderPaid)
        async def ordered() -> dict[str, Any] | None:
            r = await api.post(
                "/api/payment/orders",
                headers=enterprise,
                json={"institution_id": institution_id, "applicant_ids": [applicant_id]},
            )
            return r.json() if r.status_code == 201 else None

        order = await eventually(ordered, what="an order for the qualified applicant")
        twice = await api.post(
            "/api/payment/orders",
            headers=enterprise,
            json={"institution_id": institution_id, "applicant_ids": [applicant_id]},
        )
        assert twice.status_code == 409 and twice.json()["code"] == "applicant_in_open_order"
        confirmed = await pay_offline(
            api, signup.json()["access_token"], accounts["yuren"]["access_token"], order["order_id"]
        )
        assert confirmed.status_code == 204, confirmed.text

        # 6. enrollment marks the applicant enrolled (Enrolled); training plan, completion, exam application
        async def is_enrolled() -> bool:
            r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)
            return r.json()["status"] == "enrolled"

        await eventually(is_enrolled, what="the applicant to be enrolled")
        plan = await api.post(
            "/api/enrollment/training-plans",
            headers=institution,
            json={
                "name": "2026 年第 1 期施工员（土建施工）线上班",
                "training_mode": "online",
                "position": "施工员",
                "starts_on": "2026-12-01",
                "ends_on": "2026-12-20",
                "platform": "浙江省建设人才网络学院",
                "schedule": "每周一至周五晚 19:00–21:00",
            },
        )
        assert plan.status_code == 201, plan.text
        plan_id = plan.json()["plan_id"]
        await upload_head_photos(  # the exam's face check needs the head photo
            api,
            signup.json()["access_token"],
            batch_created["batch_id"],
            [batch["applicants"][0]["id_number"]],
            photo=head_photo(),  # made from obama.jpg: the check-in below shows obama2.jpg to the camera
        )
        for step in ("trainees", "completion", "apply-exam"):
            done = await api.post(
                f"/api/enrollment/training-plans/{plan_id}/{step}",
                headers=institution,
                json={"applicant_ids": [applicant_id]},
            )
            assert done.status_code in (200, 201, 204), f"{step}: {done.text}"

        # 7. the exam: a session, the seat, face check-in, the paper answered and scored (ExamPassed)
        yuren = accounts["yuren"]["access_token"]
        candidate_id = await candidate_of(api, yuren, applicant_id)
        await ensure_demo_banks(api, admin["access_token"])
        session_id = await new_session(api, yuren)
        seated = await schedule(api, yuren, session_id, [candidate_id])
        assert seated.status_code == 200, seated.text
        person = await activate_person(api, yuren, id_number, "Zhangsan-2026")
        result = await take_exam(
            api, platform, institution_token=yuren, person_token=person, candidate_id=candidate_id
        )
        assert result["passed"] is True and result["score"] == 100

        # 8. certification issues the certificate (CertificateIssued); it can be fetched and verified
        async def certificate() -> dict[str, Any] | None:
            r = await api.get(
                "/api/certification/certificates", headers=institution, params={"applicant_id": applicant_id}
            )
            items = r.json()["items"]
            return items[0] if items else None

        cert = await eventually(certificate, what="the certificate")
        assert cert["holder_name"] == "张三" and cert["state"] == "valid" and cert["position"] == "施工员"
        public = await api.get(f"/api/certification/verify/{cert['certificate_number']}")
        assert public.status_code == 200
        assert public.json()["holder_name"] == "张*" and "*" in public.json()["id_number"]
        assert public.json()["state_label"] == "有效"

        # 9. continuing education: the same path, for certificate holders only, marked down to the order
        holder_row: dict[str, Any] = {**batch["applicants"][0]}
        stranger = {**holder_row, "name": "李四", "id_number": make_id_number(date(1988, 2, 3), male=True)}
        ce_batch = {**batch, "continuing_education": True, "applicants": [stranger]}
        refused_ce = await api.post("/api/enrollment/batches", headers=enterprise, json=ce_batch)
        assert refused_ce.status_code == 422 and refused_ce.json()["errors"][0]["code"] == "no_certificate"

        async def ce_imported() -> dict[str, Any] | None:
            r = await api.post(
                "/api/enrollment/batches",
                headers=enterprise,
                json={**batch, "continuing_education": True, "applicants": [holder_row]},
            )
            return r.json() if r.status_code == 201 else None

        ce_applicant = (await eventually(ce_imported, what="enrollment to know the holder"))["applicant_ids"][
            0
        ]
        assert (
            await api.post(f"/api/enrollment/applicants/{ce_applicant}/qualify", headers=institution)
        ).status_code == 204
        ce_order = await eventually(
            lambda: _order(api, enterprise, institution_id, ce_applicant),
            what="an order for the CE applicant",
        )

        async def ce_order_listed() -> bool:
            items = (await api.get("/api/payment/orders", headers=institution)).json()["items"]
            return any(o["order_id"] == ce_order["order_id"] and o["continuing_education"] for o in items)

        await eventually(ce_order_listed, what="the order marked as continuing education")

    # 10. every read model, rebuilt from the log, comes out identical
    for key, value in platform.env.items():
        monkeypatch.setenv(key, value)
    for service in ("registration", "enrollment", "payment", "exam", "certification"):
        result = await rebuild_service(service, check=True)
        assert result.identical, f"{service}: {result.differences}"
        assert sum(r.events_applied for r in result.reports) > 0


async def _order(
    api: httpx.AsyncClient, headers: dict[str, str], institution_id: str, applicant_id: str
) -> dict[str, Any] | None:
    r = await api.post(
        "/api/payment/orders",
        headers=headers,
        json={"institution_id": institution_id, "applicant_ids": [applicant_id]},
    )
    return dict(r.json()) if r.status_code == 201 else None
