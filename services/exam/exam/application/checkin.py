"""Check-in: a live frame is stored and a face check requested; the face worker's first answer per check
becomes CandidateVerified or CheckInFailed; after the allowed tries only a proctor's written override."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from events import DomainEvent, FaceChecked
from servicekit import uploads
from servicekit.commands import execute
from servicekit.consumer import ReceivedEvent
from servicekit.errors import Conflict, NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Session
from servicekit.objectstore import ObjectStore
from servicekit.runtime import Policy, ServiceRuntime

from ..adapters.images import verify_frame
from ..domain import candidate as domain
from ..domain import live
from ..projections.candidates import CANDIDATES
from .context import (
    Clock,
    ExamRules,
    blacklisted_until,
    candidate_stream,
    decide_on,
    load_applicant,
    load_session,
    system_clock,
)
from .sessions import CLAIMS


async def request_check(
    store: EventStore,
    objects: ObjectStore,
    candidate_id: str,
    *,
    frame: bytes,
    max_bytes: int,
    rules: ExamRules,
    now: datetime,
) -> dict[str, Any]:
    """Verify and store the frame, then append FaceCheckRequested (refusals come before storing)."""
    verify_frame(frame, max_bytes=max_bytes)
    applicant = await load_applicant(store.db, candidate_id)
    history, version = await store.load_events(candidate_stream(candidate_id))
    state = domain.Candidate.from_history(history)
    session = await load_session(store, await current_session_id(store, candidate_id, state))
    barred = await blacklisted_until(store.db, applicant.id_number, session.day)
    check_id = uuid.uuid4().hex
    key = f"checkin/{candidate_id}/{check_id}.jpg"

    def decide(h: list[DomainEvent]) -> list[DomainEvent]:
        return domain.request_face_check(
            domain.Candidate.from_history(h),
            applicant=applicant,
            session=session,
            check_id=check_id,
            frame_bucket=objects.bucket,
            frame_key=key,
            rules=rules.checkin,
            now=now,
            blacklisted_until=barred,
        )

    decide(history)  # refuse before storing the frame
    await objects.put(key, frame, "image/jpeg")
    try:
        await execute(
            store, candidate_stream(candidate_id), decide, stream_type="candidate", loaded=(history, version)
        )
    except BaseException:  # only this frame, unless the event naming it was stored after all
        await uploads.discard_unrecorded(store, objects, candidate_stream(candidate_id), [key])
        raise
    return {
        "check_id": check_id,
        "candidate_id": candidate_id,
        "session_id": session.session_id,
        "attempt_no": state.failures + 1,
        "max_attempts": rules.checkin.max_attempts,
        "state": "pending",
    }


async def _claimed_session(store: EventStore, candidate_id: str) -> str | None:
    """The session holding this candidate's seat, from the write side's claim."""
    claim = await store.db[CLAIMS].find_one({"_id": candidate_id})
    return str(claim["session_id"]) if claim else None


async def current_session_id(
    store: EventStore, candidate_id: str, state: domain.Candidate | None = None
) -> str:
    """The session the candidate checks in for (or was verified for, or sits the exam in)."""
    if state is None:
        history, _ = await store.load_events(candidate_stream(candidate_id))
        state = domain.Candidate.from_history(history)
    if state.started is not None:
        return state.started.session_id
    if state.verified is not None:
        return state.verified.session_id
    claimed = await _claimed_session(store, candidate_id)
    if claimed is None:
        raise Conflict("该考生未被安排考场，请联系培训机构", code="not_scheduled")
    return claimed


async def override(
    store: EventStore,
    candidate_id: str,
    *,
    institution_id: str | None,
    proctor_id: str,
    reason: str,
    rules: ExamRules,
    now: datetime,
) -> domain.Candidate:
    """The proctor's override; the candidate's state after it (the stream read once)."""
    applicant = await load_applicant(store.db, candidate_id)
    loaded = await store.load_events(candidate_stream(candidate_id))
    state = domain.Candidate.from_history(loaded[0])
    session = await load_session(store, await current_session_id(store, candidate_id, state))
    if institution_id is not None and session.institution_id != institution_id:
        raise NotFound("未找到该考生", code="candidate_not_found")
    barred = await blacklisted_until(store.db, applicant.id_number, session.day)
    history, _ = await decide_on(
        store,
        candidate_stream(candidate_id),
        loaded,
        lambda h: domain.override(
            domain.Candidate.from_history(h),
            applicant=applicant,
            session=session,
            proctor_id=proctor_id,
            reason=reason,
            rules=rules.checkin,
            now=now,
            blacklisted_until=barred,
        ),
        stream_type="candidate",
    )
    return domain.Candidate.from_history(history)


def status_view(state: domain.Candidate, rules: ExamRules) -> dict[str, Any]:
    pending = state.pending
    last = state.last_failure
    verified = state.verified
    if state.checked_in:
        label = "已通过入场核验" + ("（监考人工放行）" if verified is not None and verified.override else "")
    elif pending is not None:
        label = "人脸比对中"
    elif state.failures >= rules.checkin.max_attempts:
        label = "人脸核验次数已用完，须监考人员人工放行"
    elif last is not None:
        label = f"人脸核验未通过，还可尝试 {rules.checkin.max_attempts - state.failures} 次"
    else:
        label = "待入场核验"
    reasons = domain.reasons_view(last.reasons) if last is not None else []
    return {
        "verified": state.checked_in,
        "override": bool(verified and verified.override),
        "override_reason": verified.reason if verified else None,
        "distance": verified.distance if verified else None,
        "pending_check_id": pending.check_id if pending else None,
        "checks": len(state.checks),
        "failures": state.failures,
        "attempts_left": max(0, rules.checkin.max_attempts - state.failures),
        "max_attempts": rules.checkin.max_attempts,
        "override_allowed": not state.checked_in and state.failures >= rules.checkin.max_attempts,
        "last_failure": None
        if last is None
        else {
            "check_id": last.check_id,
            "reasons": [text for _, text in reasons],
            "reason_codes": [code for code, _ in reasons],
            "distance": last.distance,
            "attempt_no": last.attempt_no,
        },
        "state_label": label,
    }


def face_answers(runtime: ServiceRuntime, rules: ExamRules, clock: Clock = system_clock) -> Policy:
    """FaceChecked (face.events) → CandidateVerified / CheckInFailed for a check-in, LiveCheckAnswered for an
    in-exam check (`domain.live`: the candidate's own stream says which), in the consumer's transaction; a
    second answer to the same check (a redelivered request answered twice) changes nothing."""
    policy = Policy(name="face-answers")

    @policy.handlers.on(FaceChecked)
    async def answered(received: ReceivedEvent, session: Session) -> None:
        checked = received.event
        assert isinstance(checked, FaceChecked)
        stream = candidate_stream(checked.candidate_id)
        id_number = await _id_number(runtime, checked.candidate_id, session)
        now = clock()

        def decide(h: list[DomainEvent]) -> list[DomainEvent]:
            state = domain.Candidate.from_history(h)
            if checked.check_id in state.live:
                return live.answered(state, checked, now=now)
            return domain.face_checked(
                state, checked, id_number=id_number, max_attempts=rules.checkin.max_attempts
            )

        await execute(runtime.store, stream, decide, stream_type="candidate", session=session)

    return policy


async def _id_number(runtime: ServiceRuntime, candidate_id: str, session: Session) -> str:
    doc = await runtime.db[CANDIDATES].find_one({"_id": candidate_id}, {"id_number": 1}, session=session)
    return str(doc["id_number"]) if doc and doc.get("id_number") else ""
