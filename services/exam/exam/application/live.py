"""In-exam (dynamic) face verification (`domain.live`): consent, a frame stored and a face check requested on
the candidate's stream, the answers (from `checkin.face_answers`), the proctor's alerts (read model
`projections.live`) and the frames' retention (a sweeper every replica runs).

Frames are stored in the exam bucket under `live/<candidate>/<check>.jpg` and never leave it: the face workers
get the keys (`FaceCheckRequested` on face.requests). Each stored frame is also noted in the write-side
collection `live_frames` (key, when it was taken, whether it is a violation's evidence), which the sweeper
reads to delete frames past the retention; a violation that names a frame marks it as evidence first, so
that the sweeper keeps it (both conditional writes on the same document: one of them wins).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import uuid
from datetime import datetime
from typing import Any

from events import DomainEvent
from servicekit import uploads
from servicekit.commands import execute
from servicekit.errors import Conflict, NotFound
from servicekit.eventstore import EventStore
from servicekit.logging import get_logger
from servicekit.mongo import Database
from servicekit.objectstore import ObjectStore

from ..adapters.images import verify_frame
from ..domain import candidate as domain
from ..domain import live
from ..domain.timing import local_iso
from .checkin import current_session_id
from .context import Clock, ExamRules, candidate_stream, decide_on, load_applicant, load_session

log = get_logger(__name__)

LIVE_FRAMES = "live_frames"


async def ensure_indexes(db: Database) -> None:
    await db[LIVE_FRAMES].create_index([("stored_at", 1)])


async def _read(store: EventStore, candidate_id: str) -> tuple[list[DomainEvent], int]:
    history, version = await store.load_events(candidate_stream(candidate_id))
    return list(history), version


async def consent(store: EventStore, candidate_id: str, *, now: datetime) -> dict[str, Any]:
    """Record the candidate's consent (idempotent); when it was given."""
    await load_applicant(store.db, candidate_id)  # 404 for an unknown candidate
    history, _ = await decide_on(
        store,
        candidate_stream(candidate_id),
        await _read(store, candidate_id),
        lambda h: live.consent(domain.Candidate.from_history(h), candidate_id=candidate_id, now=now),
        stream_type="candidate",
    )
    consented_at = domain.Candidate.from_history(history).consented_at or now
    return {"candidate_id": candidate_id, "consented": True, "consented_at": local_iso(consented_at)}


async def request_check(
    store: EventStore,
    objects: ObjectStore,
    candidate_id: str,
    *,
    frame: bytes,
    max_bytes: int,
    rules: ExamRules,
    now: datetime,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Refuse (consent, exam in progress, too soon, the frame itself) before storing anything, then store the
    frame, note it in `live_frames` and append FaceCheckRequested; nothing is left behind on failure."""
    applicant = await load_applicant(store.db, candidate_id)
    loaded = await _read(store, candidate_id)
    check_id = uuid.uuid4().hex
    key = live.frame_key(candidate_id, check_id)

    def decide(h: list[DomainEvent]) -> list[DomainEvent]:
        return live.request(
            domain.Candidate.from_history(h),
            applicant=applicant,
            check_id=check_id,
            frame_bucket=objects.bucket,
            rules=rules.live,
            now=now,
        )

    decide(loaded[0])  # the refusals of the state first
    verify_frame(frame, max_bytes=max_bytes)  # then the frame's own (the check-in's codes)
    await note_frame(store.db, key, candidate_id=candidate_id, check_id=check_id, now=now)
    try:
        await objects.put(key, frame, "image/jpeg")
        await execute(store, candidate_stream(candidate_id), decide, stream_type="candidate", loaded=loaded)
    except BaseException:  # only this frame, unless the event naming it was stored after all
        await uploads.discard_unrecorded(store, objects, candidate_stream(candidate_id), [key])
        with contextlib.suppress(Exception):
            if not await _recorded(store, candidate_id, check_id):
                await store.db[LIVE_FRAMES].delete_one({"_id": key})
        raise
    return {
        "check_id": check_id,
        "candidate_id": candidate_id,
        "state": live.PENDING,
        "next_in_seconds": rules.live.next_in_seconds(rng or random.Random(secrets.randbits(64))),
    }


async def note_frame(db: Database, key: str, *, candidate_id: str, check_id: str, now: datetime) -> None:
    """Note a frame about to be stored, for the retention sweeper."""
    await db[LIVE_FRAMES].insert_one(
        {"_id": key, "candidate_id": candidate_id, "check_id": check_id, "stored_at": now, "evidence": False}
    )


async def _recorded(store: EventStore, candidate_id: str, check_id: str) -> bool:
    state = domain.Candidate.from_history((await _read(store, candidate_id))[0])
    return check_id in state.live


async def load(store: EventStore, candidate_id: str) -> domain.Candidate:
    return domain.Candidate.from_history((await _read(store, candidate_id))[0])


def checks_view(state: domain.Candidate, rules: ExamRules) -> dict[str, Any]:
    return {
        "items": live.checks_view(state),
        "consecutive_mismatches": state.consecutive_mismatches,
        "violation_threshold": rules.live.violation_threshold,
        "violation_allowed": live.violation_allowed(state, rules.live),
        "consented": state.consented_at is not None,
    }


async def dismiss(
    store: EventStore,
    candidate_id: str,
    check_id: str,
    *,
    dismissed_by: str,
    reason: str | None,
    now: datetime,
) -> domain.Candidate:
    """The proctor dismisses an alert (idempotent); the candidate's state after it."""
    loaded = await _read(store, candidate_id)
    await execute(
        store,
        candidate_stream(candidate_id),
        lambda h: live.dismiss(
            domain.Candidate.from_history(h), check_id, dismissed_by=dismissed_by, reason=reason, now=now
        ),
        stream_type="candidate",
        loaded=loaded,
    )
    return await load(store, candidate_id)


async def keep_as_evidence(db: Database, key: str, violation_id: str) -> None:
    """Mark a frame as a violation's evidence (the sweeper keeps it); 409 live_frame_expired if the frame's
    retention ran out (the sweeper deleted it, or is deleting it)."""
    marked = await db[LIVE_FRAMES].update_one(
        {"_id": key, "deleting": {"$ne": True}},
        {"$set": {"evidence": True}, "$addToSet": {"violation_ids": violation_id}},
    )
    if marked.matched_count != 1:
        raise Conflict("该照片已超过保存期限被删除，不能作为违纪证据", code="live_frame_expired")


async def sweep_frames(
    db: Database, objects: ObjectStore, *, rules: ExamRules, now: datetime, limit: int = 500
) -> int:
    """Delete the frames taken more than the retention ago, except violations' evidence; how many."""
    cutoff = now - rules.live.retention
    deleted = 0
    cursor = db[LIVE_FRAMES].find({"stored_at": {"$lt": cutoff}, "evidence": {"$ne": True}}).limit(limit)
    async for doc in cursor:
        claimed = await db[LIVE_FRAMES].find_one_and_update(
            {"_id": doc["_id"], "evidence": {"$ne": True}}, {"$set": {"deleting": True}}
        )
        if claimed is None:  # became evidence in the meantime
            continue
        await objects.remove(doc["_id"])
        await db[LIVE_FRAMES].delete_one({"_id": doc["_id"]})
        deleted += 1
    if deleted:
        log.info("exam.live_frames_deleted", frames=deleted)
    return deleted


async def frame_sweeper(
    db: Database, objects: ObjectStore, *, rules: ExamRules, clock: Clock, every: float, stop: asyncio.Event
) -> None:
    """The retention loop (every replica runs one; deleting a frame twice is harmless)."""
    while not stop.is_set():
        try:
            await sweep_frames(db, objects, rules=rules, now=clock())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database or the object store may be away for a moment
            log.warning("exam.live_frame_sweep_error", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def session_of_candidate(store: EventStore, candidate_id: str) -> str | None:
    state = await load(store, candidate_id)
    return state.started.session_id if state.started is not None else None


async def require_session_institution(store: EventStore, candidate_id: str, institution_id: str) -> None:
    """An institution sees a candidate's in-exam checks only if it owns the session of the exam."""
    try:
        session = await load_session(store, await current_session_id(store, candidate_id))
    except Conflict:
        raise NotFound("未找到该考生", code="candidate_not_found") from None
    if session.institution_id != institution_id:
        raise NotFound("未找到该考生", code="candidate_not_found")
