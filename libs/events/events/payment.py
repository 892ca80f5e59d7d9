"""Payment context: orders for training fees (money in integer fen)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from events.base import (
    TEXT_MAX_LENGTH,
    DocumentNumber,
    DomainEvent,
    Identifier,
    Mobile,
    OrgName,
    Reason,
    Serial,
    ShortText,
)
from events.registry import event

CONTEXT = "payment"


class OrderLine(BaseModel):
    """The fee of one applicant in an order."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    applicant_id: Identifier
    position: ShortText
    specialisation: ShortText | None = None
    training_mode: ShortText
    fee_fen: int


@event(CONTEXT, "OrderCreated")
class OrderCreated(DomainEvent):
    """An order was created for qualified applicants."""

    order_id: Identifier
    order_number: DocumentNumber
    enterprise_id: Identifier
    institution_id: Identifier
    lines: list[OrderLine]
    amount_fen: int
    continuing_education: bool = False


@event(CONTEXT, "OrderPaid")
class OrderPaid(DomainEvent):
    """The payment of an order was confirmed."""

    order_id: Identifier
    order_number: DocumentNumber
    enterprise_id: Identifier
    institution_id: Identifier
    applicant_ids: list[Identifier]
    amount_fen: int
    confirmed_by: Identifier = ""
    # offline (voucher confirmed by the institution) | online (provider callback)
    method: ShortText = "offline"
    provider_reference: Serial | None = None


@event(CONTEXT, "OrderCancelled")
class OrderCancelled(DomainEvent):
    """An unpaid order was cancelled."""

    order_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    applicant_ids: list[Identifier]
    reason: Reason = ""


class InvoiceDetails(BaseModel):
    """What the enterprise asks to be invoiced: 普通 (ordinary) or 专用 (special VAT) invoice."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    invoice_type: ShortText  # ordinary | special
    company_name: OrgName
    tax_number: Serial
    address: ShortText = ""
    phone: Mobile = ""
    bank: ShortText = ""
    bank_account: Serial = ""


@event(CONTEXT, "VoucherUploaded")
class VoucherUploaded(DomainEvent):
    """The enterprise uploaded an offline payment voucher (it replaces an unconfirmed earlier one)."""

    order_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    voucher_id: Identifier
    object_key: str
    content_type: ShortText
    payer_name: OrgName  # a person or, for a company transfer, the company
    amount_fen: int
    paid_on: date
    bank_serial: Serial
    note: Reason = ""
    invoice: InvoiceDetails | None = None


@event(CONTEXT, "VoucherRejected")
class VoucherRejected(DomainEvent):
    """The institution rejected a voucher with a reason; the enterprise may upload another."""

    order_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    voucher_id: Identifier
    reason: Reason
    rejected_by: Identifier = ""


@event(CONTEXT, "OrderRefunded")
class OrderRefunded(DomainEvent):
    """A paid order was refunded before its trainees started training; enrollment reverts them."""

    order_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    applicant_ids: list[Identifier]
    amount_fen: int
    reason: Reason = ""
    refunded_by: Identifier = ""


@event(CONTEXT, "InvoiceIssued")
class InvoiceIssued(DomainEvent):
    """The institution recorded the invoice it issued for an order."""

    order_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    invoice_number: DocumentNumber
    issued_on: date
    amount_fen: int
    invoice_type: ShortText = "ordinary"
