"""The institution's (or administrator's) export of orders and payments for a period, as .xlsx."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from ..domain.order import MODE_LABELS, STATUS_LABELS, Status

ORDER_HEADER = (
    "订单号",
    "企业",
    "培训机构",
    "线上人数",
    "线下人数",
    "总人数",
    "金额（元）",
    "状态",
    "下单时间",
    "缴费确认时间",
    "缴费方式",
    "银行流水号",
    "发票号码",
    "开票日期",
    "退款原因",
)
LINE_HEADER = ("订单号", "企业", "学员编号", "姓名", "岗位", "专业", "培训方式", "费用（元）", "订单状态")


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ""


def orders_workbook(
    orders: Sequence[Mapping[str, Any]],
    enterprise_names: Mapping[str, str],
    applicant_names: Mapping[str, str],
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "订单"
    sheet.append(ORDER_HEADER)
    lines = book.create_sheet("学员明细")
    lines.append(LINE_HEADER)
    for order in orders:
        counts = order.get("count_by_mode", {})
        status = STATUS_LABELS[Status(order["status"])]
        enterprise = enterprise_names.get(order["enterprise_id"], order["enterprise_id"])
        voucher = order.get("voucher") or {}
        invoice = order.get("invoice") or {}
        refund = order.get("refund") or {}
        sheet.append(
            (
                order["order_number"],
                enterprise,
                order["institution_id"],
                counts.get("online", 0),
                counts.get("offline", 0),
                len(order.get("lines", [])),
                round(order["amount_fen"] / 100, 2),
                status,
                _time(order.get("created_at")),
                _time(order.get("paid_at")),
                {"offline": "线下转账", "online": "在线支付"}.get(order.get("method") or "", ""),
                voucher.get("bank_serial", ""),
                invoice.get("invoice_number", ""),
                invoice.get("issued_on", ""),
                refund.get("reason", ""),
            )
        )
        for line in order.get("lines", []):
            lines.append(
                (
                    order["order_number"],
                    enterprise,
                    line["applicant_id"],
                    applicant_names.get(line["applicant_id"], ""),
                    line["position"],
                    line.get("specialisation") or "",
                    MODE_LABELS.get(line["training_mode"], line["training_mode"]),
                    round(line["fee_fen"] / 100, 2),
                    status,
                )
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
