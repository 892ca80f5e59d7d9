"""The face worker on the real platform.

- Its contract: FaceCheckRequested published on face.requests exactly as the exam service does (the images in
  object storage, named by bucket and key) → FaceChecked on face.events.
- Its crash: a real check-in through the exam service, the worker that picked the check up killed (SIGKILL)
  in the middle of it; the other worker answers the redelivered request and the exam service records one
  outcome for the check.
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from events import CandidateVerified, CheckInFailed, Envelope, FaceChecked, FaceCheckRequested
from exam.faceworker.probe import FaceCheckProbe, log_events
from exam.faceworker.worker import answer_id
from PIL import Image
from servicekit import kafka
from servicekit.launcher import ServiceProcesses
from servicekit.mongo import create_client
from servicekit.objectstore import ObjectStore
from servicekit.settings import ServiceSettings

from .exam_support import exam_cohort, face, new_session, schedule
from .helpers import bearer, eventually, login

pytestmark = pytest.mark.integration

FACES = Path(__file__).resolve().parents[1] / "fixtures" / "faces"
FRAME_BUCKET = "exam"  # where the exam service keeps the check-in frames
REFERENCE_BUCKET = "enrollment"  # where enrollment keeps the head photos


def head_photo() -> bytes:
    """A 295×413 head photo (the enrollment format) made from obama.jpg."""
    out = io.BytesIO()
    Image.open(FACES / "obama.jpg").convert("RGB").resize((295, 413)).save(out, "JPEG", quality=70)
    return out.getvalue()


def settings_of(platform: ServiceProcesses) -> ServiceSettings:
    env = platform.env
    return ServiceSettings(
        service_name="face-worker-test",
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        s3_endpoint=env["S3_ENDPOINT"],
        s3_access_key=env.get("S3_ACCESS_KEY", ""),
        s3_secret_key=env.get("S3_SECRET_KEY", ""),
    )


class Desk(FaceCheckProbe):
    """What the exam service does at check-in: store the frame, publish the request; plus the probe's reader
    of the answers on face.events."""

    def __init__(self, settings: ServiceSettings) -> None:
        super().__init__(settings)
        self.frames = ObjectStore(settings, bucket=FRAME_BUCKET)
        self.references = ObjectStore(settings, bucket=REFERENCE_BUCKET)

    async def start(self) -> Self:
        await self.frames.ensure_bucket()
        await self.references.ensure_bucket()
        return await super().start()

    async def request(
        self, frame: bytes | None, reference: bytes, *, candidate_id: str | None = None
    ) -> tuple[Envelope, FaceCheckRequested]:
        check_id = uuid.uuid4().hex
        candidate_id = candidate_id or f"face-it-{uuid.uuid4().hex[:8]}"
        frame_key = f"checkins/{candidate_id}/{check_id}.jpg"
        reference_key = f"head-photos/{candidate_id}.jpg"
        if frame is not None:  # None: the frame object is missing
            await self.frames.put(frame_key, frame, "image/jpeg")
        await self.references.put(reference_key, reference, "image/jpeg")
        request = FaceCheckRequested(
            check_id=check_id,
            candidate_id=candidate_id,
            session_id="sess-face-it",
            attempt_no=1,
            frame_bucket=FRAME_BUCKET,
            frame_key=frame_key,
            reference_bucket=REFERENCE_BUCKET,
            reference_key=reference_key,
        )
        return await self.publish(request, correlation_id=f"corr-{check_id}"), request

    async def malformed(self, candidate_id: str) -> str:
        """A record typed FaceCheckRequested whose data is not one (no check id to answer); its event id."""
        envelope = Envelope(
            type=FaceCheckRequested.type_name(), source="/exam", subject=candidate_id, data={"check_id": 7}
        )
        await self.send(envelope)
        return envelope.id

    async def dead_letters(self, group: str) -> list[str]:
        """Event ids in face.requests.dlq put there by `group`."""
        found = []
        async for record in kafka.read_to_end(self.settings, [FaceCheckRequested.topic() + kafka.DLQ_SUFFIX]):
            headers = kafka.headers_dict(record.headers)
            if headers.get("dlq_group") == group:
                found.append(headers.get("ce_id", ""))
        return found

    async def answer(self, check_id: str, timeout: float = 90) -> tuple[Envelope, FaceChecked]:
        async def first() -> tuple[Envelope, FaceChecked] | None:
            return self.first(check_id)

        return await eventually(first, timeout=timeout, what=f"FaceChecked for {check_id}")


@contextlib.asynccontextmanager
async def desk(platform: ServiceProcesses) -> AsyncIterator[Desk]:
    async with Desk(settings_of(platform)) as opened:
        yield opened


def slow_checks(delay_file: Path, seconds: float | None) -> None:
    """Make every face check sleep `seconds` first (None: back to normal); see FACE_WORKER_TEST_DELAY_FILE."""
    if seconds is None:
        delay_file.unlink(missing_ok=True)
    else:
        delay_file.write_text(str(seconds))


async def test_the_worker_answers_face_check_requests(platform: ServiceProcesses) -> None:
    """The contract: the same person matches, another person does not, a replayed head photo is refused,
    a missing frame is an answer with a flag, an unreadable request is dead-lettered without stopping the
    ones behind it; ids are carried over, the answer is caused by the request."""
    reference = head_photo()
    same = (FACES / "obama2.jpg").read_bytes()
    other = (FACES / "biden.jpg").read_bytes()
    async with desk(platform) as checkin:
        candidate = f"face-it-{uuid.uuid4().hex[:8]}"
        broken = await checkin.malformed(candidate)  # same key: the next request waits behind it
        sent = {
            "same": await checkin.request(same, reference, candidate_id=candidate),
            "other": await checkin.request(other, reference),
            "replay": await checkin.request(reference, reference),
            "missing": await checkin.request(None, reference),
        }
        got = {name: await checkin.answer(request.check_id) for name, (_, request) in sent.items()}
        # the unreadable request went to the dead letters, and did not stop the requests behind it
        assert broken in await checkin.dead_letters("exam.faceworker")

    for name, (request_envelope, request) in sent.items():
        envelope, answer = got[name]
        assert envelope.type == "face.FaceChecked.v1"
        assert envelope.causation_id == request_envelope.id
        assert envelope.correlation_id == request_envelope.correlation_id
        assert envelope.id == answer_id(request_envelope.id)
        assert (answer.candidate_id, answer.session_id) == (request.candidate_id, request.session_id)
        assert answer.threshold == 0.6
        assert answer.worker and answer.elapsed_ms is not None and answer.elapsed_ms > 0

    same_answer, other_answer = got["same"][1], got["other"][1]
    assert same_answer.match and same_answer.quality_flags == [] and not same_answer.replay_suspected
    assert same_answer.distance is not None and same_answer.distance < 0.6
    assert not other_answer.match and other_answer.distance is not None and other_answer.distance > 0.6
    replay = got["replay"][1]
    assert replay.replay_suspected and not replay.match
    missing = got["missing"][1]
    assert not missing.match and missing.quality_flags == ["image_unreadable"] and missing.distance is None


async def exam_outcomes(platform: ServiceProcesses, check_id: str) -> list[str]:
    """The outcomes (CandidateVerified / CheckInFailed) the exam service stored for one check."""
    client = create_client(platform.env["MONGO_URL"])
    try:
        cursor = client[platform.env.get("EXAM_MONGO_DATABASE", "exam")]["events"].find(
            {
                "type": {"$in": [CandidateVerified.type_name(), CheckInFailed.type_name()]},
                "data.check_id": check_id,
            }
        )
        return [str(doc["type"]) async for doc in cursor]
    finally:
        await client.close()


async def test_a_worker_killed_in_the_middle_of_a_check_loses_nothing(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    """A real check-in (exam service → worker → exam service); the worker that picked the check up is killed
    (SIGKILL) while it is still working on it; the other worker gets the request again and answers it; the
    exam service verifies the candidate once, and a second, contradicting answer to the same check changes
    nothing."""
    assert len(platform.face_workers) == 2
    logs = [platform.face_worker_log(i) for i in range(2)]
    delay_file = Path(platform.env["FACE_WORKER_TEST_DELAY_FILE"])
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        cohort = await exam_cohort(api, admin, [("郑强", "男", date(1988, 3, 3))])
        candidate_id = cohort.members[0].candidate_id
        session_id = await new_session(api, cohort.institution_token)
        seated = await schedule(api, cohort.institution_token, session_id, [candidate_id])
        assert seated.status_code == 200, seated.text
        institution = bearer(cohort.institution_token)

        async def both_assigned() -> bool:  # the group is stable: each worker holds partitions
            last = [log_events(log, "faceworker.assigned")[-1:] for log in logs]
            return all(entries and entries[0]["partitions"] for entries in last)

        await eventually(both_assigned, timeout=60, what="both face workers holding partitions")
        slow_checks(delay_file, 20)  # every check now takes 20 s more: long enough to kill it mid-way
        try:
            async with desk(platform) as checkin:
                sent = await api.post(
                    f"/api/exam/candidates/{candidate_id}/check-in",
                    headers=institution,
                    files={"frame": ("frame.jpg", face("obama2"), "image/jpeg")},
                )
                assert sent.status_code == 202, sent.text
                check_id = sent.json()["check_id"]

                async def started() -> tuple[int, str] | None:
                    for index, log in enumerate(logs):
                        for entry in log_events(log, "faceworker.check_started"):
                            if entry.get("check_id") == check_id:
                                return index, str(entry["worker"])
                    return None

                index, killed_name = await eventually(started, timeout=60, what="a worker starting the check")
                victim = platform.face_workers[index]
                victim.kill()  # SIGKILL: no answer, no commit, no goodbye to the group
                victim.wait(10)
                assert check_id not in checkin.answers, "answered before the kill: the test proves nothing"
                status = await api.get(f"/api/exam/candidates/{candidate_id}/check-in", headers=institution)
                assert status.json()["pending_check_id"] == check_id and not status.json()["verified"]
                slow_checks(delay_file, None)

                # the other worker answers (at least once; every copy is one event id, de-duplicated)
                envelope, answer = await checkin.answer(check_id, timeout=120)
                assert answer.worker != killed_name
                assert answer.match and answer.candidate_id == candidate_id
                survivor = log_events(logs[1 - index], "faceworker.check_answered")
                assert any(entry.get("check_id") == check_id for entry in survivor)

                async def verified() -> dict[str, Any] | None:
                    r = await api.get(f"/api/exam/candidates/{candidate_id}/check-in", headers=institution)
                    body: dict[str, Any] = r.json()
                    return body if body["verified"] else None

                await eventually(verified, timeout=60, what="the exam service to verify the candidate")

                # a late second answer to the same check (a redelivery answered by a worker that died before
                # committing), contradicting the first and with its own event id: the first one stays
                late = answer.model_copy(update={"match": False, "distance": 0.9, "worker": "late"})
                late_envelope = Envelope.for_event(
                    late, subject=envelope.subject, source="/faceworker", causation_id=envelope.causation_id
                )
                key, value, headers = late_envelope.to_kafka()
                await (
                    await checkin.producer.send(FaceChecked.topic(), value=value, key=key, headers=headers)
                )
                await eventually(
                    lambda: exam_handled(platform, late_envelope.id),
                    timeout=60,
                    what="the exam service to consume the late answer",
                )
                assert {e.id for e, a in checkin.answers[check_id] if a.worker != "late"} == {envelope.id}
            assert await exam_outcomes(platform, check_id) == [CandidateVerified.type_name()]
            final = (
                await api.get(f"/api/exam/candidates/{candidate_id}/check-in", headers=institution)
            ).json()
            assert final["verified"] and final["failures"] == 0 and final["last_failure"] is None
        finally:
            slow_checks(delay_file, None)
            for position, proc in enumerate(platform.face_workers):  # two workers again for the next tests
                if proc.poll() is not None:
                    platform.restart_face_worker(position)


async def exam_handled(platform: ServiceProcesses, event_id: str) -> bool:
    """Whether a consumer of the exam service has handled (and marked) this event."""
    client = create_client(platform.env["MONGO_URL"])
    try:
        database = client[platform.env.get("EXAM_MONGO_DATABASE", "exam")]
        return await database["processed_events"].find_one({"event_id": event_id}) is not None
    finally:
        await client.close()
