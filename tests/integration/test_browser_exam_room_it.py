"""The candidate's journey through the exam room in a real browser, with Chromium's fake camera, and the
proctor's live alerts. Prepared here: the platform, a candidate who applied for the exam with a head photo
made from obama.jpg (exam_support), seated in a session 30 minutes ahead, the person's own account (activated
through the API: another spec covers the activation page) and a proctor's login. Then
web/e2e/exam-room.spec.ts: the candidate sees the schedule, is verified at the desk (obama2.jpg), is refused
the start before the session's start and submission before 30 minutes (the exam service's clock moved by the
spec through EXAM_TEST_CLOCK_OFFSET_FILE, docs/adr/0001-exam-clock.md), consents, answers (once with the
network down), the same person's frame passes; a second browser for the same candidate shows another person
(biden.jpg): the proctor's panel shows the alert; after three such frames the candidate submits and sees the
score, and the proctor records a violation with a frame as evidence and dismisses the other alerts. Read back
here through the API.
Screenshots in web/test-results/screens/exam-room-*.png."""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

from . import test_browser_it as browser  # (a module: its test is not collected again here)
from .exam_support import (
    FACES,
    activate_person,
    ensure_demo_banks,
    exam_clock_offset,
    exam_cohort,
    new_session,
    schedule,
)
from .helpers import bearer, eventually, login
from .test_browser_checkin_it import build_ui, y4m

# a cohort (a minute or two on a quiet machine), a build of the UI, three Chromium launches and the face
# workers' answers to five frames
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]

PERSON = ("赵六", "男", date(1987, 11, 23))
PASSWORD = "Kaoshi2026!"


async def _get(api: httpx.AsyncClient, token: str, path: str) -> dict[str, Any]:
    r = await api.get(path, headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_exam_room_in_the_browser(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], tmp_path: Path
) -> None:
    if not browser.CHROMIUM.exists():
        pytest.fail(f"{browser.CHROMIUM} is missing: `make install` installs Debian's chromium (apt-get)")
    clock_file = Path(platform.env["EXAM_TEST_CLOCK_OFFSET_FILE"])
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        cohort = await exam_cohort(api, admin, [PERSON])
        [member] = cohort.members
        await ensure_demo_banks(api, admin)
        session_id = await new_session(api, cohort.institution_token, seats=5, minutes_ahead=30)
        seated = await schedule(api, cohort.institution_token, session_id, [member.candidate_id])
        assert seated.status_code == 200, seated.text
        person_token = await activate_person(api, cohort.institution_token, member.id_number, PASSWORD)

        async def listed_seated() -> dict[str, Any] | None:
            found = await _get(api, person_token, "/api/exam/me/schedule")
            items = [i for i in found["items"] if i["candidate_id"] == member.candidate_id]
            return items[0] if items and items[0]["status"] == "scheduled" and items[0]["session"] else None

        seat = await eventually(listed_seated, what="the seat in the candidate's schedule")

        username, password = f"proctor-{secrets.token_hex(4)}", "Jiankao-2026-" + secrets.token_urlsafe(10)
        created = await api.post(
            "/api/gateway/accounts",
            headers=bearer(admin),
            json={
                "username": username,
                "role": "institution",
                "display_name": "考试测试培训学校（监考）",
                "org_id": cohort.institution_id,
                "city": "杭州",
                "password": password,
            },
        )
        assert created.status_code == 201, created.text

        build_ui()
        env = {
            **os.environ,
            "BASE_URL": platform.url("gateway"),
            "CHROMIUM_PATH": str(browser.CHROMIUM),
            "CI": "1",
            "EXAM_ROOM_FIXTURE": "1",
            "EXAM_ROOM_PROCTOR": username,
            "EXAM_ROOM_PROCTOR_PASSWORD": password,
            "EXAM_ROOM_PERSON": member.id_number,
            "EXAM_ROOM_PERSON_PASSWORD": PASSWORD,
            "EXAM_ROOM_CANDIDATE_ID": member.candidate_id,
            "EXAM_ROOM_NAME": member.name,
            "EXAM_ROOM_SESSION_ID": session_id,
            "EXAM_ROOM_ROOM": seat["session"]["room"],
            "EXAM_ROOM_STARTS_AT": seat["session"]["starts_at"],
            "EXAM_ROOM_CLOCK_FILE": str(clock_file),
            "EXAM_ROOM_SAME_Y4M": str(y4m(FACES / "obama2.jpg", tmp_path / "obama2.y4m")),
            "EXAM_ROOM_OTHER_Y4M": str(y4m(FACES / "biden.jpg", tmp_path / "biden.y4m")),
        }
        npx = shutil.which("npx") or "npx"
        # the spec moves the exam's clock; the session's platform is shared: back to real time after it
        with exam_clock_offset(platform, 0):
            result = browser.run([npx, "playwright", "test", "e2e/exam-room.spec.ts"], env=env, timeout=1200)
        output = result.stdout + result.stderr
        print(output)
        assert result.returncode == 0, f"Playwright failed (see web/test-results):\n{output[-20000:]}"

        # what the browser did, read back from the API (fresh logins: the tokens above may have expired)
        person_token = (await login(api, member.id_number, PASSWORD))["access_token"]
        proctor_token = (await login(api, username, password))["access_token"]
        base = f"/api/exam/candidates/{member.candidate_id}"
        scored = await _get(api, person_token, f"{base}/result")
        assert scored["automatic"] is False and 0 <= scored["score"] <= scored["full_marks"], scored
        checks = await _get(api, proctor_token, f"{base}/live-checks")
        # oldest first: the same face's frames, then (the second browser) only the other face's
        states = [c["state"] for c in reversed(checks["items"]) if c["state"] != "pending"]
        first_other = states.index("mismatch")
        assert first_other >= 1 and set(states[:first_other]) == {"match"}, checks
        assert len(states[first_other:]) >= 3 and set(states[first_other:]) == {"mismatch"}, checks
        assert checks["consented"] is True, checks
        alerts = await _get(api, proctor_token, f"/api/exam/sessions/{session_id}/live-alerts")
        handled = [a["state"] for a in alerts["items"]]
        assert handled.count("violation_recorded") == 1, alerts
        assert set(handled) == {"dismissed", "violation_recorded"}, alerts
        violations = await _get(api, proctor_token, f"/api/exam/violations?id_number={member.id_number}")
        [violation] = violations["items"]
        assert violation["candidate_id"] == member.candidate_id and violation["evidence_keys"], violation
        distances = [c["distance"] for c in checks["items"] if c["distance"] is not None]
        print(f"exam room: score {scored['score']}, live-check distances {distances}")
