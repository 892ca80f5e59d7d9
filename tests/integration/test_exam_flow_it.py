"""The exam on the real platform, face workers included: ExamApplied with a head photo → session → seats →
check-in (the same person passes; another face fails with tries left; a replayed photo is refused; after the
tries only the proctor's written override) → the paper (never its answers) → submitting at once refused with
the time left → pass (ExamPassed, result at once) and fail (ExamFailed) → a violation with evidence →
blacklist (not schedulable, then lifted) → 补考: the institution applies again and a new candidate appears,
the history kept → every exam read model rebuilt identical."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses
from servicekit.rebuild import rebuild_service

from .exam_support import (
    activate_person,
    apply_for_exam,
    candidate_of,
    check_in,
    drawn_answers,
    ensure_demo_banks,
    exam_clock_offset,
    exam_cohort,
    face,
    new_session,
    schedule,
    seconds_to_session_start,
)
from .helpers import bearer, eventually, login, new_account, sample_pdf

pytestmark = pytest.mark.integration


async def test_exam_flow(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        cohort = await exam_cohort(
            api, admin, [("周杰", "男", date(1991, 4, 2)), ("吴敏", "女", date(1993, 9, 8))]
        )
        passer, failer = cohort.members
        institution, enterprise = bearer(cohort.institution_token), bearer(cohort.enterprise_token)
        other_institution = bearer(
            await new_account(api, admin, "institution", org_id="inst-other", city="杭州")
        )
        await ensure_demo_banks(api, admin)

        # the candidates: schedulable, with a head photo; invisible to another institution
        listed = (
            await api.get("/api/exam/candidates", headers=institution, params={"status": "schedulable"})
        ).json()
        rows = {i["candidate_id"]: i for i in listed["items"]}
        assert (
            rows[passer.candidate_id]["has_head_photo"] is True
            and "head_photo_key" not in rows[passer.candidate_id]
        )
        assert rows[failer.candidate_id]["name"] == "吴敏"
        assert (
            await api.get(f"/api/exam/candidates/{passer.candidate_id}", headers=other_institution)
        ).status_code == 404

        # a session; seats assigned all at once; the person and the enterprise see the schedule
        session_id = await new_session(api, cohort.institution_token, seats=2)
        seated = await schedule(
            api, cohort.institution_token, session_id, [passer.candidate_id, failer.candidate_id]
        )
        assert seated.status_code == 200, seated.text
        assert sorted(s["seat"] for s in seated.json()["scheduled"]) == [1, 2]
        taken = await schedule(api, cohort.institution_token, session_id, [passer.candidate_id])
        assert taken.status_code == 422 and taken.json()["errors"][0]["code"] == "already_in_session"
        passer_token = await activate_person(api, cohort.institution_token, passer.id_number, "Kaoshi2026!")
        failer_token = await activate_person(api, cohort.institution_token, failer.id_number, "Kaoshi2026!")

        async def person_sees_seat() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = (
                await api.get("/api/exam/me/schedule", headers=bearer(passer_token))
            ).json()["items"]
            return items if items and items[0]["status"] == "scheduled" else None

        mine = await eventually(person_sees_seat, what="the person's schedule")
        assert mine[0]["session"]["room"] == "第一考场" and mine[0]["session"]["seat"] in (1, 2)
        staff = (await api.get("/api/exam/schedules", headers=enterprise)).json()["items"]
        assert {i["candidate_id"] for i in staff} == {passer.candidate_id, failer.candidate_id}
        assert (await api.get("/api/exam/me/schedule", headers=enterprise)).status_code == 403

        # check-in: another person's face fails with tries left; the same person passes
        failed = await check_in(api, cohort.institution_token, failer.candidate_id, face("biden"))
        assert failed["verified"] is False and failed["attempts_left"] == 2
        assert any("人脸比对不一致" in r for r in failed["last_failure"]["reasons"]), failed
        replayed = await check_in(api, cohort.institution_token, failer.candidate_id, face("obama"))
        assert replayed["verified"] is False and replayed["attempts_left"] == 1
        assert replayed["last_failure"]["reasons"] == ["疑似翻拍或重放的照片：请考生本人正对摄像头重新拍摄"]
        assert replayed["last_failure"]["reason_codes"] == ["replay_suspected"], replayed
        early_override = await api.post(
            f"/api/exam/candidates/{failer.candidate_id}/override",
            headers=institution,
            json={"reason": "已核对身份证原件，本人无误"},
        )
        assert early_override.status_code == 409 and early_override.json()["code"] == "override_not_allowed"
        third = await check_in(api, cohort.institution_token, failer.candidate_id, face("biden"))
        assert third["attempts_left"] == 0 and third["override_allowed"] is True
        exhausted = await api.post(
            f"/api/exam/candidates/{failer.candidate_id}/check-in",
            headers=institution,
            files={"frame": ("frame.jpg", face("obama2"), "image/jpeg")},
        )
        assert exhausted.status_code == 409 and exhausted.json()["code"] == "checkin_attempts_exhausted"
        overridden = await api.post(
            f"/api/exam/candidates/{failer.candidate_id}/override",
            headers=institution,
            json={"reason": "已核对身份证原件，本人无误"},
        )
        assert overridden.status_code == 200 and overridden.json()["override"] is True, overridden.text

        verified = await check_in(api, cohort.institution_token, passer.candidate_id, face("obama2"))
        assert verified["verified"] is True and verified["override"] is False and verified["distance"] < 0.6

        # starting opens at the session's start, not at check-in (docs/adr/0001-exam-clock.md)
        too_soon = await api.post(
            f"/api/exam/candidates/{passer.candidate_id}/start", headers=bearer(passer_token)
        )
        assert too_soon.status_code == 409 and too_soon.json()["code"] == "session_not_started", too_soon.text
        assert "开考后方可开始答题" in too_soon.json()["detail"]
        lead = await seconds_to_session_start(api, cohort.institution_token, passer.candidate_id)

        # the paper: no answers in it; submitting at once is refused with the time left
        with exam_clock_offset(platform, lead):
            started = await api.post(
                f"/api/exam/candidates/{passer.candidate_id}/start", headers=bearer(passer_token)
            )
            assert started.status_code == 201, started.text
            paper = started.json()
            assert len(paper["questions"]) == 45 and all(
                set(q) >= {"stem", "options"} for q in paper["questions"]
            )
            assert all("answer" not in q for q in paper["questions"])
            foreign = await api.get(
                f"/api/exam/candidates/{passer.candidate_id}/paper", headers=bearer(failer_token)
            )
            assert foreign.status_code == 404
            at_once = await api.post(
                f"/api/exam/candidates/{passer.candidate_id}/submit", headers=bearer(passer_token)
            )
            assert at_once.status_code == 409 and at_once.json()["code"] == "submit_too_early"
            assert 29 * 60 < at_once.json()["errors"]["seconds_left"] <= 30 * 60
            assert "还需等待 30 分钟" in at_once.json()["detail"]

            # pass: answered right (from the drawn paper in the event store), submitted after 30 minutes
            right = await drawn_answers(platform, passer.candidate_id)
            assert set(right) == {q["question_id"] for q in paper["questions"]}
            saved = await api.put(
                f"/api/exam/candidates/{passer.candidate_id}/answers",
                headers=bearer(passer_token),
                json={"answers": right},
            )
            assert saved.status_code == 200 and saved.json()["answered"] == 45, saved.text
        with exam_clock_offset(platform, lead + 30 * 60):
            passed = await api.post(
                f"/api/exam/candidates/{passer.candidate_id}/submit", headers=bearer(passer_token)
            )
            assert passed.status_code == 200, passed.text
            again = await api.post(
                f"/api/exam/candidates/{passer.candidate_id}/submit", headers=bearer(passer_token)
            )
        result = passed.json()
        assert result["passed"] is True and result["score"] == 100 and result["full_marks"] == 100
        assert result["automatic"] is False and again.json() == result

        async def enterprise_sees_result() -> dict[str, Any] | None:
            r = await api.get(f"/api/exam/candidates/{passer.candidate_id}/result", headers=enterprise)
            return r.json() if r.status_code == 200 else None

        assert (await eventually(enterprise_sees_result, what="the result"))["score"] == 100

        # fail: the overridden candidate answers wrong
        failed_result = await _answer_wrong(api, platform, failer.candidate_id, failer_token)
        assert failed_result["passed"] is False and failed_result["score"] < 60

        # a violation with evidence, then the administrator's blacklist
        violation = await api.post(
            f"/api/exam/candidates/{failer.candidate_id}/violations",
            headers=institution,
            data={"description": "考试中使用手机查阅资料"},
            files=[("files", ("evidence.pdf", sample_pdf(), "application/pdf"))],
        )
        assert violation.status_code == 201, violation.text
        assert (
            await api.post(
                f"/api/exam/candidates/{failer.candidate_id}/violations",
                headers=other_institution,
                data={"description": "考试中使用手机查阅资料"},
            )
        ).status_code == 404
        not_admin = await api.post(
            "/api/exam/blacklist", headers=institution, json={"id_number": failer.id_number, "reason": "替考"}
        )
        assert not_admin.status_code == 403
        barred = await api.post(
            "/api/exam/blacklist",
            headers=bearer(admin),
            json={
                "id_number": failer.id_number,
                "name": failer.name,
                "reason": "考试作弊",
                "violation_id": violation.json()["violation_id"],
            },
        )
        assert barred.status_code == 201, barred.text
        blacklist_id = barred.json()["blacklist_id"]

        # 补考: the institution applies again; a new candidate, the old one kept; blacklisted: not schedulable
        async def result_noted() -> bool:
            r = await api.get(f"/api/enrollment/applicants/{failer.applicant_id}", headers=enterprise)
            return r.json()["status"] != "exam_applied"

        await eventually(result_noted, what="enrollment to note the failed exam")
        again_applied = await apply_for_exam(
            api, cohort.institution_token, cohort.plan_id, [failer.applicant_id]
        )
        assert again_applied["retakes"] == [failer.applicant_id]
        retake = await candidate_of(
            api, cohort.institution_token, failer.applicant_id, exclude=[failer.candidate_id]
        )
        assert retake != failer.candidate_id
        history = (await api.get("/api/exam/me/schedule", headers=bearer(failer_token))).json()["items"]
        assert [(i["candidate_id"], i["status"]) for i in history] == [
            (retake, "schedulable"),
            (failer.candidate_id, "failed"),
        ]
        assert history[0]["retake"] is True

        retake_session = await new_session(api, cohort.institution_token, seats=5, minutes_ahead=90)

        async def refused_blacklisted() -> dict[str, Any] | None:
            r = await schedule(api, cohort.institution_token, retake_session, [retake])
            assert r.status_code in (200, 422), r.text
            return r.json() if r.status_code == 422 else None

        refusal = await eventually(refused_blacklisted, what="the blacklist to bar the retake")
        assert refusal["errors"][0]["code"] == "blacklisted"
        lifted = await api.post(
            f"/api/exam/blacklist/{blacklist_id}/lift", headers=bearer(admin), json={"reason": "复核后撤销"}
        )
        assert lifted.status_code == 204

        async def schedulable_again() -> dict[str, Any] | None:
            r = await schedule(api, cohort.institution_token, retake_session, [retake])
            return r.json() if r.status_code == 200 else None

        assert (await eventually(schedulable_again, what="the lifted blacklist"))["scheduled"][0]["seat"] == 1
        listed_blacklist = (await api.get("/api/exam/blacklist", headers=bearer(admin))).json()["items"]
        assert any(i["blacklist_id"] == blacklist_id and i["lifted"] for i in listed_blacklist)

        async def candidates_caught_up() -> bool:
            r = await api.get("/api/exam/candidates", headers=institution)
            statuses = {i["candidate_id"]: i["status"] for i in r.json()["items"]}
            return statuses == {
                passer.candidate_id: "passed",
                failer.candidate_id: "failed",
                retake: "scheduled",
            }

        await eventually(candidates_caught_up, what="the candidates read model")

    # every exam read model, rebuilt from the log, comes out identical
    for key, value in platform.env.items():
        monkeypatch.setenv(key, value)
    rebuilt = await rebuild_service("exam", check=True)
    assert rebuilt.identical, rebuilt.differences
    applied = {r.projection: r.events_applied for r in rebuilt.reports}
    assert applied["candidates"] > 0 and applied["sessions"] > 0 and applied["attempts"] > 0


async def _answer_wrong(
    api: httpx.AsyncClient, platform: ServiceProcesses, candidate_id: str, token: str
) -> dict[str, Any]:
    lead = await seconds_to_session_start(api, token, candidate_id)
    with exam_clock_offset(platform, lead):
        started = await api.post(f"/api/exam/candidates/{candidate_id}/start", headers=bearer(token))
        assert started.status_code == 201, started.text
        right = await drawn_answers(platform, candidate_id)
        wrong = {
            q["question_id"]: [next(i for i in range(len(q["options"])) if [i] != right[q["question_id"]])]
            for q in started.json()["questions"]
        }
        saved = await api.put(
            f"/api/exam/candidates/{candidate_id}/answers", headers=bearer(token), json={"answers": wrong}
        )
        assert saved.status_code == 200, saved.text
    with exam_clock_offset(platform, lead + 30 * 60):
        submitted = await api.post(f"/api/exam/candidates/{candidate_id}/submit", headers=bearer(token))
    assert submitted.status_code == 200, submitted.text
    return dict(submitted.json())
