"""The candidates read model is the same whatever order the streams' events arrive in (ExamApplied from
enrollment, the seats from two sessions' streams, the candidate's own stream), one by one or in a batch."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from events import (
    CandidateVerified,
    DomainEvent,
    Envelope,
    ExamApplied,
    ExamPassed,
    ExamScheduled,
    ExamUnscheduled,
    FaceCheckRequested,
)
from exam.domain.events import ExamStarted
from exam.projections.candidates import CANDIDATES, candidates
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session, create_client, in_transaction
from servicekit.projections import Projection, snapshot

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def seat(session_id: str, starts_at: datetime, n: int) -> ExamScheduled:
    return ExamScheduled(
        candidate_id="c1",
        session_id=session_id,
        applicant_id="a1",
        enterprise_id="e1",
        institution_id="i1",
        id_number="330106199005170011",
        name="张三",
        position="安全员",
        starts_at=starts_at,
        room=f"第{n}考场",
        seat=n,
    )


async def _apply(client: object, projection: Projection, items: Sequence[ReceivedEvent]) -> None:
    async def work(session: Session) -> None:
        for item in items:
            await projection.handlers.dispatch(item, session)

    await in_transaction(client, work)


async def test_candidates_projection_is_order_independent(stack_env: dict[str, str]) -> None:
    applied = ExamApplied(
        applicant_id="a1",
        enterprise_id="e1",
        institution_id="i1",
        id_number="330106199005170011",
        name="张三",
        position="安全员",
        head_photo_bucket="enrollment",
        head_photo_key="k",
    )
    streams: dict[str, list[tuple[DomainEvent, str]]] = {
        "applied": [(applied, "applicant-a1")],
        "s1": [
            (seat("s1", T0, 1), "session-s1"),
            (
                ExamUnscheduled(
                    candidate_id="c1", session_id="s1", applicant_id="a1", id_number="x", reason="取消"
                ),
                "session-s1",
            ),
        ],
        "s2": [(seat("s2", T0 + timedelta(days=1), 7), "session-s2")],
        "candidate": [
            (
                FaceCheckRequested(
                    check_id="k1",
                    candidate_id="c1",
                    session_id="s2",
                    attempt_no=1,
                    frame_bucket="exam",
                    frame_key="f",
                    reference_bucket="enrollment",
                    reference_key="k",
                ),
                "candidate-c1",
            ),
            (
                CandidateVerified(
                    candidate_id="c1", session_id="s2", id_number="x", check_id="k1", distance=0.4
                ),
                "candidate-c1",
            ),
            (
                ExamStarted(
                    attempt_id="t1",
                    candidate_id="c1",
                    session_id="s2",
                    id_number="x",
                    bank_id="b",
                    questions=[],
                    started_at=T0 + timedelta(days=1),
                    deadline=T0 + timedelta(days=1, hours=2),
                    earliest_submission=T0 + timedelta(days=1, minutes=30),
                ),
                "candidate-c1",
            ),
            (
                ExamPassed(
                    attempt_id="t1",
                    applicant_id="a1",
                    enterprise_id="e1",
                    institution_id="i1",
                    id_number="x",
                    name="张三",
                    position="安全员",
                    score=88,
                    pass_mark=60,
                    candidate_id="c1",
                    session_id="s2",
                ),
                "candidate-c1",
            ),
        ],
    }
    received: dict[str, list[ReceivedEvent]] = {}
    tick = 0
    for key, items in streams.items():
        received[key] = []
        for event, subject in items:
            tick += 1
            envelope = Envelope.for_event(
                event,
                subject=subject,
                source="/exam",
                time=T0 + timedelta(minutes=tick),
                id="c1" if isinstance(event, ExamApplied) else None,
            )
            received[key].append(ReceivedEvent(envelope, event, "exam.events", 0, 0))

    def interleave(seed: int) -> list[ReceivedEvent]:
        rng = random.Random(seed)
        queues = {k: list(v) for k, v in received.items()}
        out: list[ReceivedEvent] = []
        while any(queues.values()):
            key = rng.choice([k for k in queues if queues[k]])
            out.append(queues[key].pop(0))
        return out

    forward = [e for k in ("applied", "s1", "s2", "candidate") for e in received[k]]
    backward = [e for k in ("candidate", "s2", "s1", "applied") for e in received[k]]
    deliveries = [forward, backward, *(interleave(seed) for seed in range(4))]
    client = create_client(stack_env["MONGO_URL"])
    names = [f"exam-order-{uuid.uuid4().hex[:8]}" for _ in deliveries]
    try:
        results = []
        for name, delivery in zip(names, deliveries, strict=True):
            projection = candidates(name)
            for item in delivery[:3]:
                await _apply(client, projection, [item])
            await _apply(client, projection, delivery[3:])
            results.append(await snapshot(client[name], [CANDIDATES]))
        for other in results[1:]:
            assert other == results[0]
        [doc] = results[0][CANDIDATES]
        assert doc["_id"] == "c1" and doc["status"] == "passed" and doc["score"] == 88
        assert doc["session"]["session_id"] == "s2" and doc["session"]["seat"] == 7
        assert doc["schedules"]["s1"]["active"] is False
        assert doc["checkin"]["verified"] is True and doc["checkin"]["pending_check_id"] is None
        assert doc["name"] == "张三" and doc["head_photo_key"] == "k"
    finally:
        for name in names:
            await client.drop_database(name)
        await client.close()
