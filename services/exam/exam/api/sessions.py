"""HTTP API of exam sessions (考场): create, list, view, cancel, assign candidates, take a seat back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import NotFound
from servicekit.paging import BoundedModel, Paging

from ..application import sessions as handlers
from ..projections.sessions import SESSIONS
from .deps import Now, Rules

router = APIRouter(prefix="/api/exam", tags=["考场安排"])

Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
Manager = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]


class CreateSession(BoundedModel):
    position: str = Field(max_length=20, description="岗位，如 施工员、安全员")
    specialisation: str | None = Field(
        default=None, max_length=20, description="专业方向（施工员、质量员可选）"
    )
    starts_at: datetime = Field(description="开考时间（带时区，如 2026-12-01T09:00:00+08:00）")
    room: str = Field(min_length=1, max_length=100, description="考场（考室）名称")
    address: str = Field(default="", max_length=200, description="考点地址")
    seats: int = Field(description="座位数（1–500）")


class CancelSession(BoundedModel):
    reason: str = Field(min_length=1, max_length=500, description="取消原因（必填）")


class AssignCandidates(BoundedModel):
    candidate_ids: list[Annotated[str, Field(max_length=64)]] = Field(
        min_length=1, max_length=500, description="考生编号（全部可安排才安排）"
    )


def _institution(identity: Identity) -> str | None:
    return None if identity.role is Role.ADMIN else identity.org_id or ""


def _session_view(doc: dict[str, Any]) -> dict[str, Any]:
    view = {"session_id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}
    view["seats_free"] = doc["seats"] - doc.get("seats_taken", 0)
    view["status_label"] = {"scheduled": "已安排", "cancelled": "已取消"}.get(doc["status"], doc["status"])
    return view


@router.post("/sessions", status_code=201, summary="创建考场（开考时间、考场、座位数；时长按系统设置）")
async def create_session(
    body: CreateSession, identity: Institution, rt: RuntimeDep, rules: Rules, now: Now
) -> dict[str, Any]:
    session_id = await handlers.create_session(
        rt.store,
        institution_id=identity.org_id or "",
        position=body.position,
        specialisation=body.specialisation,
        starts_at=body.starts_at,
        room=body.room,
        address=body.address,
        seats=body.seats,
        created_by=identity.account_id,
        rules=rules,
        now=now,
    )
    return {
        "session_id": session_id,
        "duration_minutes": rules.duration_minutes,
        "demo_timing": rules.demo_timing,
    }


@router.get("/sessions", summary="考场列表：培训机构看本机构的，管理员看全部")
async def list_sessions(
    identity: Manager,
    rt: RuntimeDep,
    page: Paging,
    now: Now,
    status: Literal["scheduled", "cancelled"] | None = None,
    position: str | None = Query(default=None, max_length=20),
    upcoming: bool = Query(default=False, description="只看尚未开考的"),
) -> dict[str, Any]:
    query = scope_filter(identity, enterprise=None)
    if status:
        query["status"] = status
    if position:
        query["position"] = position
    if upcoming:
        query["starts_at"] = {"$gt": now}
    cursor = page.apply(rt.db[SESSIONS].find(query, {"seating": 0}).sort("starts_at", 1))
    items = [_session_view(d) async for d in cursor]
    return {"items": items, "total": await rt.db[SESSIONS].count_documents(query)}


@router.get("/sessions/{session_id}", summary="考场详情（座位表）")
async def get_session(session_id: str, identity: Manager, rt: RuntimeDep) -> dict[str, Any]:
    doc = await rt.db[SESSIONS].find_one({"_id": session_id})
    if doc is None or (identity.role is not Role.ADMIN and doc["institution_id"] != identity.org_id):
        raise NotFound("未找到该考场", code="session_not_found")
    return _session_view(doc)


@router.post("/sessions/{session_id}/cancel", summary="取消考场（已安排的考生回到待安排）")
async def cancel_session(
    session_id: str, body: CancelSession, identity: Manager, rt: RuntimeDep, now: Now
) -> dict[str, Any]:
    freed = await handlers.cancel_session(
        rt.store,
        session_id,
        institution_id=_institution(identity),
        reason=body.reason,
        cancelled_by=identity.account_id,
        now=now,
    )
    return {"session_id": session_id, "unscheduled": freed}


@router.post(
    "/sessions/{session_id}/candidates",
    summary="安排考生（全部可安排才安排，否则逐个说明原因；座位号自动分配）",
)
async def assign_candidates(
    session_id: str, body: AssignCandidates, identity: Institution, rt: RuntimeDep, now: Now
) -> dict[str, Any]:
    seats = await handlers.assign(
        rt.store, session_id, institution_id=identity.org_id or "", candidate_ids=body.candidate_ids, now=now
    )
    return {"session_id": session_id, "scheduled": seats}


@router.delete(
    "/sessions/{session_id}/candidates/{candidate_id}",
    status_code=204,
    summary="将考生移出考场（入场核验前）",
)
async def unschedule_candidate(
    session_id: str,
    candidate_id: str,
    identity: Institution,
    rt: RuntimeDep,
    now: Now,
    reason: str = Query(default="", max_length=500),
) -> None:
    await handlers.unschedule(
        rt.store, session_id, candidate_id, institution_id=identity.org_id or "", reason=reason, now=now
    )
