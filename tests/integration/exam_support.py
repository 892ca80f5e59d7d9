"""Reusable exam steps on the real platform (the `platform` fixture, its face workers included).

The main entry point, for tests that need someone who passed the exam (e.g. certification):

    async def pass_exam(
        api: httpx.AsyncClient,            # a client on the gateway: platform.url("gateway")
        platform: ServiceProcesses,
        admin_token: str,
        *,
        name: str = "张三", gender: str = "男", birth: date = date(1990, 5, 17),
        position: str = "施工员", specialisation: str | None = "土建施工",
        password: str = "Kaoshi2026!",
    ) -> PassedExam

It goes the whole real path: an institution and an approved enterprise, a batch of one applicant whose
materials zip carries a head photo made from tests/fixtures/faces/obama.jpg, qualification, order, offline
payment, training plan, completion, the exam application (ExamApplied with the head photo), the demo question
banks, a session, the seat, check-in with obama2.jpg (the face workers verify it), the person's own account
(activation code), the exam, answered right from the drawn paper (read from the ExamStarted event in the exam
service's event store: the candidate's paper never shows the answers) and submitted after the 30-minute rule.
`PassedExam` has the person's ID number and password (log in with username = ID number), the person's,
the institution's and the enterprise's tokens, the candidate, applicant and attempt ids, and the score.

Time: the exam's clock is the server's. The platform runs the exam service with EXAM_TEST_CLOCK_OFFSET_FILE
(tests/integration/conftest.py); `exam_clock_offset` moves that clock forward (seconds) instead of waiting
for the session's start (starting opens then: docs/adr/0001-exam-clock.md) or for 30 or 120 minutes, and
`pass_exam` puts it back to 0 before returning.
"""

from __future__ import annotations

import functools
import io
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from servicekit.launcher import ServiceProcesses
from servicekit.mongo import create_client

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    make_id_number,
    new_account,
    pay_offline,
    publish_offer,
    upload_head_photos,
)

FACES = Path(__file__).resolve().parents[1] / "fixtures" / "faces"
OTHER_DOCUMENTS = ("报名表", "身份证正面", "身份证反面", "工作年限证明", "学历证书")


def face(name: str) -> bytes:
    """A labeled photo as it is (obama.jpg, obama2.jpg, obama3.jpg: one person; biden.jpg: another)."""
    return (FACES / f"{name}.jpg").read_bytes()


@functools.cache
def head_photo(name: str = "obama") -> bytes:
    """A head photo that passes enrollment's rules (295×413, white background, < 80 KB), made from a labeled
    photo: the face with some margin, centred on white."""
    from PIL import Image
    from servicekit import faces

    data = face(name)
    [found] = faces.detect_faces(faces.decode_rgb(data))[:1]
    left, top, right, bottom = found.box
    cx, cy, width = (left + right) / 2, (top + bottom) / 2, (right - left) * 1.9
    height = width * 7 / 5
    crop = (int(cx - width / 2), int(cy - height * 0.45), int(cx + width / 2), int(cy + height * 0.55))
    with Image.open(io.BytesIO(data)) as image:
        inner = image.convert("RGB").crop(crop).resize((245, 343))
    canvas = Image.new("RGB", (295, 413), (255, 255, 255))
    canvas.paste(inner, (25, 45))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=88)
    return out.getvalue()


@dataclass
class Member:
    name: str
    id_number: str
    applicant_id: str = ""
    candidate_id: str = ""


@dataclass
class Cohort:
    institution_id: str
    institution_token: str
    enterprise_id: str
    enterprise_token: str
    plan_id: str
    members: list[Member] = field(default_factory=list)


async def exam_cohort(
    api: httpx.AsyncClient,
    admin_token: str,
    people: Sequence[tuple[str, str, date]],
    *,
    position: str = "施工员",
    specialisation: str | None = "土建施工",
    photo: str = "obama",
) -> Cohort:
    """People (name, gender, birth) enrolled, paid, trained and applied for the exam with a head photo made
    from `photo`; returns when the exam service lists them as candidates."""
    institution_id = f"inst-ex-{uuid.uuid4().hex[:6]}"
    institution_token = await new_account(api, admin_token, "institution", org_id=institution_id, city="杭州")
    await publish_offer(api, institution_token, name="考试测试培训学校")
    signup = await approved_enterprise(api, admin_token)
    enterprise_token, enterprise_id = signup["access_token"], signup["org_id"]
    enterprise, institution = bearer(enterprise_token), bearer(institution_token)
    members = [Member(name, make_id_number(birth, male=gender == "男")) for name, gender, birth in people]
    batch = {
        "institution_id": institution_id,
        "position": position,
        "specialisation": specialisation,
        "training_mode": "offline",
        "applicants": [
            {
                "name": m.name,
                "gender": gender,
                "id_number": m.id_number,
                "mobile": f"139{uuid.uuid4().int % 10**8:08d}",
                "education": "大专",
                "employer": "杭州建工集团有限公司",
            }
            for m, (_, gender, _) in zip(members, people, strict=True)
        ],
    }

    async def imported() -> dict[str, Any] | None:
        r = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
        assert r.status_code in (201, 403), r.text
        return r.json() if r.status_code == 201 else None

    created = await eventually(imported, what="enrollment to accept the approved enterprise")
    for member, applicant_id in zip(members, created["applicant_ids"], strict=True):
        member.applicant_id = applicant_id
    uploaded = await upload_head_photos(
        api,
        enterprise_token,
        created["batch_id"],
        [m.id_number for m in members],
        photo=head_photo(photo),
        documents=OTHER_DOCUMENTS,
    )
    assert uploaded["photo_failures"] == 0, uploaded
    ids = [m.applicant_id for m in members]
    for applicant_id in ids:
        r = await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution)
        assert r.status_code == 204, r.text

    async def ordered() -> dict[str, Any] | None:
        r = await api.post(
            "/api/payment/orders",
            headers=enterprise,
            json={"institution_id": institution_id, "applicant_ids": ids},
        )
        return r.json() if r.status_code == 201 else None

    order = await eventually(ordered, what="an order for the qualified applicants")
    confirmed = await pay_offline(api, enterprise_token, institution_token, order["order_id"])
    assert confirmed.status_code == 204, confirmed.text

    async def all_enrolled() -> bool:
        for applicant_id in ids:
            r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)
            if r.json()["status"] != "enrolled":
                return False
        return True

    await eventually(all_enrolled, what="the applicants to be enrolled")
    plan_id = await plan_and_complete(api, institution_token, position, ids)
    await apply_for_exam(api, institution_token, plan_id, ids)
    cohort = Cohort(institution_id, institution_token, enterprise_id, enterprise_token, plan_id, members)
    for member in members:
        member.candidate_id = await candidate_of(api, institution_token, member.applicant_id)
    return cohort


async def plan_and_complete(
    api: httpx.AsyncClient, institution_token: str, position: str, ids: list[str]
) -> str:
    today = datetime.now(timezone(timedelta(hours=8))).date()
    plan = await api.post(
        "/api/enrollment/training-plans",
        headers=bearer(institution_token),
        json={
            "name": f"{position}线下培训班",
            "training_mode": "offline",
            "position": position,
            "starts_on": (today - timedelta(days=1)).isoformat(),
            "ends_on": (today + timedelta(days=4)).isoformat(),
            "place": "杭州市西湖区文三路 90 号 3 楼",
            "schedule": "每天 9:00-12:00、13:30-17:00",
        },
    )
    assert plan.status_code == 201, plan.text
    plan_id = str(plan.json()["plan_id"])
    for step in ("trainees", "completion"):
        done = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/{step}",
            headers=bearer(institution_token),
            json={"applicant_ids": ids},
        )
        assert done.status_code in (200, 201), f"{step}: {done.text}"
    return plan_id


async def apply_for_exam(
    api: httpx.AsyncClient, institution_token: str, plan_id: str, ids: list[str]
) -> dict[str, Any]:
    """ExamApplied for these applicants (the first time, or again after a failed exam: 补考)."""
    applied = await api.post(
        f"/api/enrollment/training-plans/{plan_id}/apply-exam",
        headers=bearer(institution_token),
        json={"applicant_ids": ids},
    )
    assert applied.status_code == 200, applied.text
    assert sorted(applied.json()["applied"]) == sorted(ids), applied.json()
    return dict(applied.json())


async def candidate_of(
    api: httpx.AsyncClient, institution_token: str, applicant_id: str, *, exclude: Sequence[str] = ()
) -> str:
    """The (newest) exam candidate of an applicant, once the exam service has it."""

    async def listed() -> str | None:
        r = await api.get(
            "/api/exam/candidates", headers=bearer(institution_token), params={"applicant_id": applicant_id}
        )
        assert r.status_code == 200, r.text
        fresh = [i["candidate_id"] for i in r.json()["items"] if i["candidate_id"] not in exclude]
        return fresh[0] if fresh else None

    return await eventually(listed, what="the exam service to list the candidate")


async def activate_person(
    api: httpx.AsyncClient, institution_token: str, id_number: str, password: str
) -> str:
    """The person's own account (one-time code from the institution); returns the person's access token."""

    async def issue_code() -> str | None:
        r = await api.post(
            f"/api/gateway/persons/{id_number}/activation-code", headers=bearer(institution_token)
        )
        return str(r.json()["code"]) if r.status_code == 200 else None

    code = await eventually(issue_code, what="the gateway to know the person")
    activated = await api.post(
        "/api/gateway/auth/activate", json={"id_number": id_number, "code": code, "password": password}
    )
    assert activated.status_code == 200, activated.text
    return str(activated.json()["access_token"])


async def ensure_demo_banks(api: httpx.AsyncClient, admin_token: str, position: str = "施工员") -> None:
    r = await api.post("/api/exam/banks/demo", headers=bearer(admin_token))
    assert r.status_code == 200, r.text

    async def usable() -> bool:
        banks = await api.get("/api/exam/banks", headers=bearer(admin_token), params={"position": position})
        return any(b.get("complete", True) and not b.get("retired") for b in banks.json()["items"])

    await eventually(usable, what="the demo banks in the exam's read model")


async def new_session(
    api: httpx.AsyncClient,
    institution_token: str,
    *,
    position: str = "施工员",
    specialisation: str | None = None,
    seats: int = 10,
    minutes_ahead: int = 10,
) -> str:
    created = await api.post(
        "/api/exam/sessions",
        headers=bearer(institution_token),
        json={
            "position": position,
            "specialisation": specialisation,
            "starts_at": (datetime.now(UTC) + timedelta(minutes=minutes_ahead)).isoformat(),
            "room": "第一考场",
            "address": "杭州市西湖区文三路 90 号考点",
            "seats": seats,
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["session_id"])


async def schedule(
    api: httpx.AsyncClient, institution_token: str, session_id: str, candidate_ids: Sequence[str]
) -> httpx.Response:
    return await api.post(
        f"/api/exam/sessions/{session_id}/candidates",
        headers=bearer(institution_token),
        json={"candidate_ids": list(candidate_ids)},
    )


async def check_in(api: httpx.AsyncClient, token: str, candidate_id: str, frame: bytes) -> dict[str, Any]:
    """Upload a live frame and wait for the face worker's answer; returns the check-in status."""
    sent = await api.post(
        f"/api/exam/candidates/{candidate_id}/check-in",
        headers=bearer(token),
        files={"frame": ("frame.jpg", frame, "image/jpeg")},
    )
    assert sent.status_code == 202, sent.text
    check_id = sent.json()["check_id"]

    async def answered() -> dict[str, Any] | None:
        r = await api.get(f"/api/exam/candidates/{candidate_id}/check-in", headers=bearer(token))
        assert r.status_code == 200, r.text
        status: dict[str, Any] = r.json()
        done = status["verified"] or (status["last_failure"] or {}).get("check_id") == check_id
        return status if done and status["pending_check_id"] is None else None

    return await eventually(answered, timeout=120, what="the face worker's answer")


async def drawn_answers(platform: ServiceProcesses, candidate_id: str) -> dict[str, list[int]]:
    """The right answers of a candidate's drawn paper, from ExamStarted in the exam's own event store (the
    candidate's paper never shows them; a test may look behind it)."""
    client = create_client(platform.env["MONGO_URL"])
    try:
        doc = await client[platform.env.get("EXAM_MONGO_DATABASE", "exam")]["events"].find_one(
            {"stream_id": f"candidate-{candidate_id}", "type": "exam.ExamStarted.v1"}
        )
    finally:
        await client.close()
    assert doc is not None, "no ExamStarted for this candidate"
    return {q["question_id"]: list(q["answer"]) for q in doc["data"]["questions"]}


@contextmanager
def exam_clock_offset(platform: ServiceProcesses, seconds: float) -> Iterator[None]:
    """Move the exam service's clock `seconds` forward for the block (back to 0 after it)."""
    path = Path(platform.env["EXAM_TEST_CLOCK_OFFSET_FILE"])
    path.write_text(str(seconds))
    try:
        yield
    finally:
        path.write_text("0")


async def seconds_to_session_start(api: httpx.AsyncClient, token: str, candidate_id: str) -> float:
    """How far the exam's clock must move for the candidate's session to have started (starting the exam
    opens at the session's start), one second to spare; 0 if it has started."""
    r = await api.get(f"/api/exam/candidates/{candidate_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    starts_at = datetime.fromisoformat(r.json()["session"]["starts_at"])
    if starts_at.tzinfo is None:
        starts_at = starts_at.replace(tzinfo=UTC)
    return max(0.0, (starts_at - datetime.now(UTC)).total_seconds() + 1)


@dataclass
class PassedExam:
    id_number: str
    password: str  # the person logs in with username = ID number and this password
    name: str
    person_token: str
    institution_id: str
    institution_token: str
    enterprise_id: str
    enterprise_token: str
    applicant_id: str
    candidate_id: str
    attempt_id: str
    score: int
    result: dict[str, Any]


async def take_exam(
    api: httpx.AsyncClient,
    platform: ServiceProcesses,
    *,
    institution_token: str,
    person_token: str,
    candidate_id: str,
    frame: bytes | None = None,
    correct: bool = True,
) -> dict[str, Any]:
    """A scheduled candidate checks in (obama2.jpg by default), starts at the session's start, answers (all
    right, or all wrong), and submits once the 30 minutes are over (the exam's clock moved forward); returns
    the submit answer."""
    status = await check_in(api, institution_token, candidate_id, frame or face("obama2"))
    assert status["verified"], status
    lead = await seconds_to_session_start(api, institution_token, candidate_id)
    with exam_clock_offset(platform, lead):
        started = await api.post(f"/api/exam/candidates/{candidate_id}/start", headers=bearer(person_token))
        assert started.status_code == 201, started.text
        paper = started.json()
        right = await drawn_answers(platform, candidate_id)
        answers = {}
        for q in paper["questions"]:
            wrong = [i for i in range(len(q["options"])) if [i] != right[q["question_id"]]][:1]
            answers[q["question_id"]] = right[q["question_id"]] if correct else wrong
        saved = await api.put(
            f"/api/exam/candidates/{candidate_id}/answers",
            headers=bearer(person_token),
            json={"answers": answers},
        )
        assert saved.status_code == 200, saved.text
    with exam_clock_offset(platform, lead + 30 * 60 + 1):
        submitted = await api.post(
            f"/api/exam/candidates/{candidate_id}/submit", headers=bearer(person_token)
        )
    assert submitted.status_code == 200, submitted.text
    return dict(submitted.json())


async def pass_exam(
    api: httpx.AsyncClient,
    platform: ServiceProcesses,
    admin_token: str,
    *,
    name: str = "张三",
    gender: str = "男",
    birth: date = date(1990, 5, 17),
    position: str = "施工员",
    specialisation: str | None = "土建施工",
    password: str = "Kaoshi2026!",
) -> PassedExam:
    """Someone who passed the exam by the real path (see the module docstring)."""
    cohort = await exam_cohort(
        api, admin_token, [(name, gender, birth)], position=position, specialisation=specialisation
    )
    member = cohort.members[0]
    await ensure_demo_banks(api, admin_token, position)
    session_id = await new_session(api, cohort.institution_token, position=position)
    seated = await schedule(api, cohort.institution_token, session_id, [member.candidate_id])
    assert seated.status_code == 200, seated.text
    person_token = await activate_person(api, cohort.institution_token, member.id_number, password)
    result = await take_exam(
        api,
        platform,
        institution_token=cohort.institution_token,
        person_token=person_token,
        candidate_id=member.candidate_id,
    )
    assert result["passed"] is True, result
    return PassedExam(
        id_number=member.id_number,
        password=password,
        name=name,
        person_token=person_token,
        institution_id=cohort.institution_id,
        institution_token=cohort.institution_token,
        enterprise_id=cohort.enterprise_id,
        enterprise_token=cohort.enterprise_token,
        applicant_id=member.applicant_id,
        candidate_id=member.candidate_id,
        attempt_id=result["attempt_id"],
        score=result["score"],
        result=result,
    )


__all__ = [
    "Cohort",
    "Member",
    "PassedExam",
    "activate_person",
    "apply_for_exam",
    "candidate_of",
    "check_in",
    "drawn_answers",
    "ensure_demo_banks",
    "exam_clock_offset",
    "exam_cohort",
    "face",
    "head_photo",
    "new_session",
    "pass_exam",
    "schedule",
    "seconds_to_session_start",
    "take_exam",
]


def set_exam_clock(platform: ServiceProcesses, seconds: float) -> None:
    """Set the exam service's clock offset (seconds ahead of the real clock) until set again; a test that
    uses it puts it back to 0 at its end (`exam_clock_offset` does both for a block)."""
    Path(platform.env["EXAM_TEST_CLOCK_OFFSET_FILE"]).write_text(str(seconds))


@dataclass
class ExamRoom:
    """A cohort seated in one session, checked in and with the exam started (the exam's clock moved to the
    session's start: `lead` seconds ahead, still set when `exam_room` returns)."""

    cohort: Cohort
    session_id: str
    person_tokens: dict[str, str]  # candidate id → the person's access token
    lead: float


async def exam_room(
    api: httpx.AsyncClient,
    platform: ServiceProcesses,
    admin_token: str,
    people: Sequence[tuple[str, str, date]],
    *,
    frame: bytes | None = None,
    concurrency: int = 8,
    password: str = "Kaoshi2026!",
    progress: Callable[[str], None] = lambda _: None,
) -> ExamRoom:
    """People (name, gender, birth) through the whole pipeline into one session (exam_cohort), each with an
    account, checked in by the institution with `frame` (obama2.jpg: the face workers verify it) and started,
    `concurrency` at a time. The exam's clock is left at the session's start (`set_exam_clock`)."""
    import asyncio

    await ensure_demo_banks(api, admin_token)
    cohort = await (large_exam_cohort if len(people) > 25 else exam_cohort)(api, admin_token, people)
    progress(f"{len(people)} candidates applied for the exam")
    session_id = await new_session(api, cohort.institution_token, seats=len(people))
    seated = await schedule(
        api, cohort.institution_token, session_id, [m.candidate_id for m in cohort.members]
    )
    assert seated.status_code == 200, seated.text
    limit = asyncio.Semaphore(concurrency)

    async def prepare(member: Member) -> str:
        async with limit:
            token = await activate_person(api, cohort.institution_token, member.id_number, password)
            status = await check_in(
                api, cohort.institution_token, member.candidate_id, frame or face("obama2")
            )
            assert status["verified"], status
            return token

    tokens = await asyncio.gather(*(prepare(m) for m in cohort.members))
    progress("accounts made, everyone checked in")
    lead = await seconds_to_session_start(api, cohort.institution_token, cohort.members[0].candidate_id)
    set_exam_clock(platform, lead)

    async def start(member: Member, token: str) -> None:
        async with limit:
            started = await api.post(
                f"/api/exam/candidates/{member.candidate_id}/start", headers=bearer(token)
            )
            assert started.status_code == 201, started.text

    await asyncio.gather(*(start(m, t) for m, t in zip(cohort.members, tokens, strict=True)))
    by_candidate = {m.candidate_id: t for m, t in zip(cohort.members, tokens, strict=True)}
    return ExamRoom(cohort, session_id, by_candidate, lead)


async def large_exam_cohort(
    api: httpx.AsyncClient,
    admin_token: str,
    people: Sequence[tuple[str, str, date]],
    *,
    batch_size: int = 25,
    concurrency: int = 8,
    position: str = "施工员",
    specialisation: str | None = "土建施工",
    photo: str = "obama",
) -> Cohort:
    """`exam_cohort` for many people (one institution, one enterprise): the applicants imported and their
    materials uploaded in batches of `batch_size` (each materials job stays small), the per-applicant steps
    (qualification, enrollment, the candidate's id) `concurrency` at a time."""
    import asyncio

    institution_id = f"inst-ex-{uuid.uuid4().hex[:6]}"
    institution_token = await new_account(api, admin_token, "institution", org_id=institution_id, city="杭州")
    await publish_offer(api, institution_token, name="考试测试培训学校")
    signup = await approved_enterprise(api, admin_token)
    enterprise_token, enterprise_id = signup["access_token"], signup["org_id"]
    enterprise, institution = bearer(enterprise_token), bearer(institution_token)
    members = [Member(name, make_id_number(birth, male=gender == "男")) for name, gender, birth in people]
    genders = [gender for _, gender, _ in people]
    limit = asyncio.Semaphore(concurrency)

    for start in range(0, len(members), batch_size):
        chunk = members[start : start + batch_size]
        batch = {
            "institution_id": institution_id,
            "position": position,
            "specialisation": specialisation,
            "training_mode": "offline",
            "applicants": [
                {
                    "name": m.name,
                    "gender": gender,
                    "id_number": m.id_number,
                    "mobile": f"139{uuid.uuid4().int % 10**8:08d}",
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                }
                for m, gender in zip(chunk, genders[start : start + batch_size], strict=True)
            ],
        }

        async def imported(batch: dict[str, Any] = batch) -> dict[str, Any] | None:
            r = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
            assert r.status_code in (201, 403), r.text
            return r.json() if r.status_code == 201 else None

        created = await eventually(imported, what="enrollment to accept the approved enterprise")
        for member, applicant_id in zip(chunk, created["applicant_ids"], strict=True):
            member.applicant_id = applicant_id
        uploaded = await upload_head_photos(
            api,
            enterprise_token,
            created["batch_id"],
            [m.id_number for m in chunk],
            photo=head_photo(photo),
            documents=OTHER_DOCUMENTS,
        )
        assert uploaded["photo_failures"] == 0, uploaded
    ids = [m.applicant_id for m in members]

    async def qualify(applicant_id: str) -> None:
        async with limit:
            r = await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution)
            assert r.status_code == 204, r.text

    await asyncio.gather(*(qualify(i) for i in ids))

    async def ordered() -> dict[str, Any] | None:
        r = await api.post(
            "/api/payment/orders",
            headers=enterprise,
            json={"institution_id": institution_id, "applicant_ids": ids},
        )
        return r.json() if r.status_code == 201 else None

    order = await eventually(ordered, what="an order for the qualified applicants")
    confirmed = await pay_offline(api, enterprise_token, institution_token, order["order_id"])
    assert confirmed.status_code == 204, confirmed.text

    async def enrolled(applicant_id: str) -> None:
        async def probe() -> bool:
            async with limit:
                r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)
            return bool(r.json()["status"] == "enrolled")

        await eventually(probe, timeout=180, what="the applicant to be enrolled")

    await asyncio.gather(*(enrolled(i) for i in ids))
    plan_id = await plan_and_complete(api, institution_token, position, ids)
    await apply_for_exam(api, institution_token, plan_id, ids)
    cohort = Cohort(institution_id, institution_token, enterprise_id, enterprise_token, plan_id, members)

    async def candidate(member: Member) -> None:
        async with limit:
            member.candidate_id = await candidate_of(api, institution_token, member.applicant_id)

    await asyncio.gather(*(candidate(m) for m in members))
    return cohort
