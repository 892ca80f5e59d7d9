"""HTTP API of the payment context: orders, offline payment (vouchers), refunds, invoices, reports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from events.payment import InvoiceDetails
from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import DomainError, NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.mongo import without_id
from servicekit.objectstore import ObjectStore
from servicekit.paging import BoundedModel, Paging
from servicekit.runtime import ServiceRuntime

from ..adapters.reports import orders_workbook
from ..application import handlers
from ..domain import order as domain
from ..domain.order import STATUS_LABELS, Status
from ..projections.offers import ENTERPRISES, in_training
from ..projections.read_models import ORDERS, QUALIFIED

router = APIRouter(prefix="/api/payment", tags=["订单缴费"])


Enterprise = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]
Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
Party = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION))]
Viewer = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN))]
Reporter = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]
AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


class CreateOrder(BoundedModel):
    institution_id: str = Field(min_length=1, max_length=64)
    applicant_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=1000, description="同一培训机构的已审核学员"
    )


class CancelOrder(BoundedModel):
    reason: str = Field(default="", max_length=500)


class Reason(BoundedModel):
    reason: str = Field(min_length=1, max_length=500, description="原因（必填）")


class IssueInvoice(BoundedModel):
    invoice_number: str = Field(min_length=1, max_length=40)
    issued_on: date


def _objects(rt: ServiceRuntime) -> ObjectStore:
    assert rt.objects is not None
    return rt.objects


def to_fen(amount: str) -> int:
    """Yuan as written (at most 2 decimals) → fen."""
    text = amount.strip()
    if not AMOUNT.fullmatch(text):
        raise DomainError("缴费金额格式不正确（单位：元，最多两位小数，如 1800.00）", code="invalid_amount")
    return int(Decimal(text) * 100)


async def _visible(rt: ServiceRuntime, order_id: str, identity: Identity) -> domain.Order:
    order = await handlers.load(rt.store, order_id)
    owner = order.enterprise_id if identity.role is Role.ENTERPRISE else order.institution_id
    if order.status is None or (identity.role is not Role.ADMIN and owner != identity.org_id):
        raise NotFound("未找到该订单", code="order_not_found")
    return order


@router.post("/orders", status_code=201, summary="生成订单（同一机构的已审核学员可合并，按机构收费标准计价）")
async def create_order(
    body: CreateOrder, identity: Enterprise, rt: RuntimeDep, idem: IdempotencyDep
) -> dict[str, str]:
    async def work() -> dict[str, str]:
        order_id, number = await handlers.create_order(
            rt.store,
            enterprise_id=identity.org_id or "",
            institution_id=body.institution_id,
            applicant_ids=body.applicant_ids,
        )
        return {"order_id": order_id, "order_number": number}

    return await idem.run(body, work)


@router.get("/orders", summary="订单列表：企业看本企业的，培训机构看本机构的")
async def list_orders(
    identity: Viewer,
    rt: RuntimeDep,
    page: Paging,
    status: Status | None = None,
    voucher_state: Literal["none", "pending", "rejected", "confirmed"] | None = None,
) -> dict[str, Any]:
    query = scope_filter(identity)
    if status:
        query["status"] = status.value
    if voucher_state:
        query["voucher_state"] = voucher_state
    cursor = page.apply(rt.db[ORDERS].find(query).sort("created_at", -1))
    items = [
        {**without_id(d, "order_id"), "status_label": STATUS_LABELS[Status(d["status"])]}
        async for d in cursor
    ]
    return {"items": items, "total": await rt.db[ORDERS].count_documents(query)}


@router.get("/orders/{order_id}", summary="订单详情（各培训方式人数、缴费凭证、发票、退款）")
async def get_order(order_id: str, identity: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    order = await _visible(rt, order_id, identity)
    assert order.status is not None
    voucher = order.voucher
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "enterprise_id": order.enterprise_id,
        "institution_id": order.institution_id,
        "amount_fen": order.amount_fen,
        "amount_yuan": domain.yuan(order.amount_fen),
        "status": order.status.value,
        "status_label": STATUS_LABELS[order.status],
        "count_by_mode": domain.count_by_mode(order.lines),
        "in_training": sorted(await in_training(rt.db, order.applicant_ids)),
        "lines": [x.model_dump(mode="json") for x in order.lines],
        "voucher": None
        if voucher is None
        else {
            **voucher.model_dump(
                mode="json", exclude={"object_key", "order_id", "enterprise_id", "institution_id"}
            ),
            "state": "rejected"
            if order.voucher_rejected
            else ("confirmed" if order.status in (Status.PAID, Status.REFUNDED) else "pending"),
        },
        "invoice": None
        if order.invoice is None
        else order.invoice.model_dump(
            mode="json", include={"invoice_number", "issued_on", "invoice_type", "amount_fen"}
        ),
    }


@router.post("/orders/{order_id}/voucher", status_code=201, summary="上传线下缴费凭证及开票信息（企业）")
async def upload_voucher(
    order_id: str,
    identity: Enterprise,
    rt: RuntimeDep,
    idem: IdempotencyDep,
    file: Annotated[UploadFile, File(description="缴费凭证（JPEG/PNG 图片或 PDF，≤ 10 MB）")],
    payer_name: Annotated[str, Form(min_length=1, max_length=100, description="付款单位（须为本企业）")],
    amount: Annotated[str, Form(max_length=20, description="缴费金额（元，两位小数）")],
    paid_on: Annotated[date, Form(description="付款日期")],
    bank_serial: Annotated[str, Form(min_length=1, max_length=64, description="银行流水号")],
    invoice_type: Annotated[Literal["ordinary", "special"], Form(description="ordinary 普通 / special 专用")],
    company_name: Annotated[str, Form(min_length=1, max_length=100, description="开票单位（须为本企业）")],
    tax_number: Annotated[
        str, Form(min_length=1, max_length=32, description="纳税人识别号（统一社会信用代码）")
    ],
    note: Annotated[str, Form(max_length=500)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    bank: Annotated[str, Form(max_length=100)] = "",
    bank_account: Annotated[str, Form(max_length=64)] = "",
) -> dict[str, str]:
    # never more than the limit + 1 bytes: one byte over is enough to refuse
    data = await file.read(handlers.MAX_VOUCHER_BYTES + 1)
    form = domain.VoucherForm(
        payer_name=payer_name,
        amount_fen=to_fen(amount),
        paid_on=paid_on,
        bank_serial=bank_serial,
        note=note,
        invoice=InvoiceDetails(
            invoice_type=invoice_type,
            company_name=company_name,
            tax_number=tax_number,
            address=address,
            phone=phone,
            bank=bank,
            bank_account=bank_account,
        ),
    )

    async def work() -> dict[str, str]:
        voucher_id = await handlers.upload_voucher(
            rt.store, _objects(rt), order_id, enterprise_id=identity.org_id or "", form=form, data=data
        )
        return {"voucher_id": voucher_id}

    return await idem.run({"form": form, "file": data}, work)


@router.get("/orders/{order_id}/voucher", summary="查看缴费凭证（短时有效的下载链接）")
async def get_voucher(order_id: str, identity: Party, rt: RuntimeDep) -> dict[str, str]:
    order = await _visible(rt, order_id, identity)
    return await handlers.voucher_link(_objects(rt), order)


@router.post("/orders/{order_id}/voucher/reject", status_code=204, summary="退回缴费凭证（须填写原因）")
async def reject_voucher(order_id: str, body: Reason, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.reject_voucher(
        rt.store,
        order_id,
        institution_id=identity.org_id or "",
        reason=body.reason,
        rejected_by=identity.account_id,
    )


@router.post(
    "/orders/{order_id}/confirm", status_code=204, summary="培训机构确认收款（核对金额，学员变为已报名）"
)
async def confirm(order_id: str, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.confirm_payment(
        rt.store, order_id, institution_id=identity.org_id or "", confirmed_by=identity.account_id
    )


@router.post("/orders/{order_id}/cancel", status_code=204, summary="取消未缴费的订单（释放学员）")
async def cancel(order_id: str, body: CancelOrder, identity: Enterprise, rt: RuntimeDep) -> None:
    await handlers.cancel_order(rt.store, order_id, enterprise_id=identity.org_id or "", reason=body.reason)


@router.post("/orders/{order_id}/refund", status_code=204, summary="退款（学员尚未开始培训；学员退回已审核）")
async def refund(order_id: str, body: Reason, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.refund_order(
        rt.store,
        order_id,
        institution_id=identity.org_id or "",
        reason=body.reason,
        refunded_by=identity.account_id,
    )


@router.post("/orders/{order_id}/invoice", status_code=204, summary="登记已开具的发票（已缴费订单）")
async def issue_invoice(order_id: str, body: IssueInvoice, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.issue_invoice(
        rt.store,
        order_id,
        institution_id=identity.org_id or "",
        invoice_number=body.invoice_number,
        issued_on=body.issued_on,
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/reports/orders.xlsx", summary="导出订单与缴费情况（培训机构：本机构；管理员：全部）")
async def orders_report(
    identity: Reporter,
    rt: RuntimeDep,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    query = scope_filter(identity)
    created: dict[str, datetime] = {}
    if date_from is not None:
        created["$gte"] = datetime.combine(date_from, time.min, tzinfo=UTC)
    if date_to is not None:
        created["$lt"] = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
    if created:
        query["created_at"] = created
    orders = [d async for d in rt.db[ORDERS].find(query).sort("created_at", 1)]
    enterprise_ids = list({d["enterprise_id"] for d in orders})
    applicant_ids = [line["applicant_id"] for d in orders for line in d.get("lines", [])]
    enterprises = {
        d["_id"]: d["name"] async for d in rt.db[ENTERPRISES].find({"_id": {"$in": enterprise_ids}})
    }
    applicants = {
        d["_id"]: d.get("name", "") async for d in rt.db[QUALIFIED].find({"_id": {"$in": applicant_ids}})
    }
    content = orders_workbook(orders, enterprises, applicants)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename=orders.xlsx"},
    )
