"""Online payment through the gateway with the sandbox provider: redirect → cashier → pay → signed
asynchronous callback → OrderPaid → 已报名; a forged callback is refused, a replayed one changes nothing."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

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

CALLBACK = "/api/payment/online/callback/sandbox"


async def test_pay_online_with_the_sandbox_provider(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = "inst-" + uuid.uuid4().hex[:8]
        institution_token = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        institution = bearer(institution_token)
        await publish_offer(api, institution_token)
        signup = await approved_enterprise(api, admin)
        enterprise = bearer(signup["access_token"])
        other = bearer((await approved_enterprise(api, admin))["access_token"])

        batch = {
            "institution_id": institution_id,
            "position": "施工员",
            "specialisation": "土建施工",
            "training_mode": "online",
            "applicants": [
                {
                    "name": "赵六",
                    "gender": "男",
                    "mobile": "13800002222",
                    "id_number": make_id_number(date(1991, 3, 9), male=True),
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                }
            ],
        }
        created = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
        assert created.status_code == 201, created.text
        applicant_id = created.json()["applicant_ids"][0]
        qualified = await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution)
        assert qualified.status_code == 204, qualified.text

        async def ordered() -> dict[str, Any] | None:
            r = await api.post(
                "/api/payment/orders",
                headers=enterprise,
                json={"institution_id": institution_id, "applicant_ids": [applicant_id]},
            )
            return dict(r.json()) if r.status_code == 201 else None

        order = await eventually(ordered, what="an order for the qualified applicant")
        order_id = order["order_id"]

        # only the owning enterprise can start paying; the callback is public (trusted by its signature only)
        assert (await api.post(f"/api/payment/orders/{order_id}/pay-online")).status_code == 401
        assert (
            await api.post(f"/api/payment/orders/{order_id}/pay-online", headers=institution)
        ).status_code == 403
        foreign = await api.post(f"/api/payment/orders/{order_id}/pay-online", headers=other)
        assert foreign.status_code == 404 and foreign.json()["code"] == "order_not_found"

        # an institution that takes transfers only: online payment is refused with the reason
        await publish_offer(api, institution_token, payment_methods=("offline",))

        async def refused_online() -> bool:
            r = await api.post(f"/api/payment/orders/{order_id}/pay-online", headers=enterprise, json={})
            return r.status_code == 409 and r.json()["code"] == "online_not_accepted"

        await eventually(refused_online, what="payment to learn the offer takes no online payment")
        await publish_offer(api, institution_token)

        async def start() -> httpx.Response | None:
            r = await api.post(f"/api/payment/orders/{order_id}/pay-online", headers=enterprise, json={})
            return r if r.status_code == 200 else None

        started = await eventually(start, what="online payment accepted again")
        assert started.status_code == 200, started.text
        payment_id, redirect_url = started.json()["payment_id"], started.json()["redirect_url"]

        # the redirect leads to the sandbox's cashier page; pressing 支付 pays, for the signed-in payer only
        page = await api.get(redirect_url)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "支付" in page.text and "取消" in page.text
        match = re.search(r"action='([^']*/pay)'", page.text)
        assert match, page.text
        anonymous = await api.post(match.group(1))
        assert anonymous.status_code == 401, anonymous.text
        stranger = await api.post(match.group(1), headers=other)
        assert stranger.status_code == 404 and stranger.json()["code"] == "payment_not_found"
        assert (await api.get(f"/api/payment/sandbox/payments/{payment_id}")).status_code == 401
        paid = await api.post(match.group(1), headers=enterprise)
        assert paid.status_code == 200, paid.text
        again = await api.post(match.group(1), headers=enterprise)
        # paying twice is refused (by the sandbox, or because the callback already paid the order)
        assert again.status_code == 409
        assert again.json()["code"] in {"payment_not_payable", "order_not_payable"}

        # the signed callback arrives asynchronously: the order is paid and enrollment shows 已报名
        async def is_enrolled() -> bool:
            r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)
            return r.json()["status"] == "enrolled"

        await eventually(is_enrolled, what="the applicant to be enrolled after the online payment")
        detail = (await api.get(f"/api/payment/orders/{order_id}", headers=enterprise)).json()
        assert detail["status"] == "paid"

        async def delivered() -> dict[str, Any] | None:
            r = (await api.get(f"/api/payment/sandbox/payments/{payment_id}", headers=enterprise)).json()
            ok = [n for n in r["notifications"] if n["status_code"] == 200]
            return ok[0] if ok else None

        notification = await eventually(delivered, what="the sandbox's callback to be answered 200")
        raw = notification["body"].encode()
        assert json.loads(raw)["payment_id"] == payment_id

        # a forged callback (bad signature) is refused and records nothing
        forged_body = json.dumps({**json.loads(raw), "amount_fen": 1}).encode()
        forged = await api.post(
            CALLBACK,
            content=forged_body,
            headers={**notification["headers"], "Content-Type": "application/json"},
        )
        assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature"
        unsigned = await api.post(
            CALLBACK,
            content=raw,
            headers={"X-Sandbox-Timestamp": str(int(time.time())), "X-Sandbox-Signature": "0" * 64},
        )
        assert unsigned.status_code == 401 and unsigned.json()["code"] == "invalid_signature"

        # replaying the real callback is harmless: 200, still one OrderPaid, enrollment unchanged
        replay = await api.post(
            CALLBACK, content=raw, headers={**notification["headers"], "Content-Type": "application/json"}
        )
        assert replay.status_code == 200, replay.text
        assert replay.json()["outcome"] == "duplicate"
        detail_after = (await api.get(f"/api/payment/orders/{order_id}", headers=enterprise)).json()
        assert detail_after["status"] == "paid"
        applicant = (await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)).json()
        assert applicant["status"] == "enrolled"

        # the payment cannot be started again for a paid order
        refused = await api.post(f"/api/payment/orders/{order_id}/pay-online", headers=enterprise)
        assert refused.status_code == 409 and refused.json()["code"] == "invalid_order_state"

    # one OrderPaid in the order's stream, by this payment (the event store is the truth)
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.env["MONGO_URL"])
    try:
        paid_events = await client["payment"]["events"].count_documents(
            {"stream_id": f"order-{order_id}", "type": {"$regex": "OrderPaid"}}
        )
        assert paid_events == 1
        stored = await client["payment"]["events"].find_one(
            {"stream_id": f"order-{order_id}", "type": {"$regex": "OrderPaid"}}
        )
        assert stored is not None
        assert stored["data"]["method"] == "online" and stored["data"]["provider_reference"] == payment_id
    finally:
        await client.close()
