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
from .checkin import current_session_id
from .context import load_applicant, load_session


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
) -> str:
    applicant = await load_applicant(store.db, candidate_id)
    session = await load_session(store, await current_session_id(store, candidate_id))
    if institution_id is not None and session.institution_id != institution_id:
        raise NotFound("未找到该考生", code="candidate_not_found")
    if len(files) > max_files:
        raise DomainError(f"证据文件最多 {max_files} 个", code="too_many_evidence_files")
    kinds = [sniff_evidence(data, max_bytes=max_bytes, name=name) for name, data in files]
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
            evidence_keys=keys,
            recorded_by=recorded_by,
        )

    decide([])  # refuse before storing anything
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
