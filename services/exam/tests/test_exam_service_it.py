"""The exam service alone on the real stack with an injected clock: racing seat assignments (the last seat
goes to one of them), one candidate racing into two sessions, check-in refused without a head photo and the
proctor's override, the paper without answers, autosave, the 30-minute rule, and the automatic submission
at the deadline (by the sweeper, and lazily on a request), with one result per attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from events import Envelope, ExamApplied
from exam.application.attempts import sweep
from exam.application.context import candidate_stream
from exam.main import build_app
from exam.projections.attempts import ATTEMPTS
from exam.projections.candidates import candidates
from exam.settings import ExamSettings
from servicekit.auth import Identity, Role, TokenCodec
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session, in_transaction
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.testing import running_app, unique_name

pytestmark = pytest.mark.integration

T = TypeVar("T")


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: last={last!r}")


async def applied(runtime: ServiceRuntime, n: int, *, photo: bool) -> tuple[str, str]:
    """A candidate as enrollment's ExamApplied makes it (through the projection's own handler)."""
    id_number = f"33010619900517{n:03d}{n % 10}"
    event = ExamApplied(
        applicant_id=f"app-{n}-{unique_name('a')}",
        enterprise_id="ent-1",
        institution_id="inst-1",
        id_number=id_number,
        name=f"考生{n}",
        gender="男",
        position="安全员",
        head_photo_bucket="enrollment" if photo else None,
        head_photo_key=f"materials/{n}/头像.jpg" if photo else None,
    )
    envelope = Envelope.for_event(event, subject=f"applicant-{event.applicant_id}", source="/enrollment")
    projection = candidates(runtime.settings.database_name)

    async def work(session: Session) -> None:
        await projection.handlers.dispatch(ReceivedEvent(envelope, event, "enrollment.events", 0, 0), session)

    await in_transaction(runtime.client, work)
    return envelope.id, id_number


async def test_exam_service_with_a_movable_clock(
    make_settings: Callable[..., ServiceSettings], jwt_secret: str
) -> None:
    values = make_settings(unique_name("exam"), kafka_session_timeout_ms=2000).model_dump()
    values["exam_sweep_seconds"] = 0.3
    settings = ExamSettings(**values)
    codec = TokenCodec(jwt_secret, settings.jwt_issuer)

    def bearer(role: Role, org: str | None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {codec.issue(Identity(f'acc-{role.value}-{org}', role, org_id=org))}"
        }

    clock = MovableClock(datetime.now(UTC).replace(microsecond=0))
    admin, institution = bearer(Role.ADMIN, None), bearer(Role.INSTITUTION, "inst-1")
    other_institution = bearer(Role.INSTITUTION, "inst-2")
    app = build_app(settings, clock=clock)
    runtime: ServiceRuntime = app.state.runtime

    async with running_app(app) as client:
        assert (await client.post("/api/exam/banks/demo", headers=admin)).status_code == 200

        async def bank_ready() -> bool:
            r = await client.get("/api/exam/banks", headers=admin, params={"position": "安全员"})
            return bool(r.json()["items"])

        await eventually(bank_ready, "the demo bank in the read model")
        people = [await applied(runtime, n, photo=n not in (1, 5)) for n in range(1, 6)]
        (c1, id1), (c2, _), (c3, _), (c4, _), (c5, id5) = people

        async def session(seats: int, minutes: int = 10) -> str:
            r = await client.post(
                "/api/exam/sessions",
                headers=institution,
                json={
                    "position": "安全员",
                    "starts_at": (clock.now + timedelta(minutes=minutes)).isoformat(),
                    "room": "第一考场",
                    "address": "杭州市西湖区文三路 90 号",
                    "seats": seats,
                },
            )
            assert r.status_code == 201, r.text
            return str(r.json()["session_id"])

        async def assign(session_id: str, *ids: str, headers: dict[str, str] = institution) -> httpx.Response:
            return await client.post(
                f"/api/exam/sessions/{session_id}/candidates",
                headers=headers,
                json={"candidate_ids": list(ids)},
            )

        # two assignments race for the last seat: exactly one gets it
        small = await session(seats=2)
        first = await assign(small, c1)
        assert first.status_code == 200 and first.json()["scheduled"][0]["seat"] == 1, first.text
        raced = await asyncio.gather(assign(small, c2), assign(small, c3))
        assert sorted(r.status_code for r in raced) == [200, 409], [r.text for r in raced]
        loser = next(r for r in raced if r.status_code == 409)
        assert loser.json()["code"] == "session_full"
        winner = next(r for r in raced if r.status_code == 200)
        assert winner.json()["scheduled"][0]["seat"] == 2
        seated = await runtime.store.load_events("session-" + small)
        assert sorted(getattr(e, "seat", 0) for e in seated[0]) == [0, 1, 2]

        # one candidate raced into two sessions: one seat only
        b, c = await session(seats=5, minutes=20), await session(seats=5, minutes=30)
        both = await asyncio.gather(assign(b, c4), assign(c, c4))
        assert sorted(r.status_code for r in both) == [200, 422], [r.text for r in both]
        refused = next(r for r in both if r.status_code == 422).json()
        assert refused["code"] == "schedule_refused" and refused["errors"][0]["code"] == "already_scheduled"
        assert (await assign(small, c5, headers=other_institution)).status_code == 404
        seat5 = await assign(b, c5)
        assert seat5.status_code == 200, seat5.text

        # check-in: no head photo → a clear refusal; the proctor verifies by hand with a reason
        person1, person5 = bearer(Role.PERSON, id1), bearer(Role.PERSON, id5)
        from io import BytesIO

        from PIL import Image

        frame = BytesIO()
        Image.new("RGB", (320, 240), (200, 180, 160)).save(frame, "JPEG")
        no_photo = await client.post(
            f"/api/exam/candidates/{c1}/check-in",
            headers=institution,
            files={"frame": ("frame.jpg", frame.getvalue(), "image/jpeg")},
        )
        assert no_photo.status_code == 409 and no_photo.json()["code"] == "no_head_photo", no_photo.text
        not_jpeg = await client.post(
            f"/api/exam/candidates/{c1}/check-in",
            headers=institution,
            files={"frame": ("frame.jpg", b"GIF89a....", "image/jpeg")},
        )
        assert not_jpeg.status_code == 422 and not_jpeg.json()["code"] == "frame_not_jpeg"
        assert (await client.post(f"/api/exam/candidates/{c1}/start", headers=person1)).json()[
            "code"
        ] == "not_verified"
        short = await client.post(
            f"/api/exam/candidates/{c1}/override", headers=institution, json={"reason": "好"}
        )
        assert short.status_code == 422 and short.json()["code"] == "reason_too_short"
        for candidate_id in (c1, c5):
            done = await client.post(
                f"/api/exam/candidates/{candidate_id}/override",
                headers=institution,
                json={"reason": "无报名头像，已核对身份证原件"},
            )
            assert done.status_code == 200 and done.json()["verified"] and done.json()["override"], done.text

        # start: not before the session's start (check-in opens earlier); c1's session starts in 10 minutes,
        # c5's in 20: at +20 both may start (c1 10 minutes late, within the late limit)
        early = await client.post(f"/api/exam/candidates/{c1}/start", headers=person1)
        assert early.status_code == 409 and early.json()["code"] == "session_not_started", early.text
        assert (
            early.json()["errors"]["seconds_until_start"] == 600
            and "还需等待 10 分钟" in early.json()["detail"]
        )
        clock.now += timedelta(minutes=20)
        # the paper never shows the answers; a stranger cannot see it
        started = await client.post(f"/api/exam/candidates/{c1}/start", headers=person1)
        assert started.status_code == 201, started.text
        paper = started.json()
        assert paper["demo_timing"] is False
        assert len(paper["questions"]) == 45 and all("answer" not in q for q in paper["questions"])
        assert "answer" not in started.text.replace('"answers"', "")
        assert (await client.get(f"/api/exam/candidates/{c1}/paper", headers=person5)).status_code == 404
        again = await client.post(f"/api/exam/candidates/{c1}/start", headers=person1)
        assert again.json()["attempt_id"] == paper["attempt_id"], "starting twice keeps the same attempt"
        assert (await client.post(f"/api/exam/candidates/{c5}/start", headers=person5)).status_code == 201

        # autosave checks the questions; submitting at once is refused with the time left
        q = paper["questions"][0]
        saved = await client.put(
            f"/api/exam/candidates/{c1}/answers", headers=person1, json={"answers": {q["question_id"]: [0]}}
        )
        assert saved.status_code == 200 and saved.json()["answered"] == 1, saved.text
        bad = await client.put(
            f"/api/exam/candidates/{c1}/answers", headers=person1, json={"answers": {"x": [0]}}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "unknown_question"
        clock.now += timedelta(minutes=29, seconds=59)
        early = await client.post(f"/api/exam/candidates/{c1}/submit", headers=person1)
        assert early.status_code == 409 and early.json()["code"] == "submit_too_early"
        assert early.json()["errors"]["seconds_left"] == 1 and "还需等待 1 分钟" in early.json()["detail"]

        async def both_running() -> bool:
            running = await runtime.db[ATTEMPTS].count_documents({"status": "in_progress"})
            return running == 2

        await eventually(both_running, "the attempts read model")

        # the time runs out: sweepers race (the app's own and three more, as other replicas would), a request
        # comes for c1 (submitted lazily unless a sweeper was first): one automatic result each
        clock.now += timedelta(minutes=91)
        raced = await asyncio.gather(
            *(sweep(runtime.store, rules=app.state.rules, now=clock.now) for _ in range(3))
        )
        swept_ids = [cid for done in raced for cid in done]
        assert len(swept_ids) == len(set(swept_ids)) and set(swept_ids) <= {c1, c5}
        view = await client.get(f"/api/exam/candidates/{c1}/paper", headers=person1)
        assert view.status_code == 200 and view.json()["submitted"] is True
        result = view.json()["result"]
        assert result["automatic"] is True and result["passed"] is False
        assert result["submitted_at"] == paper["deadline"]
        late = await client.put(
            f"/api/exam/candidates/{c1}/answers", headers=person1, json={"answers": {q["question_id"]: [1]}}
        )
        assert late.status_code == 409 and late.json()["code"] == "time_up"
        same = await client.post(f"/api/exam/candidates/{c1}/submit", headers=person1)
        assert same.status_code == 200 and same.json() == result

        async def swept() -> list[Any] | None:
            history, _ = await runtime.store.load_events(candidate_stream(c5))
            results = [e for e in history if type(e).__name__ in ("ExamPassed", "ExamFailed")]
            return results or None

        [auto] = await eventually(swept, "the sweeper to submit c5")
        assert auto.automatic is True and auto.score == 0
        await asyncio.sleep(1)  # the app's sweeper ran again meanwhile: still one result each
        for candidate_id in (c1, c5):
            history, _ = await runtime.store.load_events(candidate_stream(candidate_id))
            assert sum(type(e).__name__ in ("ExamPassed", "ExamFailed") for e in history) == 1

        async def listed() -> list[dict[str, Any]] | None:
            r = await client.get("/api/exam/candidates", headers=institution, params={"status": "failed"})
            items: list[dict[str, Any]] = r.json()["items"]
            return items if {i["candidate_id"] for i in items} == {c1, c5} else None

        rows = {i["candidate_id"]: i for i in await eventually(listed, "the failed candidates")}
        assert rows[c1]["automatic"] is True and rows[c1]["status_label"] == "不合格"
        mine = (await client.get("/api/exam/me/schedule", headers=person1)).json()["items"]
        assert [(i["candidate_id"], i["result"], i["session"]["seat"]) for i in mine] == [(c1, "failed", 1)]


async def test_autosave_leaves_the_candidate_stream_alone(
    make_settings: Callable[..., ServiceSettings], jwt_secret: str
) -> None:
    """K autosaves append nothing to the candidate's stream (no AnswersSaved, same length whatever K), each
    request reads the stream at most once (a save: not at all), the submission scores the last save, a stale
    save never overwrites a newer one, a save racing the submission is in the result or refused, and a save
    after the submission is refused."""
    values = make_settings(unique_name("exam"), kafka_session_timeout_ms=2000).model_dump()
    values["exam_sweep_seconds"] = 0
    settings = ExamSettings(**values)
    codec = TokenCodec(jwt_secret, settings.jwt_issuer)

    def bearer(role: Role, org: str | None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {codec.issue(Identity(f'acc-{role.value}-{org}', role, org_id=org))}"
        }

    clock = MovableClock(datetime.now(UTC).replace(microsecond=0))
    admin, institution = bearer(Role.ADMIN, None), bearer(Role.INSTITUTION, "inst-1")
    app = build_app(settings, clock=clock)
    runtime: ServiceRuntime = app.state.runtime
    events = runtime.db["events"]

    reads: dict[str, int] = {}
    load_events = runtime.store.load_events

    async def counted(stream_id: str, **kw: Any) -> Any:
        reads[stream_id] = reads.get(stream_id, 0) + 1
        return await load_events(stream_id, **kw)

    runtime.store.load_events = counted

    async def stream_types(candidate_id: str) -> list[str]:
        cursor = events.find({"stream_id": candidate_stream(candidate_id)}).sort("version", 1)
        return [str(doc["type"]).split(".")[1] async for doc in cursor]

    async with running_app(app) as client:
        assert (await client.post("/api/exam/banks/demo", headers=admin)).status_code == 200

        async def bank_ready() -> bool:
            r = await client.get("/api/exam/banks", headers=admin, params={"position": "安全员"})
            return bool(r.json()["items"])

        await eventually(bank_ready, "the demo bank in the read model")
        (c1, id1), (c2, id2) = [await applied(runtime, n, photo=False) for n in (11, 12)]
        created = await client.post(
            "/api/exam/sessions",
            headers=institution,
            json={
                "position": "安全员",
                "starts_at": (clock.now + timedelta(minutes=10)).isoformat(),
                "room": "第二考场",
                "address": "杭州市西湖区文三路 90 号",
                "seats": 5,
            },
        )
        assert created.status_code == 201, created.text
        seated = await client.post(
            f"/api/exam/sessions/{created.json()['session_id']}/candidates",
            headers=institution,
            json={"candidate_ids": [c1, c2]},
        )
        assert seated.status_code == 200, seated.text
        person1, person2 = bearer(Role.PERSON, id1), bearer(Role.PERSON, id2)
        clock.now += timedelta(minutes=10)  # the session's start: starting opens
        papers = {}
        for candidate_id, person in ((c1, person1), (c2, person2)):
            done = await client.post(
                f"/api/exam/candidates/{candidate_id}/override",
                headers=institution,
                json={"reason": "无报名头像，已核对身份证原件"},
            )
            assert done.status_code == 200 and done.json()["verified"], done.text
            reads.clear()
            started = await client.post(f"/api/exam/candidates/{candidate_id}/start", headers=person)
            assert started.status_code == 201, started.text
            assert reads.get(candidate_stream(candidate_id)) == 1, reads
            papers[candidate_id] = started.json()

        key = await events.find_one({"stream_id": candidate_stream(c1), "type": "exam.ExamStarted.v1"})
        assert key is not None
        right = {q["question_id"]: list(q["answer"]) for q in key["data"]["questions"]}
        wrong = {
            q["question_id"]: [next(i for i in range(len(q["options"])) if [i] != right[q["question_id"]])]
            for q in papers[c1]["questions"]
        }
        before = await stream_types(c1)
        assert before[-1] == "ExamStarted"

        # K autosaves, every 15 s; the last one has every answer right
        k = 24
        save_no = papers[c1]["save_no"]
        ids = list(right)
        reads.clear()
        for i in range(1, k + 1):
            clock.now += timedelta(seconds=15)
            answers = dict(right) if i == k else {q: wrong[q] for q in ids[: i % len(ids) + 1]}
            if i == k - 1:
                answers = {ids[0]: right[ids[0]]}
            saved = await client.put(
                f"/api/exam/candidates/{c1}/answers",
                headers=person1,
                json={"answers": answers, "save_no": save_no},
            )
            assert saved.status_code == 200, saved.text
            assert saved.json()["save_no"] == save_no + 1 and saved.json()["answered"] == len(answers)
            save_no = saved.json()["save_no"]
        assert reads.get(candidate_stream(c1), 0) == 0, "an autosave does not read the candidate's stream"
        after = await stream_types(c1)
        assert after == before, f"{k} autosaves appended {after[len(before) :]}"
        assert "AnswersSaved" not in after

        # a late or repeated request never overwrites the newer save
        stale = await client.put(
            f"/api/exam/candidates/{c1}/answers",
            headers=person1,
            json={"answers": {ids[0]: wrong[ids[0]]}, "save_no": save_no - 1},
        )
        assert stale.status_code == 409 and stale.json()["code"] == "stale_save", stale.text
        assert stale.json()["errors"]["save_no"] == save_no
        repeated = await client.put(
            f"/api/exam/candidates/{c1}/answers",
            headers=person1,
            json={"answers": right, "save_no": save_no - 1},
        )
        assert repeated.status_code == 200 and repeated.json()["save_no"] == save_no, repeated.text

        reads.clear()
        paper = (await client.get(f"/api/exam/candidates/{c1}/paper", headers=person1)).json()
        assert paper["answers"] == right and paper["save_no"] == save_no and paper["saved_at"]
        assert reads.get(candidate_stream(c1)) == 1, reads
        detail = (await client.get(f"/api/exam/candidates/{c1}", headers=institution)).json()
        assert detail["answered_count"] == len(right) and detail["last_saved_at"]

        # the submission scores the last save (no answers sent with it); the stream grows by two events
        clock.now += timedelta(minutes=30)
        reads.clear()
        submitted = await client.post(f"/api/exam/candidates/{c1}/submit", headers=person1)
        assert submitted.status_code == 200, submitted.text
        result = submitted.json()
        assert result["passed"] is True and result["score"] == result["full_marks"], result
        assert reads.get(candidate_stream(c1)) == 1, reads
        assert await stream_types(c1) == [*before, "PaperSubmitted", "ExamPassed"]
        final = await events.find_one({"stream_id": candidate_stream(c1), "type": "exam.PaperSubmitted.v1"})
        passed = await events.find_one({"stream_id": candidate_stream(c1), "type": "exam.ExamPassed.v1"})
        assert final is not None and passed is not None
        assert final["data"]["answers"] == right and final["data"]["saves"] == save_no
        assert not passed["data"].get("answers"), "the public result carries the score only"

        late = await client.put(
            f"/api/exam/candidates/{c1}/answers", headers=person1, json={"answers": right}
        )
        assert late.status_code == 409 and late.json()["code"] == "already_submitted", late.text
        assert late.json()["errors"]["score"] == result["score"]
        again = await client.post(f"/api/exam/candidates/{c1}/submit", headers=person2)
        assert again.status_code == 404, "someone else's paper"

        # a save racing the submission: in the submitted answers, or refused
        q0 = papers[c2]["questions"][0]["question_id"]
        first = await client.put(
            f"/api/exam/candidates/{c2}/answers", headers=person2, json={"answers": {q0: [0]}}
        )
        assert first.status_code == 200, first.text
        raced_save, raced_submit = await asyncio.gather(
            client.put(f"/api/exam/candidates/{c2}/answers", headers=person2, json={"answers": {q0: [1]}}),
            client.post(f"/api/exam/candidates/{c2}/submit", headers=person2),
        )
        assert raced_submit.status_code == 200, raced_submit.text
        paper2 = await events.find_one({"stream_id": candidate_stream(c2), "type": "exam.PaperSubmitted.v1"})
        assert paper2 is not None
        if raced_save.status_code == 200:
            assert paper2["data"]["answers"] == {q0: [1]}, "a save that landed is in the submission"
        else:
            assert raced_save.status_code == 409 and raced_save.json()["code"] == "already_submitted"
            assert paper2["data"]["answers"] == {q0: [0]}


async def test_demo_timing_a_ten_minute_exam_said_so_in_every_answer(
    make_settings: Callable[..., ServiceSettings], jwt_secret: str
) -> None:
    """EXAM_DEMO_TIMING=1: a session may start 2 minutes after it is created, the exam lasts 10 minutes and
    may be submitted after 1; the start, the paper and the result say demo timing is on."""
    values = make_settings(unique_name("exam"), kafka_session_timeout_ms=2000).model_dump()
    values.update(exam_sweep_seconds=0, exam_demo_timing=True)
    settings = ExamSettings(**values)
    codec = TokenCodec(jwt_secret, settings.jwt_issuer)

    def bearer(role: Role, org: str | None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {codec.issue(Identity(f'acc-{role.value}-{org}', role, org_id=org))}"
        }

    clock = MovableClock(datetime.now(UTC).replace(microsecond=0))
    admin, institution = bearer(Role.ADMIN, None), bearer(Role.INSTITUTION, "inst-1")
    app = build_app(settings, clock=clock)
    runtime: ServiceRuntime = app.state.runtime

    async with running_app(app) as client:
        assert (await client.post("/api/exam/banks/demo", headers=admin)).status_code == 200

        async def bank_ready() -> bool:
            r = await client.get("/api/exam/banks", headers=admin, params={"position": "安全员"})
            return bool(r.json()["items"])

        await eventually(bank_ready, "the demo bank in the read model")
        candidate_id, id_number = await applied(runtime, 21, photo=False)
        created = await client.post(
            "/api/exam/sessions",
            headers=institution,
            json={
                "position": "安全员",
                "starts_at": (clock.now + timedelta(minutes=2)).isoformat(),
                "room": "演示考场",
                "seats": 5,
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["duration_minutes"] == 10 and created.json()["demo_timing"] is True
        seated = await client.post(
            f"/api/exam/sessions/{created.json()['session_id']}/candidates",
            headers=institution,
            json={"candidate_ids": [candidate_id]},
        )
        assert seated.status_code == 200, seated.text
        done = await client.post(
            f"/api/exam/candidates/{candidate_id}/override",
            headers=institution,
            json={"reason": "无报名头像，已核对身份证原件"},
        )
        assert done.status_code == 200, done.text
        person = bearer(Role.PERSON, id_number)
        early = await client.post(f"/api/exam/candidates/{candidate_id}/start", headers=person)
        assert early.status_code == 409 and early.json()["code"] == "session_not_started", early.text
        assert "还需等待 2 分钟" in early.json()["detail"]
        clock.now += timedelta(minutes=2)
        started = await client.post(f"/api/exam/candidates/{candidate_id}/start", headers=person)
        assert started.status_code == 201, started.text
        paper = started.json()
        assert paper["demo_timing"] is True and "演示计时" in paper["demo_timing_label"]
        assert datetime.fromisoformat(paper["deadline"]) == clock.now + timedelta(minutes=10)
        assert datetime.fromisoformat(paper["earliest_submission"]) == clock.now + timedelta(minutes=1)
        clock.now += timedelta(seconds=59)
        too_early = await client.post(f"/api/exam/candidates/{candidate_id}/submit", headers=person)
        assert too_early.status_code == 409 and too_early.json()["code"] == "submit_too_early"
        assert "开考 1 分钟后方可交卷" in too_early.json()["detail"]
        clock.now += timedelta(seconds=1)
        submitted = await client.post(f"/api/exam/candidates/{candidate_id}/submit", headers=person)
        assert submitted.status_code == 200 and submitted.json()["demo_timing"] is True, submitted.text
        result = await client.get(f"/api/exam/candidates/{candidate_id}/result", headers=person)
        assert result.json()["demo_timing"] is True
        view = await client.get(f"/api/exam/candidates/{candidate_id}/paper", headers=person)
        assert view.json()["demo_timing"] is True and view.json()["result"]["demo_timing"] is True
