"""Sanctions against institutions (stream `sanctions-<institution_id>`): recording and lifting (the
administrator), the history (read from the stream: the administrator sees a new sanction at once), the check a
new batch makes (read from the stream, consistent with what was just recorded), and which institutions the
search and the comparison leave out today (the `institution_sanctions` read model)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from events import InstitutionSanctioned, InstitutionSanctionLifted
from servicekit.commands import execute
from servicekit.errors import NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Database, Session

from ..domain import sanctions as domain
from ..domain.sanctions import InstitutionSanctions, Kind
from ..projections.sanctions import SANCTIONS
from .institutions import load_offer

STREAM_TYPE = "institution_sanctions"


def stream_id(institution_id: str) -> str:
    return f"sanctions-{institution_id}"


async def _institution_name(store: EventStore, institution_id: str) -> str:
    offer = await load_offer(store, institution_id)
    if offer is None:
        raise NotFound(
            f"未找到培训机构（编号 {institution_id}）：该机构尚未发布招生信息，平台无其记录",
            code="institution_not_found",
        )
    return str(offer.get("name") or "")


async def record(
    store: EventStore,
    *,
    institution_id: str,
    kind: str,
    reason: str,
    starts_on: date | None,
    ends_on: date | None,
    today: date,
    max_days: int,
    recorded_by: str,
) -> dict[str, Any]:
    """Record a sanction; the institution's sanctions as they now are (read-your-writes)."""
    name = await _institution_name(store, institution_id)
    sanction_id = uuid.uuid4().hex
    await execute(
        store,
        stream_id(institution_id),
        lambda history: domain.sanction(
            history,
            sanction_id=sanction_id,
            institution_id=institution_id,
            institution_name=name,
            kind=kind,
            reason=reason,
            starts_on=starts_on,
            ends_on=ends_on,
            today=today,
            max_days=max_days,
            recorded_by=recorded_by,
        ),
        stream_type=STREAM_TYPE,
    )
    return {"sanction_id": sanction_id, **await history(store, institution_id, today=today)}


async def lift(
    store: EventStore, *, institution_id: str, sanction_id: str, reason: str, today: date, lifted_by: str
) -> dict[str, Any]:
    await execute(
        store,
        stream_id(institution_id),
        lambda h: domain.lift(h, sanction_id=sanction_id, reason=reason, today=today, lifted_by=lifted_by),
        stream_type=STREAM_TYPE,
    )
    return await history(store, institution_id, today=today)


async def history(store: EventStore, institution_id: str, *, today: date) -> dict[str, Any]:
    """Every sanction of the institution, newest first, each with its state today; `in_force`: the kinds in
    force today (the suspensions) and whether a warning is on record."""
    stored = await store.load(stream_id(institution_id))
    events = [item.decode() for item in stored]
    recorded_at: dict[str, Any] = {}
    lifted_at: dict[str, Any] = {}
    for item, event in zip(stored, events, strict=True):
        if isinstance(event, InstitutionSanctioned):
            recorded_at[event.sanction_id] = item.recorded_at
        elif isinstance(event, InstitutionSanctionLifted):
            lifted_at[event.sanction_id] = item.recorded_at
    state = InstitutionSanctions.from_history(events)
    items = [
        domain.sanction_view(
            s, today=today, recorded_at=recorded_at.get(s.sanction_id), lifted_at=lifted_at.get(s.sanction_id)
        )
        for s in reversed(list(state.sanctions.values()))
    ]
    return {
        "institution_id": institution_id,
        "today": today.isoformat(),
        "items": items,
        "in_force": sorted({i["kind"] for i in items if i["in_force"]}),
        "warnings": sum(1 for i in items if i["kind"] == Kind.WARNING and not i["lifted"]),
    }


async def ensure_enrollment_open(
    store: EventStore, institution_id: str, *, today: date, session: Session | None = None
) -> None:
    """Refuse a new batch (409 `institution_suspended`, naming the period and the reason) while a suspension
    of new enrollments is in force today."""
    stored = await store.load(stream_id(institution_id), session=session)
    if not stored:
        return
    events = [item.decode() for item in stored]
    label = "该培训机构"
    for event in events:
        if isinstance(event, InstitutionSanctioned) and event.institution_name:
            label = f"培训机构“{event.institution_name}”"
    domain.ensure_not_suspended(events, kind=Kind.SUSPEND_ENROLLMENT, today=today, institution_label=label)


async def suspended_enrollment(
    db: Database, today: date, institution_ids: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Institution id → the suspension of new enrollments in force today (the one ending last), from the read
    model: the search and the comparison leave these institutions out."""
    day = today.isoformat()
    query: dict[str, Any] = {
        "kind": Kind.SUSPEND_ENROLLMENT.value,
        "lifted": False,
        "starts_on": {"$lte": day},
        "ends_on": {"$gte": day},
    }
    if institution_ids is not None:
        query["institution_id"] = {"$in": list(institution_ids)}
    found: dict[str, dict[str, Any]] = {}
    async for doc in db[SANCTIONS].find(query):
        current = found.get(doc["institution_id"])
        if current is None or doc["ends_on"] > current["ends_on"]:
            found[doc["institution_id"]] = {
                "sanction_id": doc["_id"],
                "kind": doc["kind"],
                "starts_on": doc["starts_on"],
                "ends_on": doc["ends_on"],
                "reason": doc["reason"],
                "message": f"暂停招生（{doc['starts_on']} 至 {doc['ends_on']}，原因：{doc['reason']}）",
            }
    return found
