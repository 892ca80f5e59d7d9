"""HTTP API of violations (the proctor of the candidate's session) and the blacklist (the administrator)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.bodylimit import MiB, body_limit
from servicekit.errors import NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.paging import BoundedModel

from ..adapters.images import check_evidence
from ..application import discipline as handlers
from ..domain.timing import local_date
from ..projections.discipline import BLACKLIST, VIOLATIONS
from .deps import Now, Objects, Rules, Settings, visible_candidate

router = APIRouter(prefix="/api/exam", tags=["违纪与黑名单"])

Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]
Manager = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]


class Blacklist(BoundedModel):
    id_number: str = Field(min_length=15, max_length=18, description="身份证号")
    name: str = Field(default="", max_length=50)
    reason: str = Field(min_length=1, max_length=500, description="原因")
    violation_id: str | None = Field(default=None, max_length=64, description="相关违纪记录（可选）")
    until: date | None = Field(default=None, description="截止日期（含当天；不填则按系统设置的天数）")


class Lift(BoundedModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/candidates/{candidate_id}/violations",
    status_code=201,
    summary="记录违纪（本场考试的培训机构监考；可附证据：JPEG、PNG 或 PDF，或以考试中人脸核验的照片为证据）",
)
@body_limit(lambda s: s.exam_evidence_max_files * s.exam_evidence_max_bytes + MiB)
async def record_violation(
    candidate_id: str,
    identity: Institution,
    rt: RuntimeDep,
    objects: Objects,
    settings: Settings,
    rules: Rules,
    idem: IdempotencyDep,
    description: Annotated[str, Form(max_length=2000, description="违纪情况（至少 5 个字）")],
    files: Annotated[list[UploadFile] | None, File(description="证据文件（可多个）")] = None,
    live_check_id: Annotated[
        str | None,
        Form(
            max_length=64,
            description=(
                "可选：考试中人脸核验提醒的核验编号（check_id）；该次照片作为违纪证据，"
                "须该考生已连续多次核验不一致（否则 409 violation_not_allowed）"
            ),
        ),
    ] = None,
) -> dict[str, str]:
    await visible_candidate(rt, candidate_id, identity)
    uploads = [(f.filename or "", await f.read(settings.exam_evidence_max_bytes + 1)) for f in files or []]
    if len(uploads) <= settings.exam_evidence_max_files:  # more: the handler refuses them all at once
        for name, data in uploads:  # each decoded completely before anything is stored
            await asyncio.to_thread(
                check_evidence, data, max_bytes=settings.exam_evidence_max_bytes, name=name
            )

    async def work() -> dict[str, str]:
        violation_id = await handlers.record_violation(
            rt.store,
            objects,
            candidate_id,
            institution_id=identity.org_id or "",
            description=description,
            files=uploads,
            max_bytes=settings.exam_evidence_max_bytes,
            max_files=settings.exam_evidence_max_files,
            recorded_by=identity.account_id,
            live_check_id=live_check_id or None,
            live_rules=rules.live,
        )
        return {"violation_id": violation_id}

    return await idem.run(
        {"description": description, "files": uploads, "live_check_id": live_check_id}, work
    )


@router.get("/violations", summary="违纪记录：培训机构看本机构的，管理员看全部")
async def list_violations(
    identity: Manager,
    rt: RuntimeDep,
    id_number: str | None = Query(default=None, max_length=18),
    limit: int = Query(default=100, ge=1, le=500),
) -> dict[str, Any]:
    query = scope_filter(identity, enterprise=None)
    if id_number:
        query["id_number"] = id_number
    cursor = rt.db[VIOLATIONS].find(query).sort("recorded_at", -1).limit(limit)
    return {"items": [{"violation_id": d.pop("_id"), **d} async for d in cursor]}


@router.get("/violations/{violation_id}/evidence", summary="违纪证据的临时下载链接（5 分钟有效）")
async def evidence_links(
    violation_id: str, identity: Manager, rt: RuntimeDep, objects: Objects
) -> dict[str, Any]:
    doc = await rt.db[VIOLATIONS].find_one({"_id": violation_id})
    if doc is None or (identity.role is not Role.ADMIN and doc["institution_id"] != identity.org_id):
        raise NotFound("未找到该违纪记录", code="violation_not_found")
    links = [
        {"key": k, "url": await objects.presigned_get(k, timedelta(minutes=5))} for k in doc["evidence_keys"]
    ]
    return {"violation_id": violation_id, "evidence": links}


@router.post(
    "/blacklist", status_code=201, summary="列入考试黑名单（管理员；期间不能安排考试，证书服务据此撤销证书）"
)
async def add_to_blacklist(
    body: Blacklist, identity: Admin, rt: RuntimeDep, rules: Rules, now: Now
) -> dict[str, Any]:
    today = local_date(now)
    blacklist_id = await handlers.blacklist(
        rt.store,
        id_number=body.id_number.strip().upper(),
        name=body.name,
        reason=body.reason,
        violation_id=body.violation_id,
        until=body.until,
        today=today,
        default_days=rules.blacklist_days,
        blacklisted_by=identity.account_id,
    )
    until = body.until or today + timedelta(days=rules.blacklist_days)
    return {"blacklist_id": blacklist_id, "until": until.isoformat()}


@router.get("/blacklist", summary="考试黑名单（管理员）")
async def list_blacklist(
    identity: Admin,
    rt: RuntimeDep,
    now: Now,
    id_number: str | None = Query(default=None, max_length=18),
    active: bool = Query(default=False, description="只看今天仍有效的"),
    limit: int = Query(default=200, ge=1, le=1000),
) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if id_number:
        query["id_number"] = id_number.strip().upper()
    if active:
        query.update(lifted=False, until={"$gte": local_date(now).isoformat()})
    cursor = rt.db[BLACKLIST].find(query).sort("blacklisted_at", -1).limit(limit)
    return {"items": [{"blacklist_id": d.pop("_id"), **d} async for d in cursor]}


@router.post("/blacklist/{blacklist_id}/lift", status_code=204, summary="解除黑名单（管理员）")
async def lift_blacklist(blacklist_id: str, body: Lift, identity: Admin, rt: RuntimeDep) -> None:
    await handlers.lift(rt.store, blacklist_id, reason=body.reason, lifted_by=identity.account_id)
