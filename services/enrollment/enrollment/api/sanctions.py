"""HTTP API of sanctions against institutions: record and lift (the administrator), the history (the
administrator; an institution its own, also as `me`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from servicekit import clock
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import Forbidden, NotFound
from servicekit.paging import BoundedModel

from ..application import sanctions as handlers
from ..settings import EnrollmentSettings

router = APIRouter(prefix="/api/enrollment", tags=["培训机构处理"])

Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]
AdminOrInstitution = Annotated[Identity, Depends(require_roles(Role.ADMIN, Role.INSTITUTION))]


def business_today(request: Request) -> date:
    """Today in China time; the app's `state.clock` (a function returning the moment) when tests set one."""
    moment = getattr(request.app.state, "clock", None)
    return clock.today(moment() if callable(moment) else None)


Today = Annotated[date, Depends(business_today)]


class SanctionRequest(BoundedModel):
    kind: Literal["warning", "suspend_enrollment", "suspend_exam_sessions"] = Field(
        description="warning（警告，不限制业务）、suspend_enrollment（暂停招生：不能新报名，招生信息不再出现在"
        "查找与比较中）、suspend_exam_sessions（暂停考试安排：不能新建考场）"
    )
    reason: str = Field(min_length=1, max_length=500, description="处理原因")
    starts_on: date | None = Field(
        default=None, description="开始日期（含当天，中国时间；不填为今天；不能早于今天；警告不填）"
    )
    ends_on: date | None = Field(default=None, description="结束日期（含当天；暂停必填；警告不填）")


class LiftRequest(BoundedModel):
    reason: str = Field(min_length=1, max_length=500, description="解除原因")


def _max_days(rt: Any) -> int:
    settings = rt.settings
    assert isinstance(settings, EnrollmentSettings)
    return settings.sanction_max_days


def _visible(institution_id: str, identity: Identity) -> str:
    """The administrator sees any institution's sanctions; an institution only its own (`me` = its own)."""
    if identity.role is Role.ADMIN:
        if institution_id == "me":
            raise NotFound("管理员请指定培训机构编号", code="institution_not_found")
        return institution_id
    if not identity.org_id:
        raise Forbidden("当前培训机构账号未关联机构编号，请联系管理员", code="no_organisation")
    if institution_id not in ("me", identity.org_id):
        raise NotFound("未找到该培训机构的处理记录", code="institution_not_found")
    return identity.org_id


@router.post(
    "/institutions/{institution_id}/sanctions",
    status_code=201,
    summary="处理培训机构（管理员）：警告，或在一段期间内暂停招生 / 暂停考试安排",
)
async def record_sanction(
    institution_id: str, body: SanctionRequest, identity: Admin, rt: RuntimeDep, today: Today
) -> dict[str, Any]:
    return await handlers.record(
        rt.store,
        institution_id=institution_id,
        kind=body.kind,
        reason=body.reason,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        today=today,
        max_days=_max_days(rt),
        recorded_by=identity.account_id,
    )


@router.post(
    "/institutions/{institution_id}/sanctions/{sanction_id}/lift",
    summary="解除对培训机构的处理（管理员，须填写原因；未开始的暂停即取消，警告即撤销）",
)
async def lift_sanction(
    institution_id: str, sanction_id: str, body: LiftRequest, identity: Admin, rt: RuntimeDep, today: Today
) -> dict[str, Any]:
    return await handlers.lift(
        rt.store,
        institution_id=institution_id,
        sanction_id=sanction_id,
        reason=body.reason,
        today=today,
        lifted_by=identity.account_id,
    )


@router.get(
    "/institutions/{institution_id}/sanctions",
    summary="培训机构的处理记录（管理员看任一机构；培训机构看本机构，编号可写 me），最新的在前",
)
async def list_sanctions(
    institution_id: str, identity: AdminOrInstitution, rt: RuntimeDep, today: Today
) -> dict[str, Any]:
    return await handlers.history(rt.store, _visible(institution_id, identity), today=today)
