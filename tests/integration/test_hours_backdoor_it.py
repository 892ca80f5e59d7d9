"""Continuing-education hours are no back door into a certificate (on the real platform).

An institution that never trained a holder cannot record hours on their certificate (403
`not_training_institution`, one by one or from a sheet), cannot read it before or after trying, and its
attempt changes neither the hours nor what the lapse check decides; the certificate's own institution and the
administrator still record hours. Old-style certificates get random ids, not ids computed from their
(public) number; the importer finds them by number. Lists refuse an absurd `skip` with 422."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from certification.adapters.spreadsheet import workbook
from certification.domain import sheets
from servicekit.launcher import ServiceProcesses

from .helpers import bearer, eventually, login, make_id_number, new_account

pytestmark = pytest.mark.integration

CERT = "/api/certification"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the namespace old-style certificate ids used to be computed with (uuid5 of "legacy:<number>")
OLD_NAMESPACE = uuid.UUID("6f1b2d4e-3c5a-4e7b-9a1d-2b3c4d5e6f70")


def today() -> date:
    return datetime.now(timezone(timedelta(hours=8))).date()


def hours(day: date, amount: float = 0.5, course: str = "安全生产新规") -> dict[str, Any]:
    return {"studied_on": day.isoformat(), "hours": amount, "kind": "general", "course": course}


async def test_an_institution_that_never_trained_the_holder_gets_nothing_from_recording_hours(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        owner_id = f"inst-own-{uuid.uuid4().hex[:6]}"
        owner = await new_account(api, admin, "institution", org_id=owner_id, city="杭州")
        intruder_id = f"inst-bd-{uuid.uuid4().hex[:6]}"
        intruder = await new_account(api, admin, "institution", org_id=intruder_id, city="宁波")

        # the owner imports an old-style certificate issued three years ago
        number = f"ZJ-BD-{uuid.uuid4().hex[:8].upper()}"
        id_number = make_id_number(date(1982, 6, 6), male=True)
        issued_on = today().replace(year=today().year - 3) - timedelta(days=20)
        imported = await api.post(
            f"{CERT}/legacy",
            headers=bearer(owner),
            json={
                "certificate_number": number,
                "holder_name": "钱七",
                "gender": "男",
                "id_number": id_number,
                "position": "安全员",
                "issued_on": issued_on.isoformat(),
                "issuer": "浙江省住房和城乡建设厅",
            },
        )
        assert imported.status_code == 201, imported.text
        cert_id = imported.json()["certificate_id"]

        # its id is random: not the value the old formula computes from the public number
        assert cert_id != uuid.uuid5(OLD_NAMESPACE, f"legacy:{number}").hex
        assert cert_id != uuid.uuid5(OLD_NAMESPACE, f"legacy:{number.upper()}").hex
        assert uuid.UUID(hex=cert_id).version == 4

        # the importer finds it by number (so does the administrator); the intruder does not
        async def found_by(token: str) -> list[dict[str, Any]]:
            r = await api.get(f"{CERT}/certificates", headers=bearer(token), params={"number": number})
            assert r.status_code == 200, r.text
            return list(r.json()["items"])

        async def owner_finds() -> list[dict[str, Any]] | None:
            return await found_by(owner) or None

        assert [i["certificate_id"] for i in await eventually(owner_finds, what="the owner's list")] == [
            cert_id
        ]
        assert [i["certificate_id"] for i in await found_by(admin)] == [cert_id]

        async def progress() -> dict[str, Any]:
            r = await api.get(f"{CERT}/certificates/{cert_id}/hours", headers=bearer(admin))
            assert r.status_code == 200, r.text
            return dict(r.json())

        async def lapse_preview() -> list[Any]:
            later = (today() + timedelta(days=3 * 366)).isoformat()
            r = await api.post(
                f"{CERT}/lapse-check",
                headers=bearer(admin),
                params={"certificate_id": cert_id, "today": later, "dry_run": "true"},
            )
            assert r.status_code == 200, r.text
            return list(r.json()["lapsed"])

        before, lapse_before = await progress(), await lapse_preview()
        assert before["records"] == [] and len(lapse_before) == 1

        # the intruder: 0.5 hours one by one, then from a sheet: refused with the reason, nothing recorded
        refused = await api.post(
            f"{CERT}/certificates/{cert_id}/hours", headers=bearer(intruder), json=hours(today())
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "not_training_institution"
        assert "不能登记其继续教育学时" in refused.json()["detail"]
        rows: list[list[object]] = [[number, id_number, today().isoformat(), 0.5, "公共科目", "新规"]]
        header = list(sheets.HOURS_COLUMNS)
        assert len(header) == len(rows[0]), header
        sheet = await api.post(
            f"{CERT}/hours/import",
            headers=bearer(intruder),
            files={"file": ("hours.xlsx", workbook(header, rows), XLSX)},
        )
        assert sheet.status_code == 403 and sheet.json()["code"] == "not_training_institution", sheet.text
        assert number in sheet.text
        # a wrong ID number in the intruder's sheet says nothing about the holder: the same refusal
        rows[0][1] = make_id_number(date(1990, 1, 1), male=False)
        wrong = await api.post(
            f"{CERT}/hours/import",
            headers=bearer(intruder),
            files={"file": ("hours.xlsx", workbook(header, rows), XLSX)},
        )
        assert wrong.status_code == 403 and wrong.json()["code"] == "not_training_institution"

        # ... and it still cannot read the certificate: not by id, not its hours, not in its list
        for path in (f"/certificates/{cert_id}", f"/certificates/{cert_id}/hours"):
            r = await api.get(f"{CERT}{path}", headers=bearer(intruder))
            assert r.status_code == 404, (path, r.text)
            assert id_number not in r.text
        listed = await api.get(f"{CERT}/certificates", headers=bearer(intruder))
        assert listed.status_code == 200 and id_number not in listed.text
        assert await found_by(intruder) == []
        # nor change its lapse or renewal: the hours and the lapse check's decision are what they were
        after = await progress()
        assert after["records"] == [] and after["cycles"] == before["cycles"]
        assert await lapse_preview() == lapse_before
        assert (await api.post(f"{CERT}/lapse-check", headers=bearer(intruder))).status_code == 403

        # the certificate's own institution and the administrator record hours
        mine = await api.post(
            f"{CERT}/certificates/{cert_id}/hours", headers=bearer(owner), json=hours(today(), 8)
        )
        assert mine.status_code == 201, mine.text
        by_admin = await api.post(
            f"{CERT}/certificates/{cert_id}/hours",
            headers=bearer(admin),
            json=hours(today() - timedelta(days=1), 4, "管理员补录"),
        )
        assert by_admin.status_code == 201, by_admin.text
        records = (await progress())["records"]
        assert sorted(r["hours"] for r in records) == [4, 8]
        # still nothing for the intruder
        assert (await api.get(f"{CERT}/certificates/{cert_id}", headers=bearer(intruder))).status_code == 404


async def test_lists_refuse_an_absurd_skip_and_long_text(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        for params in ({"skip": str(2**63)}, {"skip": "-1"}, {"limit": "0"}, {"number": "9" * 65}):
            r = await api.get(f"{CERT}/certificates", headers=bearer(admin), params=params)
            assert r.status_code == 422, (params, r.status_code, r.text)
        ok = await api.get(f"{CERT}/certificates", headers=bearer(admin), params={"skip": "0", "limit": "5"})
        assert ok.status_code == 200 and len(ok.json()["items"]) <= 5
        long_reason = await api.post(
            f"{CERT}/certificates/{uuid.uuid4().hex}/revoke",
            headers=bearer(admin),
            json={"reason": "违" * 501},
        )
        assert long_reason.status_code == 422, long_reason.text
        long_course = await api.post(
            f"{CERT}/certificates/{uuid.uuid4().hex}/hours",
            headers=bearer(admin),
            json=hours(today(), 1, "课" * 101),
        )
        assert long_course.status_code == 422, long_course.text
