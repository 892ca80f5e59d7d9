"""Continuing education year by year, on the real platform: two cycles met, the third missed, lapse,
retraining.

A holder's old-style 施工员 certificate (issued 300 days ago, imported today: every cycle starts after the
import, so every cycle is judged). Each year the enterprise enrolls the holder in continuing education (a CE
batch → qualified → ordered → paid), the institution trains them in a plan declaring 22 professional + 10
general hours, its completion is credited to that year's cycle and closes the enrollment, so next year's batch
is accepted. The CE trainee is never sent to the exam. The third cycle gets nothing: once it is over, the two
most recent cycles hold 32 < 64 hours and the lapse check lapses the certificate (已失效). The lapsed holder
is enrolled again (retraining), the plan is credited after the lapse, and the certificate is valid again
(有效).

Certification's clock is moved (tests/integration/ce_support.py) to the day each step happens.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

from .ce_support import certification_clock_offset, china_today, seconds_until
from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    pay_offline,
    publish_offer,
)

pytestmark = pytest.mark.integration

CERT = "/api/certification"
POSITION, SPECIALISATION = "施工员", "土建施工"


def anniversary(issued_on: date, years: int) -> date:
    try:
        return issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29 February
        return issued_on.replace(year=issued_on.year + years, day=28)


class Flow:
    def __init__(
        self, api: httpx.AsyncClient, enterprise: str, institution: str, institution_id: str
    ) -> None:
        self.api = api
        self.enterprise_token = enterprise
        self.enterprise, self.institution = bearer(enterprise), bearer(institution)
        self.institution_token = institution
        self.institution_id = institution_id

    async def enroll_and_train(self, person: dict[str, Any], trained_on: date, plan_name: str) -> str:
        """A CE batch for the person, qualified, ordered, paid; a CE plan on `trained_on` declaring 22 + 10
        hours, completed. Returns the applicant id."""
        api = self.api
        batch = {
            "institution_id": self.institution_id,
            "position": POSITION,
            "specialisation": SPECIALISATION,
            "training_mode": "online",
            "continuing_education": True,
            "applicants": [person],
        }

        async def imported() -> str | None:
            r = await api.post("/api/enrollment/batches", headers=self.enterprise, json=batch)
            if r.status_code == 422 and ("no_certificate" in r.text or "duplicate_open_batch" in r.text):
                return None  # enrollment has not yet learnt of the certificate (or of the last year's close)
            assert r.status_code == 201, r.text
            return str(r.json()["applicant_ids"][0])

        applicant_id = await eventually(imported, what=f"a continuing-education batch ({plan_name})")
        qualified = await api.post(
            f"/api/enrollment/applicants/{applicant_id}/qualify", headers=self.institution
        )
        assert qualified.status_code == 204, qualified.text

        async def ordered() -> str | None:
            r = await api.post(
                "/api/payment/orders",
                headers=self.enterprise,
                json={"institution_id": self.institution_id, "applicant_ids": [applicant_id]},
            )
            return str(r.json()["order_id"]) if r.status_code == 201 else None

        order_id = await eventually(ordered, what="an order for the CE applicant")
        paid = await pay_offline(api, self.enterprise_token, self.institution_token, order_id)
        assert paid.status_code == 204, paid.text

        async def enrolled() -> bool:
            r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=self.enterprise)
            return r.json()["status"] == "enrolled"

        await eventually(enrolled, what="the CE applicant to be enrolled")
        plan = await api.post(
            "/api/enrollment/training-plans",
            headers=self.institution,
            json={
                "name": plan_name,
                "training_mode": "online",
                "position": POSITION,
                "starts_on": trained_on.isoformat(),
                "ends_on": trained_on.isoformat(),
                "platform": "浙江省住建培训平台",
                "continuing_education": True,
                "professional_hours": 22,
                "general_hours": 10,
            },
        )
        assert plan.status_code == 201, plan.text
        plan_id = plan.json()["plan_id"]
        for step in ("trainees", "completion"):
            done = await api.post(
                f"/api/enrollment/training-plans/{plan_id}/{step}",
                headers=self.institution,
                json={"applicant_ids": [applicant_id]},
            )
            assert done.status_code == 200, f"{step}: {done.text}"
        return applicant_id

    async def closed(self, applicant_id: str) -> None:
        async def done() -> bool:
            r = await self.api.get(f"/api/enrollment/applicants/{applicant_id}", headers=self.enterprise)
            return r.json()["status"] == "closed"

        await eventually(done, what="the CE enrollment to close on the credited hours")


async def test_two_cycles_met_the_third_missed_lapse_and_retraining(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    today = china_today()
    issued_on = today - timedelta(days=300)
    cycle_starts = [anniversary(issued_on, n) for n in range(1, 6)]  # cycle n = [starts[n-1], starts[n])
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-yr-{uuid.uuid4().hex[:6]}"
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, institution, name="继续教育年度测试学校")
        enterprise = (await approved_enterprise(api, admin))["access_token"]
        flow = Flow(api, enterprise, institution, institution_id)
        id_number = make_id_number(date(1984, 6, 15), male=True)
        person = {
            "name": "钱年审",
            "gender": "男",
            "id_number": id_number,
            "mobile": f"139{uuid.uuid4().int % 10**8:08d}",
            "education": "大专",
            "employer": "杭州建工集团有限公司",
        }
        number = f"ZJ-YR-{uuid.uuid4().hex[:8].upper()}"
        imported = await api.post(
            f"{CERT}/legacy",
            headers=bearer(institution),
            json={
                "certificate_number": number,
                "holder_name": person["name"],
                "gender": "男",
                "id_number": id_number,
                "position": POSITION,
                "specialisation": SPECIALISATION,
                "issued_on": issued_on.isoformat(),
                "issuer": "浙江省住房和城乡建设厅",
            },
        )
        assert imported.status_code == 201, imported.text
        certificate_id = imported.json()["certificate_id"]

        async def hours_page() -> dict[str, Any]:
            r = await api.get(f"{CERT}/certificates/{certificate_id}/hours", headers=bearer(admin))
            assert r.status_code == 200, r.text
            return dict(r.json())

        async def state() -> str:
            r = await api.get(f"{CERT}/verify/{number}")
            assert r.status_code == 200, r.text
            return str(r.json()["state_label"])

        # years 1 and 2: enrolled, paid, trained, credited, the enrollment closed, the cycle met
        for year in (1, 2):
            trained_on = cycle_starts[year - 1] + timedelta(days=30)
            with certification_clock_offset(platform, seconds_until(trained_on)):
                applicant_id = await flow.enroll_and_train(person, trained_on, f"施工员继续教育第{year}年")
                if year == 1:  # a continuing-education trainee never goes to the exam
                    plans = await api.get("/api/enrollment/training-plans", headers=bearer(institution))
                    plan_id = next(p["plan_id"] for p in plans.json()["items"] if p["name"].endswith("第1年"))
                    refused = await api.post(
                        f"/api/enrollment/training-plans/{plan_id}/apply-exam",
                        headers=bearer(institution),
                        json={"applicant_ids": [applicant_id]},
                    )
                    assert "continuing_education_no_exam" in refused.text, refused.text
                await flow.closed(applicant_id)

                async def credited(year: int = year) -> dict[str, Any] | None:
                    page = await hours_page()
                    cycle = next((c for c in page["cycles"] if c["index"] == year), None)
                    return cycle if cycle and cycle["met"] else None

                cycle = await eventually(credited, what=f"cycle {year} met by the credited plan")
                assert cycle["total"] == 32 and cycle["professional"] == 22, cycle
        assert await state() == "有效"

        # year 3: no training. Once it is over, cycles 2 and 3 hold 32 < 64 hours: the certificate lapses
        after_third = cycle_starts[3] + timedelta(days=1)
        with certification_clock_offset(platform, seconds_until(after_third)):
            still = await api.post(
                f"{CERT}/lapse-check",
                headers=bearer(admin),
                params={
                    "certificate_id": certificate_id,
                    "today": (cycle_starts[3] - timedelta(days=1)).isoformat(),
                },
            )
            assert still.status_code == 200 and still.json()["lapsed"] == [], still.text  # cycle 3 not over
            checked = await api.post(
                f"{CERT}/lapse-check",
                headers=bearer(admin),
                params={"certificate_id": certificate_id, "today": after_third.isoformat()},
            )
            assert checked.status_code == 200, checked.text
            lapsed = checked.json()["lapsed"]
            assert [c["certificate_number"] for c in lapsed] == [number], checked.text
            assert lapsed[0]["hours"] == 32 and lapsed[0]["required_hours"] == 64, lapsed
            assert await state() == "已失效"

            # retraining: the lapsed holder is enrolled again, trained after the lapse, and valid again
            retrained_on = after_third + timedelta(days=10)
        with certification_clock_offset(platform, seconds_until(retrained_on)):
            applicant_id = await flow.enroll_and_train(
                person, retrained_on, "施工员继续教育（失效后重新培训）"
            )
            await flow.closed(applicant_id)

            async def valid_again() -> bool:
                return await state() == "有效"

            await eventually(valid_again, what="the certificate reinstated by the credited retraining")
            page = await hours_page()
            assert page.get("reinstated_on"), page
