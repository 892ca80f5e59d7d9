"""HTTP API of the registration context (thin: parse, authorize, call a use case)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from events.registration import ReviewCheck
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import NotFound
from servicekit.mongo import without_id

from ..application import handlers
from ..domain.enterprise import STATUS_LABELS, RegistrationForm, Status
from ..projections.enterprises import COLLECTION

router = APIRouter(prefix="/api/registration", tags=["企业注册"])


EnterpriseUser = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]
Reviewer = Annotated[Identity, Depends(require_roles(Role.REVIEWER, Role.ADMIN))]
AnyUser = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.REVIEWER, Role.ADMIN))]


class RegisterRequest(BaseModel):
    credit_code: str = Field(description="统一社会信用代码（18 位）", examples=["91330100MA2B3C4D5X"])
    name: str = Field(description="企业全称")
    city: str = Field(description="所在城市（浙江 11 地市之一），由该市建设主管部门审核")
    is_branch: bool = False
    legal_representative: str = ""
    contact_name: str = ""
    contact_mobile: str = ""
    address: str = ""
    business_scope: str = ""
    preferred_institution_id: str | None = None


class ReviewRequest(BaseModel):
    checks: list[ReviewCheck] = Field(
        default_factory=list, description="三项审核：属地企业、施工企业、资料规范"
    )
    reason: str = ""


class EnterpriseView(BaseModel):
    enterprise_id: str
    credit_code: str
    name: str
    city: str
    status: str
    status_label: str
    submission: int
    rejection_reason: str = ""


class Accepted(BaseModel):
    enterprise_id: str
    status: str


def _view(state: Any) -> EnterpriseView:
    status = Status(state.status)
    return EnterpriseView(
        enterprise_id=state.enterprise_id,
        credit_code=state.credit_code,
        name=state.name,
        city=state.city,
        status=status.value,
        status_label=STATUS_LABELS[status],
        submission=state.submission,
        rejection_reason=state.rejection_reason,
    )


@router.post(
    "/enterprises", status_code=201, response_model=Accepted, summary="企业注册（每个企业只能注册一次）"
)
async def register(body: RegisterRequest, identity: EnterpriseUser, rt: RuntimeDep) -> Accepted:
    assert identity.org_id, "enterprise accounts always carry their enterprise id"
    form = RegistrationForm(
        enterprise_id=identity.org_id, account_id=identity.account_id, **body.model_dump()
    )
    await handlers.register(rt.store, form)
    return Accepted(enterprise_id=identity.org_id, status=Status.SUBMITTED.value)


@router.get("/enterprises/me", response_model=EnterpriseView, summary="本企业的注册与审核状态")
async def my_registration(identity: EnterpriseUser, rt: RuntimeDep) -> EnterpriseView:
    state = await handlers.load(rt.store, identity.org_id or "")
    if state.status is None:
        raise NotFound("本企业尚未提交注册信息", code="enterprise_not_found")
    return _view(state)


@router.get("/enterprises/{enterprise_id}", response_model=EnterpriseView, summary="查看一家企业的注册信息")
async def get_enterprise(enterprise_id: str, identity: AnyUser, rt: RuntimeDep) -> EnterpriseView:
    state = await handlers.load(rt.store, enterprise_id)
    visible = state.status is not None and (
        identity.role is Role.ADMIN
        or (identity.role is Role.ENTERPRISE and identity.org_id == enterprise_id)
        or (identity.role is Role.REVIEWER and identity.city == state.city)
    )
    if not visible:
        raise NotFound("未找到该企业的注册信息", code="enterprise_not_found")
    return _view(state)


@router.get("/enterprises", summary="审核队列：本市的企业注册（可按状态、名称、日期筛选）")
async def review_queue(
    identity: Reviewer,
    rt: RuntimeDep,
    status: Status | None = None,
    name: str | None = Query(default=None, description="企业名称包含"),
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    skip: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    query = scope_filter(identity, enterprise=None, institution=None, reviewer="city")
    if status:
        query["status"] = status.value
    if name:
        query["name"] = {"$regex": re.escape(name)}
    if submitted_from or submitted_to:
        query["submitted_at"] = {k: v for k, v in (("$gte", submitted_from), ("$lte", submitted_to)) if v}
    cursor = rt.db[COLLECTION].find(query).sort("submitted_at", 1).skip(skip).limit(limit)
    items = [without_id(doc, "enterprise_id") async for doc in cursor]
    return {"items": items, "total": await rt.db[COLLECTION].count_documents(query)}


@router.post("/enterprises/{enterprise_id}/approve", status_code=204, summary="审核通过（三项均须通过）")
async def approve(enterprise_id: str, body: ReviewRequest, identity: Reviewer, rt: RuntimeDep) -> None:
    await handlers.review(
        rt.store,
        enterprise_id,
        reviewer_id=identity.account_id,
        reviewer_city=identity.city if identity.role is Role.REVIEWER else None,
        checks=body.checks,
        approve=True,
    )


@router.post("/enterprises/{enterprise_id}/reject", status_code=204, summary="审核不通过（须填写原因）")
async def reject(enterprise_id: str, body: ReviewRequest, identity: Reviewer, rt: RuntimeDep) -> None:
    await handlers.review(
        rt.store,
        enterprise_id,
        reviewer_id=identity.account_id,
        reviewer_city=identity.city if identity.role is Role.REVIEWER else None,
        checks=body.checks,
        approve=False,
        reason=body.reason,
    )
