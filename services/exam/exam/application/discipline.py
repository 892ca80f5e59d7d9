"""Violations (recorded by the proctor of the candidate's session, with evidence in the exam bucket) and the
administrator's blacklist."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from events import DomainEvent
from servicekit import uploads
from servicekit.commands import execute
from servicekit.errors import DomainError, NotFound
from servicekit.eventstore import EventStore
from servicekit.objectstore import ObjectStore

from ..adapters.images import sniff_evidence
from ..domain import discipline as domain
from ..domain import live
from ..domain.candidate import Candidate
from ..domain.live import LiveCheckRules
from .checkin import current_session_id
from .context import candidate_stream, load_applicant, load_session
from .live import keep_as_evidence


def violation_stream(violation_id: str) -> str:
    return f"violation-{violation_id}"


def blacklist_stream(blacklist_id: str) -> str:
    return f"blacklist-{blacklist_id}"


async def record_violation(
    store: EventStore,
    objects: ObjectStore,
    candidate_id: str,
    *,
    institution_id: str | None,
    description: str,
    files: Sequence[tuple[str, bytes]],
    max_bytes: int,
    max_files: int,
    recorded_by: str,
    live_check_id: str | None = None,
    live_rules: LiveCheckRules | None = None,
) -> str:
    """The violation's id. With `live_check_id`, the frame of that in-exam check (an alert of this
    candidate) is the first evidence, only once the candidate has had the threshold's consecutive mismatches
    (409 violation_not_allowed before); the frame is then kept past its retention."""
    applicant = await load_applicant(store.db, candidate_id)
    history, _ = await store.load_events(candidate_stream(candidate_id))
    state = Candidate.from_history(history)
    session = await load_session(store, await current_session_id(store, candidate_id, state))
    if institution_id is not None and session.institution_id != institution_id:
        raise NotFound("未找到该考生", code="candidate_not_found")
    if len(files) > max_files:
        raise DomainError(f"证据文件最多 {max_files} 个", code="too_many_evidence_files")
    kinds = [sniff_evidence(data, max_bytes=max_bytes, name=name) for name, data in files]
    frame_keys: list[str] = []
    if live_check_id:
        frame_keys.append(live.violation_evidence(state, live_check_id, live_rules or LiveCheckRules()))
    violation_id = uuid.uuid4().hex
    keys = [f"violations/{violation_id}/{n}.{ext}" for n, (_, ext) in enumerate(kinds, start=1)]

    def decide(history: list[DomainEvent]) -> list[DomainEvent]:
        return domain.record_violation(
            history,
            violation_id=violation_id,
            applicant=applicant,
            session_id=session.session_id,
            institution_id=session.institution_id,
            description=description,
            evidence_keys=[*frame_keys, *keys],
            recorded_by=recorded_by,
        )

    decide([])  # refuse before storing anything
    for key in frame_keys:  # the sweeper keeps it from now on (409 live_frame_expired if it is gone)
        await keep_as_evidence(store.db, key, violation_id)
    stored: list[str] = []
    try:
        for key, (content_type, _), (_, data) in zip(keys, kinds, files, strict=True):
            await objects.put(key, data, content_type)
            stored.append(key)
        await execute(store, violation_stream(violation_id), decide, stream_type="violation")
    except BaseException:  # nothing half-written: this violation's evidence goes, unless its event was stored
        await uploads.discard_unrecorded(store, objects, violation_stream(violation_id), stored)
        raise
    return violation_id


async def blacklist(
    store: EventStore,
    *,
    id_number: str,
    name: str,
    reason: str,
    violation_id: str | None,
    until: date | None,
    today: date,
    default_days: int,
    blacklisted_by: str,
) -> str:
    blacklist_id = uuid.uuid4().hex
    await execute(
        store,
        blacklist_stream(blacklist_id),
        lambda h: domain.blacklist(
            h,
            blacklist_id=blacklist_id,
            id_number=id_number,
            name=name,
            reason=reason,
            violation_id=violation_id,
            until=until,
            today=today,
            default_days=default_days,
            blacklisted_by=blacklisted_by,
        ),
        stream_type="blacklist",
    )
    return blacklist_id


async def lift(store: EventStore, blacklist_id: str, *, reason: str, lifted_by: str) -> None:
    await execute(
        store,
        blacklist_stream(blacklist_id),
        lambda h: domain.lift(h, reason=reason, lifted_by=lifted_by),
        stream_type="blacklist",
    )
