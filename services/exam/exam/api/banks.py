"""HTTP API of the question banks: import (.xlsx), template, list, view, retire, demo banks."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import DomainError

from ..adapters.bank_sheet import BankSheetError, bank_template, read_bank_sheet
from ..application import banks
from ..domain.bank import ADMIN_OWNER
from ..projections.banks import QUESTION_BANKS
from ..settings import ExamSettings

router = APIRouter(prefix="/api/exam", tags=["题库"])

BankManager = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]
Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _settings(rt: RuntimeDep) -> ExamSettings:
    settings = rt.settings
    assert isinstance(settings, ExamSettings)
    return settings


Settings = Annotated[ExamSettings, Depends(_settings)]


def _owner(identity: Identity) -> str:
    """The owner of what the caller imports: its institution, or "admin" for the administrator."""
    if identity.role is Role.ADMIN:
        return ADMIN_OWNER
    if not identity.org_id:
        raise DomainError("账号未关联培训机构", code="bank_no_institution", status=403)
    return identity.org_id


@router.post(
    "/banks/import",
    status_code=201,
    summary="导入题库（.xlsx；任何一行有错误时不导入，返回每一处问题）",
)
async def import_bank(
    identity: BankManager,
    rt: RuntimeDep,
    settings: Settings,
    file: Annotated[
        UploadFile, File(description="题库表格（.xlsx，请使用 GET /api/exam/banks/template 的模板）")
    ],
    position: Annotated[str, Form(description="岗位，如 施工员、安全员")],
    title: Annotated[str, Form(description="题库名称")],
    specialisation: Annotated[
        str | None, Form(description="专业方向（施工员、质量员可选；不填则适用于该岗位所有专业方向）")
    ] = None,
) -> dict[str, Any]:
    spec = banks.BankSpec(
        owner_id=_owner(identity),
        position=position.strip(),
        specialisation=(specialisation or "").strip() or None,
        title=title,
        imported_by=identity.account_id,
    )
    banks.check_spec(spec)  # answer at once when the form itself is wrong
    data = await file.read(settings.exam_bank_max_bytes + 1)
    try:
        sheet = await asyncio.to_thread(
            read_bank_sheet,
            data,
            max_bytes=settings.exam_bank_max_bytes,
            max_rows=settings.exam_bank_max_questions,
        )
    except BankSheetError as exc:
        raise DomainError(exc.message, code=exc.code, status=exc.status) from exc
    return await banks.import_sheet(
        rt.store,
        spec,
        header=sheet.header,
        rows=sheet.rows,
        header_row=sheet.header_row,
        max_questions=settings.exam_bank_max_questions,
    )


@router.get("/banks/template", summary="下载题库导入模板（.xlsx）")
async def template(identity: BankManager) -> Response:
    data = await asyncio.to_thread(bank_template)
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('题库导入模板.xlsx')}"},
    )


@router.post("/banks/demo", summary="导入演示题库（每个岗位一个，已导入的不重复导入）")
async def demo(identity: Admin, rt: RuntimeDep) -> dict[str, Any]:
    items = await banks.load_demo_banks(rt.store, imported_by=identity.account_id)
    return {"items": items, "created": sum(1 for i in items if i["created"])}


@router.get("/banks", summary="题库列表（培训机构：本机构的和管理员的公共题库；不含题目与答案）")
async def list_banks(
    identity: BankManager,
    rt: RuntimeDep,
    position: str | None = Query(default=None, max_length=20, description="岗位"),
    include_retired: bool = Query(default=True, description="是否包括已停用的题库"),
    limit: int = Query(default=200, ge=1, le=1000),
) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if identity.role is not Role.ADMIN:
        query["owner_id"] = {"$in": banks.visible_owners(identity.org_id)}
    if position:
        query["position"] = position
    if not include_retired:
        query["retired"] = {"$ne": True}
    cursor = (
        rt.db[QUESTION_BANKS]
        .find(query, {"questions": 0, "pending_parts": 0})
        .sort([("imported_at", -1), ("_id", 1)])
        .limit(limit)
    )
    return {"items": [banks.summary(doc) async for doc in cursor]}


@router.get("/banks/{bank_id}", summary="题库详情与题目（答案仅对题库所有者与管理员显示）")
async def get_bank(bank_id: str, identity: BankManager, rt: RuntimeDep) -> dict[str, Any]:
    viewer = None if identity.role is Role.ADMIN else (identity.org_id or "")
    return await banks.get_bank(rt.store, bank_id, viewer_org=viewer)


@router.post("/banks/{bank_id}/retire", summary="停用题库（已抽取的试卷不受影响）")
async def retire_bank(bank_id: str, identity: BankManager, rt: RuntimeDep) -> dict[str, Any]:
    by_owner = None if identity.role is Role.ADMIN else _owner(identity)
    await banks.retire(rt.store, bank_id, by_owner=by_owner, retired_by=identity.account_id)
    return {"bank_id": bank_id, "retired": True}
