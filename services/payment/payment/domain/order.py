"""Orders: qualified applicants of one institution, one order one payment (decisions, free of I/O)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from events import (
    DomainEvent,
    InvoiceIssued,
    OrderCancelled,
    OrderCreated,
    OrderPaid,
    OrderRefunded,
    VoucherRejected,
    VoucherUploaded,
)
from events.enrollment import OfferLine
from events.payment import InvoiceDetails, OrderLine
from servicekit.errors import Conflict, DomainError, NotFound


class Status(StrEnum):
    UNPAID = "unpaid"  # 待缴费
    PAID = "paid"  # 已缴费
    CANCELLED = "cancelled"  # 已取消
    REFUNDED = "refunded"  # 已退款


STATUS_LABELS = {
    Status.UNPAID: "待缴费",
    Status.PAID: "已缴费（已报名）",
    Status.CANCELLED: "已取消",
    Status.REFUNDED: "已退款",
}
MODE_LABELS = {"online": "线上", "offline": "线下"}
INVOICE_TYPES = {"ordinary": "普通发票", "special": "增值税专用发票"}
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


@dataclass
class Order:
    order_id: str = ""
    order_number: str = ""
    enterprise_id: str = ""
    institution_id: str = ""
    lines: list[OrderLine] = field(default_factory=list)
    amount_fen: int = 0
    status: Status | None = None
    voucher: VoucherUploaded | None = None
    voucher_rejected: bool = False
    invoice: InvoiceIssued | None = None

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Order:
        state = cls()
        for event in history:
            match event:
                case OrderCreated():
                    state.order_id, state.order_number = event.order_id, event.order_number
                    state.enterprise_id, state.institution_id = event.enterprise_id, event.institution_id
                    state.lines, state.amount_fen, state.status = (
                        list(event.lines),
                        event.amount_fen,
                        Status.UNPAID,
                    )
                case VoucherUploaded():
                    state.voucher, state.voucher_rejected = event, False
                case VoucherRejected():
                    if state.voucher is not None and state.voucher.voucher_id == event.voucher_id:
                        state.voucher_rejected = True
                case OrderPaid():  # offline (voucher confirmed) or online (provider callback)
                    state.status = Status.PAID
                case OrderCancelled():
                    state.status = Status.CANCELLED
                case OrderRefunded():
                    state.status = Status.REFUNDED
                case InvoiceIssued():
                    state.invoice = event
        return state

    @property
    def applicant_ids(self) -> list[str]:
        return [line.applicant_id for line in self.lines]

    @property
    def pending_voucher(self) -> VoucherUploaded | None:
        return None if self.voucher_rejected else self.voucher


@dataclass(frozen=True)
class QualifiedApplicant:
    applicant_id: str
    enterprise_id: str
    institution_id: str
    position: str
    training_mode: str
    specialisation: str | None = None
    continuing_education: bool = False


@dataclass(frozen=True)
class Offer:
    """An institution's latest published offer, as payment knows it."""

    institution_id: str
    lines: Sequence[OfferLine]
    payment_methods: Sequence[str] = ("offline",)
    name: str = ""


@dataclass(frozen=True)
class Enterprise:
    """An approved enterprise as registration announced it."""

    enterprise_id: str
    name: str
    credit_code: str


def fee_for(offer: Offer, position: str, specialisation: str | None, training_mode: str) -> int:
    """The fee (fen) of a position (and specialisation) in a mode, from the institution's offer."""
    label = position + (f"（{specialisation}）" if specialisation else "")
    line = next(
        (x for x in offer.lines if x.position == position and x.specialisation == specialisation), None
    ) or next((x for x in offer.lines if x.position == position and x.specialisation is None), None)
    fee = None
    if line is not None:
        fee = line.fee_online_fen if training_mode == "online" else line.fee_offline_fen
    if fee is None:
        raise DomainError(
            f"培训机构的招生信息中没有“{label}”{MODE_LABELS.get(training_mode, training_mode)}"
            "培训及其收费标准，不能生成订单",
            code="not_offered",
            details={"position": position, "specialisation": specialisation, "training_mode": training_mode},
        )
    return fee


def create(
    history: Sequence[DomainEvent],
    *,
    order_id: str,
    order_number: str,
    enterprise_id: str,
    institution_id: str,
    applicants: Sequence[QualifiedApplicant],
    offer: Offer | None,
) -> list[DomainEvent]:
    if history:
        raise Conflict("订单已存在", code="order_exists")
    if not applicants:
        raise DomainError("请至少选择一名已审核的学员", code="empty_order")
    foreign = [
        a.applicant_id
        for a in applicants
        if a.enterprise_id != enterprise_id or a.institution_id != institution_id
    ]
    if foreign:
        raise DomainError(
            "只能将本企业、同一培训机构的已审核学员合并到一个订单",
            code="mixed_order",
            details={"applicant_ids": foreign},
        )
    kinds = {a.continuing_education for a in applicants}
    if len(kinds) > 1:
        raise DomainError("继续教育学员与新取证学员不能合并在一个订单中，请分别生成订单", code="mixed_order")
    if offer is None or offer.institution_id != institution_id:
        # payment learns of an offer from enrollment's OfferPublished, a moment after it was published
        raise DomainError(
            "尚未获知该培训机构的招生信息（收费标准）：刚发布的正在处理中，请稍后再试；"
            "培训机构发布招生信息后方可生成订单",
            code="not_offered",
        )
    lines = [
        OrderLine(
            applicant_id=a.applicant_id,
            position=a.position,
            specialisation=a.specialisation,
            training_mode=a.training_mode,
            fee_fen=fee_for(offer, a.position, a.specialisation, a.training_mode),
        )
        for a in applicants
    ]
    return [
        OrderCreated(
            order_id=order_id,
            order_number=order_number,
            enterprise_id=enterprise_id,
            institution_id=institution_id,
            lines=lines,
            amount_fen=sum(x.fee_fen for x in lines),
            continuing_education=kinds.pop(),
        )
    ]


def count_by_mode(lines: Sequence[OrderLine]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.training_mode] = counts.get(line.training_mode, 0) + 1
    return counts


def _existing(history: Sequence[DomainEvent]) -> Order:
    order = Order.from_history(history)
    if order.status is None:
        raise NotFound("未找到该订单", code="order_not_found")
    return order


def _of_institution(history: Sequence[DomainEvent], institution_id: str) -> Order:
    order = _existing(history)
    if order.institution_id != institution_id:
        raise NotFound("未找到该订单", code="order_not_found")
    return order


def _of_enterprise(history: Sequence[DomainEvent], enterprise_id: str) -> Order:
    order = _existing(history)
    if order.enterprise_id != enterprise_id:
        raise NotFound("未找到该订单", code="order_not_found")
    return order


def _require(order: Order, allowed: Status, action: str) -> None:
    if order.status is not allowed:
        assert order.status is not None
        raise Conflict(f"订单当前状态为“{STATUS_LABELS[order.status]}”，{action}", code="invalid_order_state")


# --- offline payment: vouchers ---------------------------------------------------------------------------


def same_name(a: str, b: str) -> bool:
    """Company names compared as written, ignoring spaces and full/half-width differences."""

    def norm(s: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))

    return bool(norm(a)) and norm(a) == norm(b)


@dataclass(frozen=True)
class VoucherForm:
    payer_name: str
    amount_fen: int
    paid_on: date
    bank_serial: str
    invoice: InvoiceDetails
    note: str = ""


def check_voucher(form: VoucherForm, enterprise: Enterprise) -> None:
    """The payer and the invoiced company must be the enterprise itself; the invoice details complete."""
    if form.amount_fen <= 0:
        raise DomainError("缴费金额必须大于零", code="invalid_amount")
    if not form.bank_serial.strip():
        raise DomainError("请填写银行流水号", code="bank_serial_required")
    if not same_name(form.payer_name, enterprise.name):
        raise DomainError(
            f"付款人“{form.payer_name}”不是本企业（{enterprise.name}）：只接受本企业对公账户的付款，"
            "不接受其他单位或个人代付",
            code="payer_not_enterprise",
        )
    invoice = form.invoice
    if invoice.invoice_type not in INVOICE_TYPES:
        raise DomainError(
            "发票类型应为普通发票（ordinary）或增值税专用发票（special）", code="invalid_invoice"
        )
    if not same_name(invoice.company_name, enterprise.name):
        raise DomainError(
            f"开票单位“{invoice.company_name}”必须是付款企业本身（{enterprise.name}）",
            code="invoice_company_mismatch",
        )
    tax_number = invoice.tax_number.strip().upper()
    if not CREDIT_CODE.fullmatch(tax_number):
        raise DomainError("纳税人识别号应为 18 位统一社会信用代码", code="invalid_tax_number")
    if tax_number != enterprise.credit_code.upper():
        raise DomainError(
            "纳税人识别号与本企业的统一社会信用代码不一致，开票单位必须是付款企业本身",
            code="invoice_company_mismatch",
        )
    if invoice.invoice_type == "special":
        labels = {"address": "地址", "phone": "电话", "bank": "开户行", "bank_account": "银行账号"}
        missing = [label for name, label in labels.items() if not str(getattr(invoice, name)).strip()]
        if missing:
            raise DomainError(
                f"开具增值税专用发票须填写：{'、'.join(missing)}",
                code="special_invoice_incomplete",
                details={"missing": missing},
            )


def upload_voucher(
    history: Sequence[DomainEvent],
    *,
    enterprise_id: str,
    enterprise: Enterprise | None,
    payment_methods: Collection[str],
    form: VoucherForm,
    voucher_id: str,
    object_key: str,
    content_type: str,
) -> list[DomainEvent]:
    order = _of_enterprise(history, enterprise_id)
    _require(order, Status.UNPAID, "只有待缴费的订单可以上传缴费凭证")
    if "offline" not in payment_methods:
        raise Conflict("该培训机构不接受线下转账缴费，请在线支付", code="offline_not_accepted")
    if enterprise is None or enterprise.enterprise_id != enterprise_id:
        raise Conflict(
            "尚未获知本企业注册审核通过的信息（正在处理中），请稍后重试", code="enterprise_unknown"
        )
    check_voucher(form, enterprise)
    return [
        VoucherUploaded(
            order_id=order.order_id,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            voucher_id=voucher_id,
            object_key=object_key,
            content_type=content_type,
            payer_name=form.payer_name.strip(),
            amount_fen=form.amount_fen,
            paid_on=form.paid_on,
            bank_serial=form.bank_serial.strip(),
            note=form.note,
            invoice=form.invoice.model_copy(update={"tax_number": form.invoice.tax_number.strip().upper()}),
        )
    ]


def reject_voucher(
    history: Sequence[DomainEvent], *, institution_id: str, reason: str, rejected_by: str
) -> list[DomainEvent]:
    order = _of_institution(history, institution_id)
    _require(order, Status.UNPAID, "不能退回缴费凭证")
    voucher = order.pending_voucher
    if voucher is None:
        raise Conflict("该订单没有待确认的缴费凭证", code="no_voucher")
    if not reason.strip():
        raise DomainError("退回缴费凭证时必须填写原因", code="reason_required")
    return [
        VoucherRejected(
            order_id=order.order_id,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            voucher_id=voucher.voucher_id,
            reason=reason.strip(),
            rejected_by=rejected_by,
        )
    ]


def confirm(history: Sequence[DomainEvent], *, institution_id: str, confirmed_by: str) -> list[DomainEvent]:
    """The institution confirms receipt of an offline payment: the voucher's amount must be the order's."""
    order = _of_institution(history, institution_id)
    _require(order, Status.UNPAID, "不能确认缴费")
    voucher = order.pending_voucher
    if voucher is None:
        raise Conflict("该订单没有待确认的缴费凭证，不能确认收款", code="no_voucher")
    if voucher.amount_fen != order.amount_fen:
        raise DomainError(
            f"缴费凭证金额 {yuan(voucher.amount_fen)} 元与订单金额 {yuan(order.amount_fen)} 元不符",
            code="amount_mismatch",
            details={"voucher_amount": yuan(voucher.amount_fen), "order_amount": yuan(order.amount_fen)},
        )
    return [
        OrderPaid(
            order_id=order.order_id,
            order_number=order.order_number,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            applicant_ids=order.applicant_ids,
            amount_fen=order.amount_fen,
            confirmed_by=confirmed_by,
            method="offline",
        )
    ]


def cancel(history: Sequence[DomainEvent], *, enterprise_id: str, reason: str = "") -> list[DomainEvent]:
    order = _of_enterprise(history, enterprise_id)
    _require(order, Status.UNPAID, "只有待缴费的订单可以取消")
    return [
        OrderCancelled(
            order_id=order.order_id,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            applicant_ids=order.applicant_ids,
            reason=reason,
        )
    ]


def refund(
    history: Sequence[DomainEvent],
    *,
    institution_id: str,
    reason: str,
    refunded_by: str,
    in_training: Collection[str],
) -> list[DomainEvent]:
    """A paid order is refunded only while none of its trainees is in a training plan."""
    order = _of_institution(history, institution_id)
    _require(order, Status.PAID, "只有已缴费的订单可以退款")
    if not reason.strip():
        raise DomainError("退款时必须填写原因", code="reason_required")
    started = [a for a in order.applicant_ids if a in in_training]
    if started:
        raise Conflict(
            f"订单中已有 {len(started)} 名学员编入培训计划（已开始培训），不能退款",
            code="training_started",
            details={"applicant_ids": started},
        )
    return [
        OrderRefunded(
            order_id=order.order_id,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            applicant_ids=order.applicant_ids,
            amount_fen=order.amount_fen,
            reason=reason.strip(),
            refunded_by=refunded_by,
        )
    ]


def issue_invoice(
    history: Sequence[DomainEvent], *, institution_id: str, invoice_number: str, issued_on: date
) -> list[DomainEvent]:
    order = _of_institution(history, institution_id)
    _require(order, Status.PAID, "只有已缴费的订单可以登记发票")
    if order.invoice is not None:
        raise Conflict(f"该订单已登记发票（{order.invoice.invoice_number}）", code="invoice_exists")
    if not invoice_number.strip():
        raise DomainError("请填写发票号码", code="invoice_number_required")
    invoice = order.voucher.invoice if order.voucher is not None else None
    return [
        InvoiceIssued(
            order_id=order.order_id,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            invoice_number=invoice_number.strip(),
            issued_on=issued_on,
            amount_fen=order.amount_fen,
            invoice_type=invoice.invoice_type if invoice is not None else "ordinary",
        )
    ]
