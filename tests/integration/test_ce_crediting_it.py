"""Continuing education as a yearly cycle, certification's part, on the real platform.

Two holders of a 施工员 certificate whose first cycle started a month ago; their enterprise enrolls both in
continuing education at an institution (CE batch → qualify → order → pay). One of them trains in a CE plan
declaring 22 professional + 10 general hours; its completion (recorded twice) reaches certification as
enrollment's ContinuingEducationCompleted and is credited once (two records, source training_plan), which
closes the CE enrollment. The other one's hours come from a sheet: uploaded twice, the second upload is
refused row by row (already_recorded) and changes nothing; a record keyed twice is one record. The enterprise
sees its staff's CE status and, with short=true, only the one short of hours; 60 days before the cycle ends
(certification's clock moved forward) the lapse check reminds the short holder once, and the holder's hours
page shows the reminder and the day the certificate would lapse."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from certification.adapters.spreadsheet import workbook
from certification.domain import sheets
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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POSITION, SPECIALISATION = "施工员", "土建施工"


def _applicant(name: str, gender: str, id_number: str) -> dict[str, Any]:
    return {
        "name": name,
        "gender": gender,
        "id_number": id_number,
        "mobile": f"139{uuid.uuid4().int % 10**8:08d}",
        "education": "大专",
        "employer": "杭州建工集团有限公司",
    }


async def test_ce_training_is_credited_once_sheets_count_once_and_the_enterprise_sees_its_short_staff(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    today = china_today()
    # issued a year and a month ago: cycle 1 started a month ago (the first anniversary)
    issued_on = today - timedelta(days=365 + 31)
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-ce-{uuid.uuid4().hex[:6]}"
        inst_token = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, inst_token, name="继续教育学时测试学校")
        signup = await approved_enterprise(api, admin)
        ent_token = signup["access_token"]
        enterprise, institution = bearer(ent_token), bearer(inst_token)

        trained = ("孙学勤", "男", make_id_number(date(1985, 2, 3), male=True))
        short = ("周欠时", "女", make_id_number(date(1987, 9, 12), male=False))
        certificates: dict[str, dict[str, Any]] = {}
        for name, gender, id_number in (trained, short):
            imported = await api.post(
                f"{CERT}/legacy",
                headers=bearer(admin),
                json={
                    "certificate_number": f"ZJ-CE-{uuid.uuid4().hex[:8].upper()}",
                    "holder_name": name,
                    "gender": gender,
                    "id_number": id_number,
                    "position": POSITION,
                    "specialisation": SPECIALISATION,
                    "issued_on": issued_on.isoformat(),
                    "issuer": "浙江省住房和城乡建设厅",
                },
            )
            assert imported.status_code == 201, imported.text
            certificates[id_number] = imported.json()
        trained_cert = certificates[trained[2]]["certificate_id"]
        short_cert = certificates[short[2]]["certificate_id"]
        short_number = certificates[short[2]]["certificate_number"]

        # the enterprise enrolls both in continuing education; qualified, ordered, paid
        batch = {
            "institution_id": institution_id,
            "position": POSITION,
            "specialisation": SPECIALISATION,
            "training_mode": "online",
            "continuing_education": True,
            "applicants": [_applicant(*trained), _applicant(*short)],
        }

        async def imported_batch() -> list[str] | None:
            r = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
            if r.status_code == 422 and "no_certificate" in r.text:
                return None  # enrollment has not learnt of the certificates yet
            assert r.status_code == 201, r.text
            return list(r.json()["applicant_ids"])

        trained_applicant, short_applicant = await eventually(
            imported_batch, what="a continuing-education batch for the two holders"
        )
        for applicant_id in (trained_applicant, short_applicant):
            qualified = await api.post(
                f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution
            )
            assert qualified.status_code == 204, qualified.text

        async def ordered() -> str | None:
            r = await api.post(
                "/api/payment/orders",
                headers=enterprise,
                json={
                    "institution_id": institution_id,
                    "applicant_ids": [trained_applicant, short_applicant],
                },
            )
            return str(r.json()["order_id"]) if r.status_code == 201 else None

        order_id = await eventually(ordered, what="an order for the two CE applicants")
        assert (await pay_offline(api, ent_token, inst_token, order_id)).status_code == 204

        async def enrolled() -> bool:
            r = await api.get(f"/api/enrollment/applicants/{trained_applicant}", headers=enterprise)
            return r.json()["status"] == "enrolled"

        await eventually(enrolled, what="the CE applicants to be enrolled")

        # a CE plan of today declaring 22 + 10 hours; completion recorded twice
        created = await api.post(
            "/api/enrollment/training-plans",
            headers=institution,
            json={
                "name": "施工员继续教育（学时计入测试）",
                "training_mode": "online",
                "position": POSITION,
                "starts_on": today.isoformat(),
                "ends_on": today.isoformat(),
                "platform": "浙江省住建培训平台",
                "continuing_education": True,
                "professional_hours": 22,
                "general_hours": 10,
            },
        )
        assert created.status_code == 201, created.text
        plan_id = created.json()["plan_id"]
        for step in ("trainees", "completion", "completion"):
            done = await api.post(
                f"/api/enrollment/training-plans/{plan_id}/{step}",
                headers=institution,
                json={"applicant_ids": [trained_applicant]},
            )
            assert done.status_code == 200, f"{step}: {done.text}"

        async def credited() -> dict[str, Any] | None:
            r = await api.get(f"{CERT}/certificates/{trained_cert}/hours", headers=bearer(admin))
            assert r.status_code == 200, r.text
            view = dict(r.json())
            return view if view["records"] else None

        progress = await eventually(credited, what="certification to credit the plan's hours")
        records = progress["records"]
        assert sorted((r["kind"], r["hours"], r["source"]) for r in records) == [
            ("general", 10, "training_plan"),
            ("professional", 22, "training_plan"),
        ]
        assert {r["source_ref"] for r in records} == {f"{plan_id}:{trained_applicant}"}
        assert {r["course"] for r in records} == {"施工员继续教育（学时计入测试）"}
        assert {r["studied_on"] for r in records} == {today.isoformat()}
        assert progress["cycles"][-1]["met"] is True and progress["cycles"][-1]["lapses_on"] is None

        # enrollment closes the CE applicant on the credited hours
        async def closed() -> bool:
            r = await api.get(f"/api/enrollment/applicants/{trained_applicant}", headers=enterprise)
            return r.json()["status"] == "closed"

        await eventually(closed, what="enrollment to close the credited CE applicant")
        # still credited once (the second completion, any redelivery)
        again = (await api.get(f"{CERT}/certificates/{trained_cert}/hours", headers=bearer(admin))).json()
        assert len(again["records"]) == 2

        # the other holder's hours from a sheet: uploaded twice, counted once
        header = list(sheets.HOURS_COLUMNS)
        rows: list[list[object]] = [
            [short_number, short[2], (today - timedelta(days=2)).isoformat(), 4, "专业科目", "安全生产新规"],
            [short_number, short[2], (today - timedelta(days=1)).isoformat(), 3, "公共科目", "职业道德"],
        ]

        async def first_upload() -> httpx.Response | None:
            files = {"file": ("学时.xlsx", workbook(header, rows), XLSX)}
            r = await api.post(f"{CERT}/hours/import", headers=institution, files=files)
            return None if r.status_code == 403 else r  # until certification knows of the CE enrollment

        uploaded = await eventually(first_upload, what="certification to learn of the CE enrollment")
        assert uploaded.status_code == 201 and uploaded.json()["count"] == 2, uploaded.text
        files = {"file": ("学时.xlsx", workbook(header, rows), XLSX)}
        twice = await api.post(f"{CERT}/hours/import", headers=institution, files=files)
        assert twice.status_code == 422, twice.text
        assert [(e["row"], e["code"]) for e in twice.json()["errors"]] == [
            (2, "already_recorded"),
            (3, "already_recorded"),
        ]
        assert short_number in twice.json()["errors"][0]["message"]
        within: list[list[object]] = [
            rows[0],  # row 2: recorded by the first upload
            [short_number, short[2], today.isoformat(), 2, "专业科目", "BIM应用"],  # row 3
            [short_number, short[2], today.isoformat(), 2, "专业科目", "BIM应用 "],  # row 4: row 3 again
        ]
        files = {"file": ("学时.xlsx", workbook(header, within), XLSX)}
        doubled = await api.post(f"{CERT}/hours/import", headers=institution, files=files)
        assert doubled.status_code == 422, doubled.text
        found = {(e["row"], e["code"]) for e in doubled.json()["errors"]}
        assert found == {(2, "already_recorded"), (4, "duplicate_in_sheet")}, doubled.text
        # a record keyed twice is one record: the second answer names the first (200, not 201)
        body = {"studied_on": today.isoformat(), "hours": 1, "kind": "general", "course": "消防安全"}
        one = await api.post(f"{CERT}/certificates/{short_cert}/hours", headers=institution, json=body)
        assert one.status_code == 201, one.text
        same = await api.post(f"{CERT}/certificates/{short_cert}/hours", headers=institution, json=body)
        assert same.status_code == 200 and same.json()["duplicate"] is True, same.text
        assert same.json()["record_id"] == one.json()["record_id"]
        other = await api.post(
            f"{CERT}/certificates/{short_cert}/hours", headers=institution, json={**body, "hours": 2}
        )
        assert other.status_code == 409 and other.json()["code"] == "hours_record_conflict", other.text
        short_view = (await api.get(f"{CERT}/certificates/{short_cert}/hours", headers=bearer(admin))).json()
        assert sum(r["hours"] for r in short_view["records"]) == 8  # 4 + 3 + 1
        current = short_view["cycles"][-1]
        assert current["met"] is False and current["missing_total"] == 24 and current["lapses_on"]

        # the enterprise sees its staff's CE status; short=true: only the one short of hours
        async def staff(**params: str) -> list[dict[str, Any]]:
            r = await api.get(f"{CERT}/staff/continuing-education", headers=enterprise, params=params)
            assert r.status_code == 200, r.text
            return list(r.json()["items"])

        everyone = await staff()
        assert {i["certificate_id"] for i in everyone} == {trained_cert, short_cert}
        [short_row] = await staff(short="true")
        assert short_row["certificate_id"] == short_cert and short_row["id_number"] == short[2]
        assert (short_row["hours"], short_row["professional_hours"], short_row["missing_total"]) == (8, 4, 24)
        assert short_row["missing_professional"] == 18 and short_row["ce_enrolled"] is True
        assert short_row["lapses_on"] == current["lapses_on"] and short_row["state_label"] == "有效"
        assert (await api.get(f"{CERT}/staff/continuing-education", headers=institution)).status_code == 403
        other_enterprise = await approved_enterprise(api, admin)
        assert (
            await api.get(
                f"{CERT}/staff/continuing-education", headers=bearer(other_enterprise["access_token"])
            )
        ).json()["items"] == []

        # 60 days before the cycle ends (certification's clock moved forward): reminded once
        cycle_ends_on = date.fromisoformat(current["ends_on"])
        with certification_clock_offset(platform, seconds_until(cycle_ends_on - timedelta(days=60))):
            checks = [
                (
                    await api.post(
                        f"{CERT}/lapse-check", headers=bearer(admin), params={"certificate_id": cert_id}
                    )
                ).json()
                for cert_id in (short_cert, short_cert, trained_cert)
            ]
            assert [len(c["reminded"]) for c in checks] == [1, 0, 0], checks
            assert checks[0]["today"] == (cycle_ends_on - timedelta(days=60)).isoformat()
            reminded = (
                await api.get(f"{CERT}/certificates/{short_cert}/hours", headers=bearer(admin))
            ).json()
            [reminder] = reminded["reminders"]
            assert (reminder["days_before"], reminder["hours"], reminder["required_hours"]) == (60, 8, 32)
            assert reminder["cycle_ends_on"] == cycle_ends_on.isoformat()
            assert reminder["lapses_on"] == reminded["lapses_on"]
