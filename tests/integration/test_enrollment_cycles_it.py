"""Continuing education as a yearly cycle, enrollment's part, on the real platform: a holder (a legacy
certificate imported into certification) is enrolled for continuing education, paid, trained in a plan that
declares hours and lies in the future; completing it publishes ContinuingEducationCompleted once, which
certification credits (ContinuingEducationRecorded closes the enrollment: 已结束); the
trainee is never sent to the exam. The duplicate rule refuses a second open enrollment of the same person,
position and kind (naming the open batch), in JSON and in a sheet, and accepts it once the first one ended
(rejected, withdrawn); a paid applicant cannot be withdrawn. The write-side index rebuilds identical."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from events import ContinuingEducationCompleted
from openpyxl import load_workbook
from servicekit.eventstore import EVENTS
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
    pay_offline,
    publish_offer,
    wait_job,
)

pytestmark = pytest.mark.integration

POSITION, SPECIALISATION = "施工员", "土建施工"
EMPLOYER = "杭州建工集团有限公司"


def _row(name: str, gender: str, id_number: str) -> dict[str, Any]:
    return {
        "name": name,
        "gender": gender,
        "id_number": id_number,
        "mobile": f"139{uuid.uuid4().int % 10**8:08d}",
        "education": "大专",
        "employer": EMPLOYER,
    }


def _sheet(template: bytes, rows: list[dict[str, Any]]) -> bytes:
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "姓名")
    keys = ("name", "gender", "id_number", "mobile", "education", "employer")
    for offset, row in enumerate(rows, start=1):
        for column, key in enumerate(keys, start=1):
            sheet.cell(header_row + offset, column).value = row[key]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def test_continuing_education_cycle_and_the_open_enrollment_rule(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    today = datetime.now(timezone(timedelta(hours=8))).date()
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-cy-{uuid.uuid4().hex[:6]}"
        inst_token = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, inst_token, name="继续教育测试培训学校")
        signup = await approved_enterprise(api, admin)
        ent_token = signup["access_token"]
        enterprise, institution = bearer(ent_token), bearer(inst_token)

        # three holders of a valid 施工员 certificate (legacy import into certification)
        people = [
            ("王建国", "男", make_id_number(date(1984, 3, 1), male=True)),
            ("李秀英", "女", make_id_number(date(1986, 7, 9), male=False)),
            ("赵志强", "男", make_id_number(date(1988, 11, 23), male=True)),
        ]
        for name, gender, id_number in people:
            legacy = await api.post(
                "/api/certification/legacy",
                headers=bearer(admin),
                json={
                    "certificate_number": f"ZJ-{uuid.uuid4().hex[:10].upper()}",
                    "holder_name": name,
                    "gender": gender,
                    "id_number": id_number,
                    "position": POSITION,
                    "specialisation": SPECIALISATION,
                    "issued_on": (today - timedelta(days=200)).isoformat(),
                    "issuer": "浙江省住房和城乡建设厅",
                },
            )
            assert legacy.status_code == 201, legacy.text
        holder, rejected_one, withdrawn_one = people

        def batch(person: tuple[str, str, str], *, ce: bool = True) -> dict[str, Any]:
            return {
                "institution_id": institution_id,
                "position": POSITION,
                "specialisation": SPECIALISATION,
                "training_mode": "online",
                "continuing_education": ce,
                "applicants": [_row(*person)],
            }

        async def ce_batch(person: tuple[str, str, str]) -> dict[str, Any]:
            async def imported() -> dict[str, Any] | None:
                r = await api.post("/api/enrollment/batches", headers=enterprise, json=batch(person))
                if r.status_code == 422 and "no_certificate" in r.text:
                    return None  # enrollment has not learnt of the certificate yet
                assert r.status_code == 201, r.text
                return dict(r.json())

            return await eventually(imported, what="a continuing-education batch for a holder")

        first = await ce_batch(holder)
        [applicant_id] = first["applicant_ids"]

        # the same person, position and kind while the first is open: refused, naming the open batch
        again = await api.post("/api/enrollment/batches", headers=enterprise, json=batch(holder))
        assert again.status_code == 422, again.text
        problem = again.json()
        [duplicate] = [e for e in problem["errors"] if e["code"] == "duplicate_open_batch"]
        assert first["batch_id"] in duplicate["message"], duplicate
        assert "继续教育测试培训学校" in duplicate["message"] and "尚未结束" in duplicate["message"]
        assert today.isoformat() in duplicate["message"], duplicate
        # the same in a sheet
        template = (await api.get("/api/enrollment/templates/summary.xlsx", headers=enterprise)).content
        upload = await api.post(
            "/api/enrollment/batches/import",
            headers=enterprise,
            data={
                "institution_id": institution_id,
                "position": POSITION,
                "specialisation": SPECIALISATION,
                "training_mode": "online",
                "continuing_education": "true",
            },
            files={"file": ("汇总表.xlsx", _sheet(template, [_row(*holder)]), "application/octet-stream")},
        )
        assert upload.status_code == 202, upload.text
        job = await wait_job(api, ent_token, upload.json()["status_url"])
        assert job["state"] == "failed" and job["error"]["code"] == "invalid_sheet", job
        [sheet_problem] = job["error"]["errors"]
        assert (
            sheet_problem["code"] == "duplicate_open_batch" and first["batch_id"] in sheet_problem["message"]
        )
        # another kind (initial training of the same position) is another enrollment
        initial = await api.post("/api/enrollment/batches", headers=enterprise, json=batch(holder, ce=False))
        assert initial.status_code == 201, initial.text

        # qualified, ordered, paid: enrolled
        assert (
            await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution)
        ).status_code == 204

        async def ordered() -> dict[str, Any] | None:
            r = await api.post(
                "/api/payment/orders",
                headers=enterprise,
                json={"institution_id": institution_id, "applicant_ids": [applicant_id]},
            )
            return dict(r.json()) if r.status_code == 201 else None

        order = await eventually(ordered, what="an order for the qualified CE applicant")
        assert (await pay_offline(api, ent_token, inst_token, order["order_id"])).status_code == 204

        async def applicant() -> dict[str, Any]:
            r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)
            assert r.status_code == 200, r.text
            return dict(r.json())

        async def enrolled() -> bool:
            return (await applicant())["status"] == "enrolled"

        await eventually(enrolled, what="the CE applicant to be enrolled")
        # a paid applicant cannot be withdrawn
        refused = await api.post(
            f"/api/enrollment/applicants/{applicant_id}/withdraw", headers=enterprise, json={}
        )
        assert refused.status_code == 409 and refused.json()["code"] == "withdraw_not_allowed", refused.text
        assert "已缴费" in refused.json()["detail"], refused.text

        # a CE plan: hours required, a year ahead
        starts = today + timedelta(days=400)
        plan_body = {
            "name": "施工员继续教育线上班",
            "training_mode": "online",
            "position": POSITION,
            "starts_on": starts.isoformat(),
            "ends_on": (starts + timedelta(days=4)).isoformat(),
            "platform": "浙江省住建培训平台",
            "continuing_education": True,
        }
        missing = await api.post("/api/enrollment/training-plans", headers=institution, json=plan_body)
        assert missing.status_code == 422, missing.text
        assert {e["field"] for e in missing.json()["errors"]} == {"professional_hours", "general_hours"}
        created = await api.post(
            "/api/enrollment/training-plans",
            headers=institution,
            json={**plan_body, "professional_hours": 22, "general_hours": 10},
        )
        assert created.status_code == 201, created.text
        plan = created.json()
        assert (plan["continuing_education"], plan["professional_hours"], plan["general_hours"]) == (
            True,
            22.0,
            10.0,
        )
        plan_id = plan["plan_id"]
        # an initial applicant cannot join a CE plan
        [initial_id] = initial.json()["applicant_ids"]
        mixed = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/trainees",
            headers=institution,
            json={"applicant_ids": [applicant_id, initial_id]},
        )
        assert mixed.status_code == 422, mixed.text
        [why] = mixed.json()["errors"]
        assert why["applicant_id"] == initial_id, why
        assert "kind_mismatch" in {r["code"] for r in why["reasons"]} and "不能混在" in why["message"]
        for step in ("trainees", "completion", "completion"):  # completion twice: recorded once
            done = await api.post(
                f"/api/enrollment/training-plans/{plan_id}/{step}",
                headers=institution,
                json={"applicant_ids": [applicant_id]},
            )
            assert done.status_code == 200, f"{step}: {done.text}"
        assert done.json()["already_completed"] == [applicant_id]

        # the CE trainee is never sent to the exam
        exam = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/apply-exam",
            headers=institution,
            json={"applicant_ids": [applicant_id]},
        )
        assert exam.status_code == 200, exam.text
        assert exam.json()["applied"] == []
        [no_exam] = exam.json()["refused"]
        assert no_exam["code"] == "continuing_education_no_exam" and "不参加考试" in no_exam["message"]

        # certification credits the plan's hours (ContinuingEducationRecorded, source training_plan): the CE
        # enrollment ends, and the holder may be enrolled for the next cycle
        async def hours_credited() -> dict[str, Any] | None:
            view = await applicant()
            return view if view["status"] == "closed" else None

        closed = await eventually(
            hours_credited, what="certification to credit the hours and close the CE applicant"
        )
        assert closed["closed_reason"] == "hours_credited", closed
        assert closed["status_label"] == "已结束（继续教育学时已登记）", closed
        next_cycle = await api.post("/api/enrollment/batches", headers=enterprise, json=batch(holder))
        assert next_cycle.status_code == 201, next_cycle.text

        # closing: a rejected applicant ends its enrollment; a new one is accepted
        second = await ce_batch(rejected_one)
        [second_id] = second["applicant_ids"]
        blocked = await api.post("/api/enrollment/batches", headers=enterprise, json=batch(rejected_one))
        assert blocked.status_code == 422 and second["batch_id"] in blocked.text
        rejected = await api.post(
            f"/api/enrollment/applicants/{second_id}/reject", headers=institution, json={"reason": "材料不全"}
        )
        assert rejected.status_code == 204, rejected.text
        after_rejection = await api.post(
            "/api/enrollment/batches", headers=enterprise, json=batch(rejected_one)
        )
        assert after_rejection.status_code == 201, after_rejection.text
        # the rejected one cannot be approved again while the new one is open
        requalified = await api.post(f"/api/enrollment/applicants/{second_id}/qualify", headers=institution)
        assert requalified.status_code == 409, requalified.text
        assert requalified.json()["errors"][0]["code"] == "duplicate_open_batch", requalified.text

        # closing: the enterprise withdraws an applicant not yet paid for
        third = await ce_batch(withdrawn_one)
        [third_id] = third["applicant_ids"]
        withdrawn = await api.post(
            f"/api/enrollment/applicants/{third_id}/withdraw", headers=enterprise, json={"reason": "已离职"}
        )
        assert withdrawn.status_code == 204, withdrawn.text
        view = (await api.get(f"/api/enrollment/applicants/{third_id}", headers=enterprise)).json()
        assert view["status"] == "closed" and view["status_label"] == "已结束（企业已撤回报名）", view
        again_after_withdrawal = await api.post(
            "/api/enrollment/batches", headers=enterprise, json=batch(withdrawn_one)
        )
        assert again_after_withdrawal.status_code == 201, again_after_withdrawal.text

        async def listed_closed() -> bool:
            r = await api.get("/api/enrollment/applicants", headers=enterprise, params={"status": "closed"})
            return any(i["applicant_id"] == third_id for i in r.json()["items"])

        await eventually(listed_closed, what="the withdrawn applicant listed as 已结束")

    for key, value in platform.env.items():
        monkeypatch.setenv(key, value)
    client = create_client(platform.env["MONGO_URL"])
    try:
        db = client["enrollment"]
        # ContinuingEducationCompleted: once, with the plan's hours and its last day
        found = [
            d
            async for d in db[EVENTS].find(
                {"type": ContinuingEducationCompleted.type_name(), "data.applicant_id": applicant_id}
            )
        ]
        assert len(found) == 1, found
        data = found[0]["data"]
        assert (data["plan_id"], data["batch_id"], data["id_number"]) == (
            plan_id,
            first["batch_id"],
            holder[2],
        )
        assert (data["professional_hours"], data["general_hours"]) == (22.0, 10.0)
        assert data["completed_on"] == (starts + timedelta(days=4)).isoformat()
        # the index: closed rows are marked, the open ones are not
        index = db["applicant_index"]
        assert (await index.find_one({"_id": second_id}) or {}).get("closed_reason") == "rejected"
        assert (await index.find_one({"_id": third_id}) or {}).get("closed_reason") == "withdrawn"
        assert (await index.find_one({"_id": applicant_id}) or {}).get("closed_reason") == "hours_credited"
        [next_id] = next_cycle.json()["applicant_ids"]
        assert "closed" not in (await index.find_one({"_id": next_id}) or {})
        # the write-side index rebuilds identical
        result = await rebuild_service("enrollment", check=True)
        assert result.differences == [], result.differences
    finally:
        await client.close()
