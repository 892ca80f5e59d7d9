"""Enrollment use cases."""

from __future__ import annotations

from collections.abc import Callable

from events import ApplicantsImported, DomainEvent
from servicekit.commands import execute
from servicekit.errors import Forbidden, NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Session

from ..domain import applicant as applicant_domain

APPLICANT_INDEX = "applicant_index"  # write side: applicant id -> its batch (and the batch's owner)


def batch_stream(batch_id: str) -> str:
    return f"batch-{batch_id}"


def applicant_stream(applicant_id: str) -> str:
    return f"applicant-{applicant_id}"


async def ensure_indexes(store: EventStore) -> None:
    await store.db[APPLICANT_INDEX].create_index([("id_number", 1), ("position", 1)])
    await store.db[APPLICANT_INDEX].create_index("batch_id")


async def load_applicant(
    store: EventStore, applicant_id: str, *, session: Session | None = None
) -> tuple[applicant_domain.Applicant, int]:
    index = await store.db[APPLICANT_INDEX].find_one({"_id": applicant_id}, session=session)
    if index is None:
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    batch_events, _ = await store.load_events(batch_stream(index["batch_id"]), session=session)
    # A large batch is several ApplicantsImported events (chunks): take the one naming the applicant.
    batch = next(
        e
        for e in batch_events
        if isinstance(e, ApplicantsImported) and any(a.applicant_id == applicant_id for a in e.applicants)
    )
    history, version = await store.load_events(applicant_stream(applicant_id), session=session)
    return applicant_domain.Applicant.from_history(batch, applicant_id, history), version


async def change_applicant(
    store: EventStore,
    applicant_id: str,
    decide: Callable[[applicant_domain.Applicant], list[DomainEvent]],
    *,
    institution_id: str | None = None,
    session: Session | None = None,
) -> None:
    """Load the applicant, check the institution owns it (when given), decide and append."""
    state, _ = await load_applicant(store, applicant_id, session=session)
    if institution_id is not None and state.batch.institution_id != institution_id:
        raise Forbidden("该学员不是向本机构报名的", code="not_owner")
    batch = state.batch

    def decide_on_history(history: list[DomainEvent]) -> list[DomainEvent]:
        return decide(applicant_domain.Applicant.from_history(batch, applicant_id, history))

    await execute(
        store, applicant_stream(applicant_id), decide_on_history, stream_type="applicant", session=session
    )
