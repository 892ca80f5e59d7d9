"""Enrollment end to end: template → sheet with errors (nothing imported) → corrected sheet → materials zip
with photo checks (a failing head photo: not stored, its rule codes in the job, the review queue and the
applicant view) → institution review (bulk) → rejection → correction → approval."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date
from typing import Any

import httpx
import imaging
import pytest
from openpyxl import load_workbook
from servicekit.launcher import ServiceProcesses

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    publish_offer,
    wait_job,
)

pytestmark = pytest.mark.integration


def template_header_row(template: bytes) -> int:
    sheet = load_workbook(io.BytesIO(template)).worksheets[0]
    return next(r for r in range(1, 10) if sheet.cell(r, 1).value == "姓名")


def fill_template(template: bytes, rows: list[list[Any]]) -> bytes:
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    header_row = template_header_row(template)
    for offset, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            sheet.cell(header_row + offset, column).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def test_enrollment_flow(platform: ServiceProcesses, admin_credentials: tuple[str, str]) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-{uuid.uuid4().hex[:6]}"
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, institution)
        enterprise = await approved_enterprise(api, admin)
        token = enterprise["access_token"]

        template = await api.get("/api/enrollment/templates/summary.xlsx", headers=bearer(token))
        assert template.status_code == 200 and template.content[:2] == b"PK"
        people = [
            [
                "张三",
                "男",
                make_id_number(date(1990, 5, 17), male=True),
                "13800001111",
                "大专",
                "杭州建工集团有限公司",
                "建筑工程技术",
                "2010-07",
                6,
            ],
            [
                "李四",
                "女",
                make_id_number(date(1992, 8, 1), male=False),
                "13800002222",
                "本科",
                "杭州建工集团有限公司",
                "土木工程",
                "2014-06",
                3,
            ],
            [
                "王五",
                "男",
                make_id_number(date(1985, 1, 9), male=True),
                "13800003333",
                "中专",
                "杭州建工集团有限公司",
                "会计",
                "2003-07",
                10,
            ],
        ]
        form = {
            "institution_id": institution_id,
            "position": "施工员",
            "specialisation": "土建施工",
            "training_mode": "offline",
        }

        # a sheet with mistakes: every problem reported with its row, nothing imported
        broken = [list(p) for p in people]
        broken[1][2] = 1.10101e17  # what Excel does to an ID typed as a number
        broken[2][1] = "未知"
        broken[0][5] = "杭州建工"  # an abbreviation of the enterprise's registered name
        upload = await api.post(
            "/api/enrollment/batches/import",
            headers=bearer(token),
            data=form,
            files={
                "file": ("汇总表.xlsx", fill_template(template.content, broken), "application/octet-stream")
            },
        )
        assert upload.status_code == 202, upload.text
        job = await wait_job(api, token, upload.json()["status_url"])
        assert job["state"] == "failed" and job["error"]["code"] == "invalid_sheet"
        found = {(e["row"], e["code"]) for e in job["error"]["errors"]}
        assert any(code == "id_scientific_notation" for _, code in found), found
        assert any(code in ("invalid_choice", "gender_mismatch") for _, code in found), found
        abbreviated = next(e for e in job["error"]["errors"] if e["code"] == "employer_abbreviated")
        assert abbreviated["column"] == "工作单位" and "“杭州建工集团有限公司”" in abbreviated["message"]
        header_row = template_header_row(template.content)
        assert {row for row, _ in found} == {header_row + 1, header_row + 2, header_row + 3}, found
        listed = await api.get("/api/enrollment/applicants", headers=bearer(token))
        assert listed.json()["total"] == 0, "nothing is imported from a sheet with problems"

        # the corrected sheet imports, with progress and a record per applicant
        upload = await api.post(
            "/api/enrollment/batches/import",
            headers=bearer(token),
            data=form,
            files={
                "file": ("汇总表.xlsx", fill_template(template.content, people), "application/octet-stream")
            },
        )
        job = await wait_job(api, token, upload.json()["status_url"])
        assert job["state"] == "succeeded", job
        assert job["result"]["count"] == 3 and job["progress"]["done"] >= 3
        batch_id = job["result"]["batch_id"]

        async def imported() -> list[dict[str, Any]] | None:
            items = (
                await api.get(
                    "/api/enrollment/applicants", headers=bearer(token), params={"batch_id": batch_id}
                )
            ).json()["items"]
            return items if len(items) == 3 else None

        applicants = {a["id_number"]: a for a in await eventually(imported, what="the imported applicants")}
        assert all(a["status_label"] == "待审核" for a in applicants.values())
        # 学历 as the level of 附件5 (大专 → 专科, 中专 → 中职)
        assert {a["name"]: a["education"] for a in applicants.values()} == {
            "张三": "专科",
            "李四": "本科",
            "王五": "中职",
        }
        eligibility = {a["name"]: a["eligibility"]["verdict"] for a in applicants.values()}
        assert eligibility["张三"] == "eligible" and eligibility["王五"] in ("not_eligible", "needs_review")

        # materials: one zip; a bad head photo for 王五, an entry for a stranger, an unknown document name
        good, bad = imaging.good_head_photo(), imaging.grey_background_head_photo()
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            for number, person in zip((p[2] for p in people), people, strict=True):
                for document in ("报名表", "身份证正面", "身份证反面", "工作年限证明", "学历证书"):
                    zf.writestr(f"{number}${document}.jpg", imaging.small_jpeg())
                zf.writestr(f"{number}$头像.jpg", bad if person[0] == "王五" else good)
            zf.writestr("110101199001010011$头像.jpg", good)
            zf.writestr(f"{people[0][2]}$户口本.jpg", imaging.small_jpeg())
        upload = await api.post(
            f"/api/enrollment/batches/{batch_id}/materials",
            headers=bearer(token),
            files={"file": ("资料.zip", archive.getvalue(), "application/zip")},
        )
        assert upload.status_code == 202, upload.text
        job = await wait_job(api, token, upload.json()["status_url"])
        assert job["state"] == "succeeded", job
        result = job["result"]
        # 王五's photo fails the background rule: not stored, named by its code; the other 17 documents are
        assert result["documents_stored"] == 17 and result["photo_failures"] == 1
        assert [g["code"] for g in result["problems"]] == [
            "unknown_document",
            "not_in_batch",
            "not_white",
            "missing_documents",
        ]
        by_number = {a["id_number"]: a for a in result["applicants"]}
        assert set(by_number) == {people[2][2]}, "only the applicants with something to fix are listed"
        assert by_number[people[2][2]]["photo_ok"] is False and by_number[people[2][2]]["missing"] == ["头像"]
        assert [(p["rule"], p["code"]) for p in by_number[people[2][2]]["photo_problems"]] == [
            ("background", "not_white")
        ]

        # an unsafe archive is refused as a whole
        evil = io.BytesIO()
        with zipfile.ZipFile(evil, "w") as zf:
            zf.writestr("../../etc/passwd$头像.jpg", good)
        upload = await api.post(
            f"/api/enrollment/batches/{batch_id}/materials",
            headers=bearer(token),
            files={"file": ("evil.zip", evil.getvalue(), "application/zip")},
        )
        job = await wait_job(api, token, upload.json()["status_url"])
        assert job["state"] == "failed" and job["error"]["code"] == "unsafe_path"

        # the institution's queue shows data, photo check and eligibility; bulk approval is all or nothing
        async def queued() -> list[dict[str, Any]] | None:
            r = await api.get(
                "/api/enrollment/review-queue", headers=bearer(institution), params={"batch_id": batch_id}
            )
            items = r.json()["items"]
            return items if len(items) == 3 and all("photo_ok" in i for i in items) else None

        queue = {i["name"]: i for i in await eventually(queued, what="the review queue with photo checks")}
        assert queue["王五"]["photo_ok"] is False and queue["张三"]["photo_ok"] is True
        assert [p["code"] for p in queue["王五"]["photo_problems"]] == ["not_white"]
        assert "背景不是白色" in queue["王五"]["photo_problems"][0]["message"]
        assert queue["张三"]["photo_problems"] == [] and "头像" not in queue["王五"]["materials"]
        wang_view = (
            await api.get(
                f"/api/enrollment/applicants/{queue['王五']['applicant_id']}", headers=bearer(token)
            )
        ).json()
        assert (
            wang_view["photo_ok"] is False and wang_view["photo_problems"] == queue["王五"]["photo_problems"]
        )
        links = (
            await api.get(
                f"/api/enrollment/applicants/{queue['张三']['applicant_id']}/documents",
                headers=bearer(institution),
            )
        ).json()["documents"]
        assert {link["document"] for link in links} == {
            "报名表",
            "身份证正面",
            "身份证反面",
            "工作年限证明",
            "学历证书",
            "头像",
        }
        async with httpx.AsyncClient(timeout=10) as anyone:
            photo = await anyone.get(next(link["url"] for link in links if link["document"] == "头像"))
            assert photo.content == good
        ids = [queue[name]["applicant_id"] for name in ("张三", "李四")]
        approved = await api.post(
            "/api/enrollment/applicants/review",
            headers=bearer(institution),
            json={"applicant_ids": ids, "decision": "approve"},
        )
        assert approved.status_code == 204, approved.text
        again = await api.post(
            "/api/enrollment/applicants/review",
            headers=bearer(institution),
            json={"applicant_ids": [*ids, queue["王五"]["applicant_id"]], "decision": "approve"},
        )
        assert again.status_code == 409 and again.json()["code"] == "review_refused"
        assert {e["applicant_id"] for e in again.json()["errors"]} == set(ids)

        # rejected with a reason → the enterprise corrects → reviewed again → approved
        wang = queue["王五"]["applicant_id"]
        rejected = await api.post(
            f"/api/enrollment/applicants/{wang}/reject",
            headers=bearer(institution),
            json={"reason": "头像背景不是白色，学历证书不清晰"},
        )
        assert rejected.status_code == 204
        seen = (await api.get(f"/api/enrollment/applicants/{wang}", headers=bearer(token))).json()
        assert seen["status_label"] == "未通过" and seen["rejection_reason"].startswith("头像背景")
        row = dict(
            zip(
                ("name", "gender", "id_number", "mobile", "education", "employer", "major"),
                people[2],
                strict=False,
            )
        )
        bad_fix = await api.put(
            f"/api/enrollment/applicants/{wang}", headers=bearer(token), json={**row, "mobile": "123"}
        )
        assert bad_fix.status_code == 422 and bad_fix.json()["errors"][0]["field"] == "mobile"
        # a correction goes through the sheet's rules: the employer's full name, 学历 stored as its level
        short = await api.put(
            f"/api/enrollment/applicants/{wang}", headers=bearer(token), json={**row, "employer": "杭州建工"}
        )
        assert short.status_code == 422, short.text
        assert [(e["field"], e["code"]) for e in short.json()["errors"]] == [
            ("employer", "employer_abbreviated")
        ]
        fixed = await api.put(
            f"/api/enrollment/applicants/{wang}",
            headers=bearer(token),
            json={**row, "major": "建筑工程施工", "years_in_post": 10},
        )
        assert fixed.status_code == 200, fixed.text
        assert (fixed.json()["record"]["education"], fixed.json()["record"]["employer"]) == (
            "中职",
            "杭州建工集团有限公司",
        )
        assert (
            await api.post(f"/api/enrollment/applicants/{wang}/qualify", headers=bearer(institution))
        ).status_code == 204

        async def all_qualified() -> bool:
            items = (
                await api.get(
                    "/api/enrollment/applicants", headers=bearer(token), params={"batch_id": batch_id}
                )
            ).json()["items"]
            return all(i["status"] == "qualified" for i in items)

        await eventually(all_qualified, what="every applicant qualified")

        forms = await api.get(
            f"/api/enrollment/batches/{batch_id}/forms/enrollment.pdf", headers=bearer(token)
        )
        assert forms.status_code == 200 and forms.content.startswith(b"%PDF")
        other = await approved_enterprise(api, admin)
        foreign = await api.get(
            f"/api/enrollment/batches/{batch_id}/forms/enrollment.pdf", headers=bearer(other["access_token"])
        )
        assert foreign.status_code == 404
