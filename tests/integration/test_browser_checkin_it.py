"""The check-in desk in a real browser with Chromium's fake camera. Prepared here: the platform, a cohort
that applied for the exam (exam_support) with two of its candidates seated, and a proctor's login. Then
web/e2e/checkin.spec.ts logs in as the institution and verifies one candidate whose camera shows another photo
of the same person (obama2.jpg against the enrolled obama.jpg: 核验通过), refuses a different person's face
(biden.jpg: the distance, the tries left) three times, lets the proctor override with a written reason and
records a violation with evidence; it also imports a question bank with an error (the row table), creates a
session and seats the third candidate, and shows the camera refused in Chinese.
Each camera: a `.y4m` video made here from a labeled JPEG (Chromium's `--use-file-for-fake-video-capture`).
Screenshots in web/test-results/screens/checkin-*.png."""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

from . import test_browser_it as browser  # (a module: its test is not collected again here)
from .exam_support import FACES, ensure_demo_banks, exam_cohort, new_session, schedule
from .helpers import bearer, eventually, login

# a cohort (about 2 minutes), a build of the UI, then two Chromium launches and the face workers' answers
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]

PEOPLE = [
    ("张三", "男", date(1990, 5, 17)),
    ("李四", "男", date(1988, 3, 2)),
    ("王芳", "女", date(1992, 7, 9)),
]


def y4m(jpeg: Path, out: Path, *, width: int = 480, height: int = 640, frames: int = 30) -> Path:
    """A YUV4MPEG2 video (4:2:0, `frames` identical frames at 25 fps) of the face in `jpeg`: the face with a
    margin, cropped to the frame's aspect ratio, as a webcam in front of the person would show it."""
    from PIL import Image
    from servicekit import faces

    data = jpeg.read_bytes()
    found = faces.detect_faces(faces.decode_rgb(data))
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    if found:
        left, top, right, bottom = found[0].box
        cx, cy = (left + right) / 2, (top + bottom) / 2
        box_w = min((right - left) * 2.6, rgb.width)
        box_h = box_w * height / width
        if box_h > rgb.height:
            box_h, box_w = rgb.height, rgb.height * width / height
        x0 = min(max(0.0, cx - box_w / 2), rgb.width - box_w)
        y0 = min(max(0.0, cy - box_h * 0.45), rgb.height - box_h)
        rgb = rgb.crop((int(x0), int(y0), int(x0 + box_w), int(y0 + box_h)))
    frame = rgb.resize((width, height))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n")
            f.write(planes)
    return out


def test_y4m_header_and_frames(tmp_path: Path) -> None:
    video = y4m(FACES / "obama2.jpg", tmp_path / "obama2.y4m", frames=3)
    data = video.read_bytes()
    header, _, rest = data.partition(b"\n")
    assert header == b"YUV4MPEG2 W480 H640 F25:1 Ip A1:1 C420jpeg"
    frame = 480 * 640 * 3 // 2
    assert len(rest) == 3 * (len(b"FRAME\n") + frame)
    assert rest.startswith(b"FRAME\n") and rest[6 + frame :].startswith(b"FRAME\n")


def build_ui(attempts: int = 40) -> None:
    """`ensure_built`, waiting while another build of the same sources runs (Vite refuses a second one)."""
    for _ in range(attempts - 1):
        try:
            browser.ensure_built()
            return
        except AssertionError as exc:
            if "another Vite build process" not in str(exc):
                raise
            time.sleep(15)
    browser.ensure_built()


async def _status(api: httpx.AsyncClient, token: str, candidate_id: str) -> dict[str, Any]:
    r = await api.get(f"/api/exam/candidates/{candidate_id}/check-in", headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_check_in_desk_in_the_browser(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], tmp_path: Path
) -> None:
    if not browser.CHROMIUM.exists():
        pytest.fail(f"{browser.CHROMIUM} is missing: `make install` installs Debian's chromium (apt-get)")
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        cohort = await exam_cohort(api, admin, PEOPLE)
        matching, refused, spare = cohort.members
        await ensure_demo_banks(api, admin)
        session_id = await new_session(api, cohort.institution_token, seats=10, minutes_ahead=30)
        seated = await schedule(
            api, cohort.institution_token, session_id, [matching.candidate_id, refused.candidate_id]
        )
        assert seated.status_code == 200, seated.text

        async def listed_seated() -> bool:
            for member in (matching, refused):
                r = await api.get(
                    f"/api/exam/candidates/{member.candidate_id}", headers=bearer(cohort.institution_token)
                )
                if r.json().get("status") != "scheduled":
                    return False
            return True

        await eventually(listed_seated, what="the candidates' seats in the read model")

        # the proctor's own login for the browser (the cohort's institution account has a generated password)
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
        match_video = y4m(FACES / "obama2.jpg", tmp_path / "obama2.y4m")
        mismatch_video = y4m(FACES / "biden.jpg", tmp_path / "biden.y4m")
        env = {
            **os.environ,
            "BASE_URL": platform.url("gateway"),
            "CHROMIUM_PATH": str(browser.CHROMIUM),
            "CI": "1",
            "CHECKIN_FIXTURE": "1",
            "CHECKIN_USERNAME": username,
            "CHECKIN_PASSWORD": password,
            "CHECKIN_MATCH_ID": matching.candidate_id,
            "CHECKIN_MATCH_NAME": matching.name,
            "CHECKIN_MISMATCH_ID": refused.candidate_id,
            "CHECKIN_MISMATCH_NAME": refused.name,
            "CHECKIN_SPARE_NAME": spare.name,
            "CHECKIN_MATCH_Y4M": str(match_video),
            "CHECKIN_MISMATCH_Y4M": str(mismatch_video),
        }
        npx = shutil.which("npx") or "npx"
        result = browser.run([npx, "playwright", "test", "e2e/checkin.spec.ts"], env=env, timeout=1200)
        output = result.stdout + result.stderr
        print(output)
        assert result.returncode == 0, f"Playwright failed (see web/test-results):\n{output[-20000:]}"

        # what the browser did, read back from the API
        passed = await _status(api, cohort.institution_token, matching.candidate_id)
        assert passed["verified"] is True and passed["override"] is False, passed
        overridden = await _status(api, cohort.institution_token, refused.candidate_id)
        assert overridden["verified"] is True and overridden["override"] is True, overridden
        assert overridden["failures"] == overridden["max_attempts"] == 3, overridden
        recorded = await api.get(
            "/api/exam/violations",
            headers=bearer(cohort.institution_token),
            params={"id_number": refused.id_number},
        )
        assert recorded.status_code == 200, recorded.text
        [violation] = recorded.json()["items"]
        assert violation["candidate_id"] == refused.candidate_id and len(violation["evidence_keys"]) == 1
        last = overridden["last_failure"]
        assert last is not None and "face_mismatch" in last["reason_codes"], last
        print(
            f"check-in distances: obama2 vs enrolled obama {passed['distance']:.3f} (match); "
            f"biden vs enrolled obama {last['distance']:.3f} (mismatch)"
        )
        distances = re.findall(r"distance [0-9.]+", output)
        print("distances seen in the browser:", distances)
