"""Institution review (one by one or in bulk, all or nothing) and the enterprise's correction of a rejected
applicant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from events import DomainEvent
from events.enrollment import ImportedApplicant
from servicekit.errors import DomainError
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, in_transaction
from servicekit.streams import commit, retrying

from ..domain import applicant as applicant_domain
from ..domain import sheet as sheet_rules
from .handlers import (
    APPLICANT_INDEX,
    change_applicant,
    decide_applicants,
    open_filter,
    read_applicant,
)
from .imports import open_enrollment_message, registered_name


async def open_elsewhere(
    store: EventStore, state: applicant_domain.Applicant, id_number: str | None = None
) -> dict[str, Any] | None:
    """Another open enrollment of the applicant's person (or `id_number`), position and kind, if any."""
    b = state.batch
    return await store.db[APPLICANT_INDEX].find_one(
        {
            "id_number": id_number or state.record.id_number,
            "_id": {"$ne": state.applicant_id},
            **open_filter(position=b.position, continuing_education=b.continuing_education),
        }
    )


async def review(
    store: EventStore,
    applicant_ids: Sequence[str],
    *,
    institution_id: str,
    reviewer_id: str,
    approve: bool,
    reason: str = "",
) -> None:
    """Approve (已审核) or reject (未通过, with a reason) several applicants in one transaction: every one
    of them is checked, and nothing is recorded unless all can be. Each applicant's stream is read once (one
    query per 50 of them) and the decisions are appended with one insert (the transaction holds only it)."""
    if not applicant_ids:
        raise DomainError("请选择学员", code="empty_selection")
    if len(set(applicant_ids)) != len(applicant_ids):
        raise DomainError("学员重复选择", code="duplicate_selection")

    def decide(state: applicant_domain.Applicant) -> list[DomainEvent]:
        if approve:
            return applicant_domain.qualify(state, reviewer_id=reviewer_id)
        return applicant_domain.reject(state, reviewer_id=reviewer_id, reason=reason)

    async def request() -> None:
        states: dict[str, applicant_domain.Applicant] = {}
        streams, problems = await decide_applicants(
            store, applicant_ids, decide, institution_id=institution_id, states=states
        )
        if approve:
            problems += await _reopen_problems(store, states)
        if problems:
            raise DomainError(
                f"{len(problems)} 名学员不能{'审核通过' if approve else '审核不通过'}，本次未做任何修改",
                code="review_refused",
                status=409,
                details=problems,
            )
        await commit(store, streams, streams.index_writes)

    await retrying(request)


async def _reopen_problems(
    store: EventStore, states: dict[str, applicant_domain.Applicant]
) -> list[dict[str, Any]]:
    """Approving a rejected applicant opens its enrollment again: refused while the same person has another
    open enrollment of the position and kind (imported after the rejection). Reads the index only for
    rejected applicants (the states are those the decision was made on)."""
    problems = []
    for applicant_id, state in states.items():
        if state.closed_reason != applicant_domain.REJECTED:
            continue
        if other := await open_elsewhere(store, state):
            message = await open_enrollment_message(store, other, state.batch.position)
            problems.append(
                {"applicant_id": applicant_id, "code": "duplicate_open_batch", "message": message}
            )
    return problems


async def correct(
    store: EventStore, applicant_id: str, *, enterprise_id: str, row: dict[str, Any], today: date
) -> dict[str, Any]:
    """Validate the corrected row with the sheet's rules, then record it; it is reviewed again."""
    loaded = await read_applicant(store, applicant_id)
    state = loaded.state
    if state.batch.enterprise_id != enterprise_id:
        raise DomainError("未找到该学员报名记录", code="applicant_not_found", status=404)
    header = list(sheet_rules.COLUMNS)
    cells = [row.get(key) for key in ROW_KEYS]
    rules = sheet_rules.SheetRules(today=today, employer=await registered_name(store, enterprise_id))
    result = sheet_rules.validate_sheet(header, [cells], rules)
    if result.problems:
        raise DomainError(
            "学员信息不正确：" + "；".join(p.message for p in result.problems[:3]),
            code="invalid_applicant",
            details=[
                {
                    "field": KEY_OF_COLUMN.get(p.column, p.column),
                    "code": p.code,
                    "message": p.message,
                    "value": p.value,
                }
                for p in result.problems
            ],
        )
    record = ImportedApplicant(applicant_id=applicant_id, **asdict(result.records[0]))
    # the duplicate rule: the corrected applicant (open again) must be the person's only open enrollment
    if other := await open_elsewhere(store, state, record.id_number):
        raise DomainError(
            await open_enrollment_message(store, other, state.batch.position), code="duplicate_open_batch"
        )

    async def work(session: Session) -> None:
        await change_applicant(
            store, applicant_id, lambda s: applicant_domain.correct(s, record), session=session, loaded=loaded
        )
        await store.db[APPLICANT_INDEX].update_one(
            {"_id": applicant_id}, {"$set": {"id_number": record.id_number}}, session=session
        )

    await in_transaction(store.client, work)
    store.notify()
    return record.model_dump(mode="json")


ROW_KEYS = (
    "name",
    "gender",
    "id_number",
    "mobile",
    "education",
    "employer",
    "major",
    "graduated_on",
    "years_in_post",
)
KEY_OF_COLUMN = dict(zip(sheet_rules.COLUMNS, ROW_KEYS, strict=True))


def rows_from_json(rows: Sequence[dict[str, Any]]) -> tuple[list[object], list[list[object]]]:
    """JSON applicants as a sheet (header + rows), so both paths share every rule."""
    return list(sheet_rules.COLUMNS), [[row.get(key) for key in ROW_KEYS] for row in rows]


async def withdraw(store: EventStore, applicant_id: str, *, enterprise_id: str, reason: str = "") -> None:
    """The enterprise withdraws its applicant before payment (EnrollmentClosed `withdrawn`; the index's row
    closes in the same transaction, so the person may be enrolled again)."""

    async def request() -> None:
        loaded = await read_applicant(store, applicant_id)
        if loaded.state.batch.enterprise_id != enterprise_id:
            raise DomainError("未找到该学员报名记录", code="applicant_not_found", status=404)

        async def work(session: Session) -> None:
            await change_applicant(
                store,
                applicant_id,
                lambda s: applicant_domain.withdraw(s, reason=reason),
                session=session,
                loaded=loaded,
            )

        await in_transaction(store.client, work)
        store.notify()

    await retrying(request)
