"""How long the certificate takes to appear after a passed exam, on the real platform (every service, the
face workers, the local stack): from the submission's answer (ExamPassed stored by the exam) to the
certificate readable under 证书管理 (the person's `GET /api/certification/certificates`).

The path: the exam's relay publishes ExamPassed to exam.events (woken by the append, or on its poll,
`RELAY_POLL_SECONDS`) → certification's consumer group `certification.policy.issue-on-exam-passed` appends
CertificateIssued → certification's relay sequences it → its own projection (a store subscription) writes the
certificate read model. The PDF is rendered on demand, not on this path.

Each step's time is read behind the scenes (the events' `recorded_at`, the consumer's processed mark) so that
a slow run says where the time went.

Measured on a 2-core machine (these tests): 0.2–0.5 s idle, the same with four CPU hogs or after 11 idle
minutes, about 1.4 s while the exam service creates sessions as fast as the gateway lets it.

Under a burst of exam events (120 appends/s from 8 writers: a busy exam day), the certificate is readable
within a second of the answer (`test_certificate_during_a_burst_of_exam_events`): the relay publishes after
each sequencing round of at most 500 events, oldest first, so a burst never holds back what was stored before
it. (Before, it sequenced everything pending before publishing anything: a 17-second burst of 4,100 events
held the certificate 21 s. Appends without any bound still outpace the sequencer — about 300–500 events/s
here — and then everything waits its turn.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from events import ExamSessionCreated
from servicekit.eventstore import RELAY_CHECKPOINT, SEQUENCE, STORE_META, EventStore
from servicekit.launcher import ServiceProcesses
from servicekit.mongo import create_client

from .exam_support import (
    activate_person,
    check_in,
    drawn_answers,
    ensure_demo_banks,
    exam_clock_offset,
    exam_cohort,
    face,
    new_session,
    pass_exam,
    schedule,
    seconds_to_session_start,
)
from .helpers import bearer, eventually, login

pytestmark = pytest.mark.integration

BOUND_SECONDS = 10.0
ISSUE_GROUP = "certification.policy.issue-on-exam-passed"


async def _steps(platform: ServiceProcesses, attempt_id: str, submitted: datetime) -> dict[str, float]:
    """Seconds after the submission's answer at which each step happened (negative: before it)."""
    client = create_client(platform.env["MONGO_URL"])
    try:
        exam = client[platform.env.get("EXAM_MONGO_DATABASE", "exam")]
        cert = client[platform.env.get("CERTIFICATION_MONGO_DATABASE", "certification")]
        passed = await exam["events"].find_one({"type": "exam.ExamPassed.v1", "data.attempt_id": attempt_id})
        issued = await cert["events"].find_one(
            {"type": "certification.CertificateIssued.v1", "data.attempt_id": attempt_id}
        )
        handled = (
            await cert["processed_events"].find_one({"_id": f"{ISSUE_GROUP}:{passed['_id']}"})
            if passed
            else None
        )
    finally:
        await client.close()

    def after(moment: Any) -> float:
        if moment is None:
            return float("nan")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return round((moment - submitted).total_seconds(), 3)

    return {
        "exam_passed_stored": after(passed and passed["recorded_at"]),
        "policy_handled": after(handled and handled["at"]),
        "certificate_issued_stored": after(issued and issued["recorded_at"]),
    }


async def test_certificate_appears_within_seconds_of_the_pass(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        measured: list[dict[str, float]] = []
        for name in ("孙立", "李晓"):  # twice: the first pass may also pay for a consumer's first fetch
            passed = await pass_exam(api, platform, admin, name=name)
            submitted_at, started = datetime.now(UTC), time.monotonic()

            async def issued(attempt_id: str = passed.attempt_id, token: str = passed.person_token) -> bool:
                r = await api.get("/api/certification/certificates", headers=bearer(token))
                assert r.status_code == 200, r.text
                return any(i.get("attempt_id") == attempt_id for i in r.json()["items"])

            await eventually(issued, timeout=180, what="the certificate of the passed exam")
            steps = await _steps(platform, passed.attempt_id, submitted_at)
            steps["certificate_readable"] = round(time.monotonic() - started, 3)
            measured.append(steps)
        print(f"\ncertificate latency (seconds after the submission's answer): {measured}")
        for steps in measured:
            assert steps["certificate_readable"] <= BOUND_SECONDS, measured


async def _burst_of_exam_events(
    platform: ServiceProcesses, stop: asyncio.Event, *, writers: int = 8, per_second: float = 120.0
) -> int:
    """Sessions appended to the exam's event store by `writers` concurrent commands at `per_second` in all —
    a busy exam day: check-ins, seats, a large room's automatic submission — until `stop`; returns how
    many. (Appends without a bound outpace any sequencer; then everything waits, a certificate too.)"""
    client = create_client(platform.env["MONGO_URL"])
    store = EventStore(client, client[platform.env.get("EXAM_MONGO_DATABASE", "exam")], source="/exam")
    made = 0

    async def writer() -> None:
        nonlocal made
        while not stop.is_set():
            session_id = uuid.uuid4().hex
            created = ExamSessionCreated(
                session_id=session_id,
                institution_id="inst-burst",
                position="施工员",
                starts_at=datetime.now(UTC) + timedelta(days=7),
                room="压测考场",
                seats=5,
            )
            await store.append(f"session-{session_id}", [created], expected_version=0, stream_type="session")
            made += 1
            await asyncio.sleep(writers / per_second)

    try:
        await asyncio.gather(*(writer() for _ in range(writers)))
    finally:
        await client.close()
    return made


async def _relay_caught_up(platform: ServiceProcesses, timeout: float) -> dict[str, int]:
    """Until the exam's relay has sequenced and published everything (so that later tests start clean)."""
    client = create_client(platform.env["MONGO_URL"])
    db = client[platform.env.get("EXAM_MONGO_DATABASE", "exam")]
    try:

        async def state() -> dict[str, int]:
            head = await db[STORE_META].find_one({"_id": SEQUENCE})
            published = await db[STORE_META].find_one({"_id": RELAY_CHECKPOINT})
            return {
                "pending": await db["events"].count_documents({"seq": None}),
                "head": int(head["value"]) if head else 0,
                "published": int(published["position"]) if published else 0,
            }

        async def drained() -> dict[str, int] | None:
            now = await state()
            return now if not now["pending"] and now["published"] >= now["head"] else None

        return await eventually(drained, timeout=timeout, what="the exam's relay to catch up")
    finally:
        await client.close()


async def test_certificate_during_a_burst_of_exam_events(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    """The pass is submitted while the exam's event store takes a burst of appends (a busy exam service:
    an automatic submission of a large room at its deadline, many check-ins): the certificate must still
    appear within seconds."""
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        cohort = await exam_cohort(api, admin, [("赵忙", "男", date(1990, 3, 9))])
        member = cohort.members[0]
        await ensure_demo_banks(api, admin)
        session_id = await new_session(api, cohort.institution_token)
        assert (
            await schedule(api, cohort.institution_token, session_id, [member.candidate_id])
        ).status_code == 200
        person = await activate_person(api, cohort.institution_token, member.id_number, "Kaoshi2026!")
        assert (await check_in(api, cohort.institution_token, member.candidate_id, face("obama2")))[
            "verified"
        ]
        lead = await seconds_to_session_start(api, cohort.institution_token, member.candidate_id)
        with exam_clock_offset(platform, lead):
            started = await api.post(
                f"/api/exam/candidates/{member.candidate_id}/start", headers=bearer(person)
            )
            assert started.status_code == 201, started.text
            saved = await api.put(
                f"/api/exam/candidates/{member.candidate_id}/answers",
                headers=bearer(person),
                json={"answers": await drawn_answers(platform, member.candidate_id)},
            )
            assert saved.status_code == 200, saved.text

        stop = asyncio.Event()
        burst = asyncio.create_task(_burst_of_exam_events(platform, stop))
        readable: float | None = None
        try:
            await asyncio.sleep(3)  # the burst is under way
            with exam_clock_offset(platform, lead + 30 * 60 + 1):
                submitted = await api.post(
                    f"/api/exam/candidates/{member.candidate_id}/submit", headers=bearer(person)
                )
            assert submitted.status_code == 200 and submitted.json()["passed"], submitted.text
            answered, started_at = datetime.now(UTC), time.monotonic()
            attempt_id = submitted.json()["attempt_id"]

            async def issued() -> bool:
                r = await api.get("/api/certification/certificates", headers=bearer(person))
                return any(i.get("attempt_id") == attempt_id for i in r.json()["items"])

            with contextlib.suppress(AssertionError):
                await eventually(issued, timeout=BOUND_SECONDS + 5, what="the certificate")
                readable = round(time.monotonic() - started_at, 3)
        finally:
            stop.set()
            appended = await burst
        caught_up: dict[str, Any] = dict(await _relay_caught_up(platform, timeout=300))
        drained = time.monotonic()
        await eventually(issued, timeout=120, what="the certificate once the relay caught up")
        caught_up["certificate_after_catching_up"] = round(time.monotonic() - drained, 3)
        steps = await _steps(platform, attempt_id, answered)
        print(
            f"\nduring a burst of {appended} exam events: readable after {readable} s, {steps}, {caught_up}"
        )
        assert readable is not None and readable <= BOUND_SECONDS, (readable, steps, appended)
