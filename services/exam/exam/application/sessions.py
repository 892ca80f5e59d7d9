"""Session use cases: create, cancel, assign candidates to seats, take a seat back.

Seats are decided on the session's stream and appended at its expected version. A candidate may hold one
seat of a future session only: the claim (`schedule_claims`, write side, candidate id → session) is written
in the same transaction as the seats, so two sessions racing for one candidate cannot both get them. When
two transactions collide, the loser is decided again on fresh state (and then refused if nothing is left).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from servicekit.commands import execute
from servicekit.errors import ConcurrencyConflict
from servicekit.eventstore import EventStore
from servicekit.mongo import Document, Session, in_transaction
from servicekit.snapshots import execute_on_state, load_state, snapshot_if_due

from ..domain import session as domain
from ..domain.candidate import Candidate
from ..domain.discipline import blacklisted_on
from ..domain.sanctions import ensure_sessions_allowed
from ..domain.timing import local_date
from ..projections.candidates import CANDIDATES
from ..projections.sanctions import INSTITUTION_SANCTIONS
from .context import (
    SESSION_SNAPSHOTS,
    ExamRules,
    applicant_from,
    blacklist_entries,
    candidate_stream,
    session_stream,
)

T = TypeVar("T")

CLAIMS = "schedule_claims"
ATTEMPTS = 5


async def create_session(
    store: EventStore,
    *,
    institution_id: str,
    position: str,
    specialisation: str | None,
    starts_at: datetime,
    room: str,
    address: str,
    seats: int,
    created_by: str,
    rules: ExamRules,
    now: datetime,
) -> str:
    suspensions = store.db[INSTITUTION_SANCTIONS].find({"institution_id": institution_id, "lifted": False})
    ensure_sessions_allowed([doc async for doc in suspensions], today=local_date(now))
    session_id = uuid.uuid4().hex
    await execute(
        store,
        session_stream(session_id),
        lambda h: domain.create(
            h,
            session_id=session_id,
            institution_id=institution_id,
            position=position,
            specialisation=specialisation or None,
            starts_at=starts_at,
            room=room,
            address=address,
            seats=seats,
            duration_minutes=rules.duration_minutes,
            created_by=created_by,
            now=now,
            max_seats=rules.max_seats,
        ),
        stream_type="exam_session",
    )
    return session_id


async def retrying(store: EventStore, session_id: str, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run a transaction; a concurrency conflict means another command won: decide again on fresh state.
    Once committed, the session's snapshot is renewed when due."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = await in_transaction(store.client, work)
        except ConcurrencyConflict:
            if attempt == ATTEMPTS:
                raise
            continue
        store.notify()
        await snapshot_if_due(store, session_stream(session_id), SESSION_SNAPSHOTS)
        return result
    raise AssertionError("unreachable")


async def cancel_session(
    store: EventStore,
    session_id: str,
    *,
    institution_id: str | None,
    reason: str,
    cancelled_by: str,
    now: datetime,
) -> list[str]:
    """Cancel; returns the candidates whose seats were taken back."""

    async def work(tx: Session) -> list[str]:
        stored = await execute_on_state(
            store,
            session_stream(session_id),
            SESSION_SNAPSHOTS,
            lambda state: domain.cancel(
                state, institution_id=institution_id, reason=reason, cancelled_by=cancelled_by, now=now
            ),
            stream_type="exam_session",
            session=tx,
        )
        freed = [str(s.envelope.data["candidate_id"]) for s in stored if "candidate_id" in s.envelope.data]
        await store.db[CLAIMS].delete_many({"_id": {"$in": freed}, "session_id": session_id}, session=tx)
        return freed

    return await retrying(store, session_id, work)


async def assign(
    store: EventStore,
    session_id: str,
    *,
    institution_id: str | None,
    candidate_ids: Sequence[str],
    now: datetime,
) -> list[dict[str, object]]:
    """Seats for all the candidates or for none (DomainError `schedule_refused` names each refusal)."""
    docs: dict[str, Document] = {
        d["_id"]: d async for d in store.db[CANDIDATES].find({"_id": {"$in": list(candidate_ids)}})
    }
    known = {cid: d for cid, d in docs.items() if "applied_at" in d}
    blacklist = await blacklist_entries(store.db, [d["id_number"] for d in known.values()])

    async def work(tx: Session) -> list[dict[str, object]]:
        state, version, _ = await load_state(store, session_stream(session_id), SESSION_SNAPSHOTS, session=tx)
        claims = {
            c["_id"]: c
            async for c in store.db[CLAIMS].find({"_id": {"$in": list(candidate_ids)}}, session=tx)
        }
        requested = []
        for cid in candidate_ids:
            doc = known.get(cid)
            claim = claims.get(cid)
            elsewhere = None
            if claim is not None and claim["session_id"] != session_id and claim["starts_at"] > now:
                elsewhere = claim["starts_at"]
            finished = False
            if doc is not None:
                finished = doc.get("status") not in ("schedulable", "scheduled")
                if not finished:  # the read model may lag behind a check-in: the stream is the truth
                    own, _ = await store.load_events(candidate_stream(cid), session=tx)
                    finished = Candidate.from_history(own).checked_in
            until = (
                blacklisted_on(blacklist.get(doc["id_number"], []), state.day)
                if doc is not None and state.exists
                else None
            )
            requested.append(
                domain.Schedulability(
                    candidate_id=cid,
                    applicant=applicant_from(doc) if doc is not None else None,
                    scheduled_elsewhere=elsewhere,
                    finished=finished,
                    blacklisted_until=until,
                )
            )
        decided = domain.assign(state, institution_id=institution_id, requested=requested, now=now)
        stored = await store.append(
            session_stream(session_id),
            decided,
            expected_version=version,
            stream_type="exam_session",
            session=tx,
        )
        seats = []
        for item in stored:
            data = item.envelope.data
            await store.db[CLAIMS].replace_one(
                {"_id": data["candidate_id"]},
                {"_id": data["candidate_id"], "session_id": session_id, "starts_at": state.start},
                upsert=True,
                session=tx,
            )
            seats.append({"candidate_id": data["candidate_id"], "seat": data["seat"], "name": data["name"]})
        return seats

    return await retrying(store, session_id, work)


async def unschedule(
    store: EventStore,
    session_id: str,
    candidate_id: str,
    *,
    institution_id: str | None,
    reason: str,
    now: datetime,
) -> None:
    async def work(tx: Session) -> None:
        own, _ = await store.load_events(candidate_stream(candidate_id), session=tx)
        checked_in = Candidate.from_history(own).checked_in
        await execute_on_state(
            store,
            session_stream(session_id),
            SESSION_SNAPSHOTS,
            lambda state: domain.unschedule(
                state,
                institution_id=institution_id,
                candidate_id=candidate_id,
                reason=reason,
                checked_in=checked_in,
                now=now,
            ),
            stream_type="exam_session",
            session=tx,
        )
        await store.db[CLAIMS].delete_one({"_id": candidate_id, "session_id": session_id}, session=tx)

    await retrying(store, session_id, work)


async def ensure_indexes(store: EventStore) -> None:
    await store.db[CLAIMS].create_index("session_id")
