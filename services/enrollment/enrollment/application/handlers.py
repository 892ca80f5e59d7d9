"""Enrollment use cases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from events import ApplicantsImported, DomainEvent
from events.enrollment import ImportedApplicant
from servicekit.commands import execute
from servicekit.errors import Forbidden, NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, in_transaction

from ..domain import applicant as applicant_domain
from ..domain.batch import BatchForm, import_batch

APPLICANT_INDEX = "applicant_index"  # write side: applicant id -> its batch (and the batch's owner)


def batch_stream(batch_id: str) -> str:
    return f"batch-{batch_id}"


def applicant_stream(applicant_id: str) -> str:
    return f"applicant-{applicant_id}"


async def ensure_indexes(store: EventStore) -> None:
    await store.db[APPLICANT_INDEX].create_index([("id_number", 1), ("position", 1)])


async def import_applicants(
    store: EventStore,
    *,
    enterprise_id: str,
    institution_id: str,
    position: str,
    training_mode: str,
    records: Sequence[dict[str, object]],
    specialisation: str | None = None,
    continuing_education: bool = False,
) -> tuple[str, list[str]]:
    """Import a batch atomically: its event and the applicant index are written in one transaction."""
    batch_id = uuid.uuid4().hex
    applicants = [ImportedApplicant(applicant_id=uuid.uuid4().hex, **record) for record in records]
    form = BatchForm(
        batch_id=batch_id,
        enterprise_id=enterprise_id,
        institution_id=institution_id,
        position=position,
        training_mode=training_mode,
        applicants=applicants,
        specialisation=specialisation,
        continuing_education=continuing_education,
    )

    async def work(session: Session) -> None:
        await execute(
            store,
            batch_stream(batch_id),
            lambda h: import_batch(h, form),
            stream_type="batch",
            session=session,
        )
        await store.db[APPLICANT_INDEX].insert_many(
            [
                {
                    "_id": a.applicant_id,
                    "batch_id": batch_id,
                    "enterprise_id": enterprise_id,
                    "institution_id": institution_id,
                    "id_number": a.id_number,
                    "position": position,
                }
                for a in applicants
            ],
            session=session,
        )

    await in_transaction(store.client, work)
    store.notify()
    return batch_id, [a.applicant_id for a in applicants]


async def load_applicant(
    store: EventStore, applicant_id: str, *, session: Session | None = None
) -> tuple[applicant_domain.Applicant, int]:
    index = await store.db[APPLICANT_INDEX].find_one({"_id": applicant_id}, session=session)
    if index is None:
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    batch_events, _ = await store.load_events(batch_stream(index["batch_id"]), session=session)
    batch = batch_events[0]
    assert isinstance(batch, ApplicantsImported)
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
