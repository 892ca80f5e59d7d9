"""HTTP API of the payment context."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import NotFound
from servicekit.mongo import without_id

from ..application import handlers
from ..domain.order import STATUS_LABELS, Status
from ..projections.read_models import ORDERS
from ..settings import PaymentSettings

router = APIRouter(prefix="/api/payment", tags=["订单缴费"])


Enterprise = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]
Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]


class CreateOrder(BaseModel):
    institution_id: str
    applicant_ids: list[str] = Field(min_length=1, description="同一培训机构的已审核学员")


class CancelOrder(BaseModel):
    reason: str = ""


@router.post("/orders", status_code=201, summary="生成订单（同一机构的已审核学员可合并）")
async def create_order(body: CreateOrder, identity: Enterprise, rt: RuntimeDep) -> dict[str, str]:
    settings = rt.settings
    assert isinstance(settings, PaymentSettings)
    order_id, number = await handlers.create_order(
        rt.store,
        enterprise_id=identity.org_id or "",
        institution_id=body.institution_id,
        applicant_ids=body.applicant_ids,
        fees=settings.payment_fees,
    )
    return {"order_id": order_id, "order_number": number}


@router.get("/orders", summary="订单列表：企业看本企业的，培训机构看本机构的")
async def list_orders(
    identity: Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN))],
    rt: RuntimeDep,
    status: Status | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    skip: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    query = scope_filter(identity)
    if status:
        query["status"] = status.value
    cursor = rt.db[ORDERS].find(query).sort("created_at", -1).skip(skip).limit(limit)
    items = [
        {**without_id(d, "order_id"), "status_label": STATUS_LABELS[Status(d["status"])]}
        async for d in cursor
    ]
    return {"items": items, "total": await rt.db[ORDERS].count_documents(query)}


@router.get("/orders/{order_id}", summary="订单详情")
async def get_order(
    order_id: str,
    identity: Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN))],
    rt: RuntimeDep,
) -> dict[str, Any]:
    order = await handlers.load(rt.store, order_id)
    owner = order.enterprise_id if identity.role is Role.ENTERPRISE else order.institution_id
    if order.status is None or (identity.role is not Role.ADMIN and owner != identity.org_id):
        raise NotFound("未找到该订单", code="order_not_found")
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "enterprise_id": order.enterprise_id,
        "institution_id": order.institution_id,
        "amount_fen": order.amount_fen,
        "status": order.status.value,
        "status_label": STATUS_LABELS[order.status],
        "lines": [x.model_dump(mode="json") for x in order.lines],
    }


@router.post("/orders/{order_id}/confirm", status_code=204, summary="培训机构确认收款（学员变为已报名）")
async def confirm(order_id: str, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.confirm_payment(
        rt.store, order_id, institution_id=identity.org_id or "", confirmed_by=identity.account_id
    )


@router.post("/orders/{order_id}/cancel", status_code=204, summary="取消未缴费的订单（释放学员）")
async def cancel(order_id: str, body: CancelOrder, identity: Enterprise, rt: RuntimeDep) -> None:
    await handlers.cancel_order(rt.store, order_id, enterprise_id=identity.org_id or "", reason=body.reason)
