"""Payment context: orders for training fees (money in integer fen)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from events.base import DomainEvent
from events.registry import event

CONTEXT = "payment"


class OrderLine(BaseModel):
    """The fee of one applicant in an order."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    applicant_id: str
    position: str
    specialisation: str | None = None
    training_mode: str
    fee_fen: int


@event(CONTEXT, "OrderCreated")
class OrderCreated(DomainEvent):
    """An order was created for qualified applicants."""

    order_id: str
    order_number: str
    enterprise_id: str
    institution_id: str
    lines: list[OrderLine]
    amount_fen: int
    continuing_education: bool = False


@event(CONTEXT, "OrderPaid")
class OrderPaid(DomainEvent):
    """The payment of an order was confirmed."""

    order_id: str
    order_number: str
    enterprise_id: str
    institution_id: str
    applicant_ids: list[str]
    amount_fen: int
    confirmed_by: str = ""
    method: str = "offline"  # offline (voucher confirmed by the institution) | online (provider callback)
    provider_reference: str | None = None


@event(CONTEXT, "OrderCancelled")
class OrderCancelled(DomainEvent):
    """An unpaid order was cancelled."""

    order_id: str
    enterprise_id: str
    institution_id: str
    applicant_ids: list[str]
    reason: str = ""


class InvoiceDetails(BaseModel):
    """What the enterprise asks to be invoiced: 普通 (ordinary) or 专用 (special VAT) invoice."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    invoice_type: str  # ordinary | special
    company_name: str
    tax_number: str
    address: str = ""
    phone: str = ""
    bank: str = ""
    bank_account: str = ""


@event(CONTEXT, "VoucherUploaded")
class VoucherUploaded(DomainEvent):
    """The enterprise uploaded an offline payment voucher (it replaces an unconfirmed earlier one)."""

    order_id: str
    enterprise_id: str
    institution_id: str
    voucher_id: str
    object_key: str
    content_type: str
    payer_name: str
    amount_fen: int
    paid_on: date
    bank_serial: str
    note: str = ""
    invoice: InvoiceDetails | None = None


@event(CONTEXT, "VoucherRejected")
class VoucherRejected(DomainEvent):
    """The institution rejected a voucher with a reason; the enterprise may upload another."""

    order_id: str
    enterprise_id: str
    institution_id: str
    voucher_id: str
    reason: str
    rejected_by: str = ""


@event(CONTEXT, "OrderRefunded")
class OrderRefunded(DomainEvent):
    """A paid order was refunded before its trainees started training; enrollment reverts them."""

    order_id: str
    enterprise_id: str
    institution_id: str
    applicant_ids: list[str]
    amount_fen: int
    reason: str = ""
    refunded_by: str = ""


@event(CONTEXT, "InvoiceIssued")
class InvoiceIssued(DomainEvent):
    """The institution recorded the invoice it issued for an order."""

    order_id: str
    enterprise_id: str
    institution_id: str
    invoice_number: str
    issued_on: date
    amount_fen: int
    invoice_type: str = "ordinary"
