"""Payment end to end: offers price the order; voucher (wrong payer refused) → reject → voucher → confirm →
已报名; cancel releases; refund reverts enrollment (refused once a trainee is in a plan); one open order per
applicant under concurrency; every payment endpoint × every role; read models rebuilt identical."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses
from servicekit.rebuild import rebuild_service

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    pay_offline,
    publish_offer,
    sample_jpeg,
    voucher_form,
)

pytestmark = pytest.mark.integration


async def _qualified(
    api: httpx.AsyncClient, enterprise: str, institution: str, institution_id: str, count: int
) -> list[str]:
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
                "id_number": make_id_number(date(1985 + i, 3, 9), male=True),
                "education": "大专",
                "employer": "杭州建工集团有限公司",
            }
            for i in range(count)
        ],
    }
    r = await api.post("/api/enrollment/batches", headers=bearer(enterprise), json=batch)
    assert r.status_code == 201, r.text
    ids: list[str] = r.json()["applicant_ids"]
    for applicant_id in ids:
        q = await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=bearer(institution))
        assert q.status_code == 204, q.text
    return ids


async def _order(
    api: httpx.AsyncClient, enterprise: str, institution_id: str, applicant_ids: list[str]
) -> dict[str, Any]:
    async def ordered() -> dict[str, Any] | None:
        r = await api.post(
            "/api/payment/orders",
            headers=bearer(enterprise),
            json={"institution_id": institution_id, "applicant_ids": applicant_ids},
        )
        return dict(r.json()) if r.status_code == 201 else None

    return await eventually(ordered, what="an order for qualified applicants")


async def _status(api: httpx.AsyncClient, token: str, applicant_id: str) -> str:
    r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=bearer(token))
    return str(r.json()["status"])


async def _all_status(api: httpx.AsyncClient, token: str, ids: list[str], status: str) -> None:
    async def reached() -> bool:
        return all([await _status(api, token, a) == status for a in ids])

    await eventually(reached, what=f"applicants {status}")


async def test_payment_flow(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = "inst-" + uuid.uuid4().hex[:8]
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        other_institution = await new_account(
            api, admin, "institution", org_id="inst-" + uuid.uuid4().hex[:8], city="杭州"
        )
        reviewer = await new_account(api, admin, "reviewer", city="杭州")
        await publish_offer(api, institution, name="缴费测试学校")
        enterprise = (await approved_enterprise(api, admin))["access_token"]
        other_enterprise = (await approved_enterprise(api, admin))["access_token"]
        me = (await api.get("/api/registration/enterprises/me", headers=bearer(enterprise))).json()
        a1, a2, a3, a4, a5 = await _qualified(api, enterprise, institution, institution_id, 5)

        # 1. the order is priced from the offer (施工员 offline 900.00 yuan each), counts per mode shown
        order = await _order(api, enterprise, institution_id, [a1, a2])
        order_id = order["order_id"]
        assert order["order_number"].startswith("DD")
        detail = (await api.get(f"/api/payment/orders/{order_id}", headers=bearer(enterprise))).json()
        assert detail["amount_fen"] == 180000 and detail["count_by_mode"] == {"offline": 2}

        # 2. voucher paid by someone else: refused with the reason; then a voucher that is rejected
        async def upload(**overrides: str) -> httpx.Response:
            return await api.post(
                f"/api/payment/orders/{order_id}/voucher",
                headers=bearer(enterprise),
                data=voucher_form(me["name"], me["credit_code"], 180000, **overrides),
                files={"file": ("v.jpg", sample_jpeg(), "image/jpeg")},
            )

        async def accepted() -> httpx.Response | None:
            r = await upload(payer_name="张三")
            return r if r.status_code == 422 else None  # 409 until payment learns of the enterprise

        wrong = await eventually(accepted, what="payment to know the enterprise")
        assert wrong.json()["code"] == "payer_not_enterprise"
        assert (await upload(tax_number="91330106MA2B3C4D5E")).json()["code"] in (
            "invoice_company_mismatch",
            "invalid_tax_number",
        )
        short = await upload(amount="1700.00")
        assert short.status_code == 201, short.text
        mismatch = await api.post(f"/api/payment/orders/{order_id}/confirm", headers=bearer(institution))
        assert mismatch.status_code == 422 and mismatch.json()["code"] == "amount_mismatch"
        link = await api.get(f"/api/payment/orders/{order_id}/voucher", headers=bearer(institution))
        assert link.status_code == 200 and link.json()["url"].startswith("http")
        rejected = await api.post(
            f"/api/payment/orders/{order_id}/voucher/reject",
            headers=bearer(institution),
            json={"reason": "金额与订单不符"},
        )
        assert rejected.status_code == 204, rejected.text

        # 3. a correct voucher, confirmed: the applicants are 已报名; the invoice is recorded and seen
        confirmed = await pay_offline(api, enterprise, institution, order_id)
        assert confirmed.status_code == 204, confirmed.text
        await _all_status(api, enterprise, [a1, a2], "enrolled")
        invoiced = await api.post(
            f"/api/payment/orders/{order_id}/invoice",
            headers=bearer(institution),
            json={"invoice_number": "33001234", "issued_on": "2026-03-05"},
        )
        assert invoiced.status_code == 204, invoiced.text
        seen = (await api.get(f"/api/payment/orders/{order_id}", headers=bearer(enterprise))).json()
        assert seen["invoice"]["invoice_number"] == "33001234" and seen["voucher"]["state"] == "confirmed"

        # 4. refund → enrollment reverts them to 已审核; they can be ordered again
        refunded = await api.post(
            f"/api/payment/orders/{order_id}/refund", headers=bearer(institution), json={"reason": "企业退学"}
        )
        assert refunded.status_code == 204, refunded.text
        await _all_status(api, enterprise, [a1, a2], "qualified")

        # 5. cancel releases the applicants: orderable again
        order2 = await _order(api, enterprise, institution_id, [a1, a2, a3])
        assert (
            await api.post(
                "/api/payment/orders",
                headers=bearer(enterprise),
                json={"institution_id": institution_id, "applicant_ids": [a3]},
            )
        ).json()["code"] == "applicant_in_open_order"
        cancelled = await api.post(
            f"/api/payment/orders/{order2['order_id']}/cancel", headers=bearer(enterprise), json={}
        )
        assert cancelled.status_code == 204, cancelled.text

        # 6. concurrency: two concurrent orders for the same applicant, exactly one succeeds
        racing = await asyncio.gather(
            *(
                api.post(
                    "/api/payment/orders",
                    headers=bearer(enterprise),
                    json={"institution_id": institution_id, "applicant_ids": [a3]},
                )
                for _ in range(2)
            )
        )
        assert sorted(r.status_code for r in racing) == [201, 409], [r.text for r in racing]

        # 7. refund refused once a trainee is in a training plan
        order3 = await _order(api, enterprise, institution_id, [a4])
        assert (await pay_offline(api, enterprise, institution, order3["order_id"])).status_code == 204
        await _all_status(api, enterprise, [a4], "enrolled")
        plan = await api.post(
            "/api/enrollment/training-plans",
            headers=bearer(institution),
            json={
                "name": "2026 年第 2 期施工员线下班",
                "training_mode": "offline",
                "position": "施工员",
                "starts_on": "2026-12-01",
                "ends_on": "2026-12-20",
                "place": "杭州市西湖区",
                "schedule": "周一至周五",
            },
        )
        assert plan.status_code == 201, plan.text
        placed = await api.post(
            f"/api/enrollment/training-plans/{plan.json()['plan_id']}/trainees",
            headers=bearer(institution),
            json={"applicant_ids": [a4]},
        )
        assert placed.status_code in (200, 201, 204), placed.text

        async def known() -> bool:
            r = await api.get(f"/api/payment/orders/{order3['order_id']}", headers=bearer(institution))
            return bool(r.json()["in_training"] == [a4])

        await eventually(known, what="payment to know the training plan")
        refused = await api.post(
            f"/api/payment/orders/{order3['order_id']}/refund",
            headers=bearer(institution),
            json={"reason": "退学"},
        )
        assert refused.status_code == 409 and refused.json()["code"] == "training_started", refused.text

        # 8. the report: the institution's orders, two sheets
        report = await api.get("/api/payment/reports/orders.xlsx", headers=bearer(institution))
        assert report.status_code == 200, report.text
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(report.content))
        assert book.sheetnames == ["订单", "学员明细"]
        numbers = {row[0] for row in book["订单"].iter_rows(min_row=2, values_only=True)}
        assert {order["order_number"], order3["order_number"]} <= numbers

        # 9. the authorization matrix of every payment endpoint
        order5 = await _order(api, enterprise, institution_id, [a5])
        await pay_offline(api, enterprise, institution, order5["order_id"], confirm=False)
        tokens: dict[str, str | None] = {
            "anonymous": None,
            "enterprise": enterprise,
            "other_enterprise": other_enterprise,
            "institution": institution,
            "other_institution": other_institution,
            "reviewer": reviewer,
            "admin": admin,
        }
        o = order5["order_id"]
        role = (403, "role_forbidden")
        hidden = (404, "order_not_found")
        anon = (401, "not_authenticated")
        cases: list[tuple[str, str, dict[str, Any], dict[str, tuple[int, str | None]]]] = [
            (
                "GET",
                "/api/payment/orders",
                {},
                {
                    "enterprise": (200, None),
                    "other_enterprise": (200, None),
                    "institution": (200, None),
                    "other_institution": (200, None),
                    "admin": (200, None),
                },
            ),
            (
                "GET",
                f"/api/payment/orders/{o}",
                {},
                {
                    "enterprise": (200, None),
                    "other_enterprise": hidden,
                    "institution": (200, None),
                    "other_institution": hidden,
                    "admin": (200, None),
                },
            ),
            (
                "GET",
                f"/api/payment/orders/{o}/voucher",
                {},
                {
                    "enterprise": (200, None),
                    "other_enterprise": hidden,
                    "institution": (200, None),
                    "other_institution": hidden,
                },
            ),
            (
                "POST",
                f"/api/payment/orders/{o}/voucher",
                {"data": voucher_form("x", "y", 1)},
                {"enterprise": (422, None), "other_enterprise": hidden},
            ),
            (
                "POST",
                f"/api/payment/orders/{o}/voucher/reject",
                {"json": {"reason": "x"}},
                {"institution": (204, None), "other_institution": hidden},
            ),
            (
                "POST",
                f"/api/payment/orders/{o}/confirm",
                {},
                {"institution": (409, "no_voucher"), "other_institution": hidden},
            ),
            (
                "POST",
                f"/api/payment/orders/{o}/refund",
                {"json": {"reason": "x"}},
                {"institution": (409, "invalid_order_state"), "other_institution": hidden},
            ),
            (
                "POST",
                f"/api/payment/orders/{o}/invoice",
                {"json": {"invoice_number": "1", "issued_on": "2026-03-01"}},
                {"institution": (409, "invalid_order_state"), "other_institution": hidden},
            ),
            (
                "POST",
                "/api/payment/orders",
                {"json": {"institution_id": institution_id, "applicant_ids": [a5]}},
                {
                    "enterprise": (409, "applicant_in_open_order"),
                    "other_enterprise": (422, "applicants_not_qualified"),
                },
            ),
            (
                "GET",
                "/api/payment/reports/orders.xlsx",
                {},
                {"institution": (200, None), "other_institution": (200, None), "admin": (200, None)},
            ),
            (
                "POST",
                f"/api/payment/orders/{o}/pay-online",
                {"json": {}},
                {"enterprise": (200, None), "other_enterprise": hidden},
            ),
            (
                "POST",
                f"/api/payment/orders/{o}/cancel",
                {"json": {}},
                {"other_enterprise": hidden, "enterprise": (204, None)},
            ),
        ]
        failures: list[str] = []
        for method, path, kwargs, expect in cases:
            for actor, token in tokens.items():
                want = anon if actor == "anonymous" else expect.get(actor, role)
                if path.endswith("/voucher") and method == "POST":
                    kwargs = {**kwargs, "files": {"file": ("v.jpg", sample_jpeg(), "image/jpeg")}}
                r = await api.request(method, path, headers=bearer(token) if token else {}, **kwargs)
                code = (
                    r.json().get("code")
                    if r.content and "json" in r.headers.get("content-type", "")
                    else None
                )
                if r.status_code != want[0] or (want[1] is not None and code != want[1]):
                    failures.append(f"{method} {path} as {actor}: {r.status_code} {code}, expected {want}")
        assert not failures, "\n".join(failures)

    # 10. the read models of payment and enrollment, rebuilt from the log, come out identical
    for key, value in platform.env.items():
        monkeypatch.setenv(key, value)
    for service in ("payment", "enrollment"):
        result = await rebuild_service(service, check=True)
        assert result.identical, f"{service}: {result.differences}"
