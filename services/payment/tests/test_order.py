from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from events import (
    InvoiceIssued,
    OrderCancelled,
    OrderCreated,
    OrderPaid,
    OrderRefunded,
    VoucherRejected,
    VoucherUploaded,
)
from events.enrollment import OfferLine
from events.payment import InvoiceDetails
from payment.application.handlers import check_voucher
from payment.domain import order as domain
from payment.domain.online import check_payable
from servicekit.errors import Conflict, DomainError, NotFound

OFFER = domain.Offer(
    institution_id="i1",
    lines=[
        OfferLine(position="施工员", specialisation="土建施工", fee_online_fen=50000, fee_offline_fen=80000),
        OfferLine(position="安全员", fee_online_fen=60000, fee_offline_fen=None),
    ],
    payment_methods=("offline",),
)
CREDIT = "91330106MA2B3C4D5E"
ENTERPRISE = domain.Enterprise(enterprise_id="e1", name="杭州建工集团有限公司", credit_code=CREDIT)


def applicant(
    i: int,
    mode: str = "online",
    position: str = "施工员",
    institution: str = "i1",
    specialisation: str | None = "土建施工",
) -> domain.QualifiedApplicant:
    return domain.QualifiedApplicant(
        applicant_id=f"a{i}",
        enterprise_id="e1",
        institution_id=institution,
        position=position,
        training_mode=mode,
        specialisation=specialisation,
    )


def make(applicants: list[domain.QualifiedApplicant], offer: domain.Offer | None = OFFER) -> list:
    return domain.create(
        [],
        order_id="o1",
        order_number="DD1",
        enterprise_id="e1",
        institution_id="i1",
        applicants=applicants,
        offer=offer,
    )


def created() -> list[OrderCreated]:
    events = make(
        [applicant(1), applicant(2, "offline"), applicant(3, position="安全员", specialisation=None)]
    )
    assert isinstance(events[0], OrderCreated)
    return [events[0]]


def form(**overrides: object) -> domain.VoucherForm:
    invoice = {"invoice_type": "ordinary", "company_name": ENTERPRISE.name, "tax_number": CREDIT}
    invoice.update({k: str(v) for k, v in overrides.items() if k in InvoiceDetails.model_fields})
    values: dict[str, object] = {
        "payer_name": ENTERPRISE.name,
        "amount_fen": 190000,
        "paid_on": date(2026, 3, 1),
        "bank_serial": "SN001",
        "note": "线上2人，线下1人",
    }
    values.update({k: v for k, v in overrides.items() if k not in InvoiceDetails.model_fields})
    return domain.VoucherForm(invoice=InvoiceDetails.model_validate(invoice), **values)


def upload(history: list, voucher_id: str = "v1", **overrides: object) -> list:
    return domain.upload_voucher(
        history,
        enterprise_id="e1",
        enterprise=ENTERPRISE,
        payment_methods=overrides.pop("methods", ("offline",)),
        form=form(**overrides),
        voucher_id=voucher_id,
        object_key=f"vouchers/o1/{voucher_id}",
        content_type="image/png",
    )


def test_amount_is_the_sum_of_the_offer_fees_by_position_specialisation_and_mode() -> None:
    order = created()[0]
    assert [line.fee_fen for line in order.lines] == [50000, 80000, 60000]
    assert order.amount_fen == 190000
    assert domain.count_by_mode(order.lines) == {"online": 2, "offline": 1}


def test_a_line_missing_from_the_offer_is_refused() -> None:
    with pytest.raises(DomainError) as mode:  # 安全员 is not offered offline
        make([applicant(1, "offline", position="安全员", specialisation=None)])
    assert mode.value.code == "not_offered" and "安全员" in mode.value.message
    with pytest.raises(DomainError) as position:
        make([applicant(1, position="资料员", specialisation=None)])
    assert position.value.code == "not_offered"
    with pytest.raises(DomainError) as specialisation:
        make([applicant(1, specialisation="市政工程")])
    assert specialisation.value.code == "not_offered"
    with pytest.raises(DomainError) as none:
        make([applicant(1)], offer=None)
    assert none.value.code == "not_offered"


def test_an_order_holds_one_institution_of_one_enterprise() -> None:
    with pytest.raises(DomainError) as mixed:
        make([applicant(1), applicant(2, institution="i2")])
    assert mixed.value.code == "mixed_order"
    with pytest.raises(DomainError) as empty:
        make([])
    assert empty.value.code == "empty_order"


def test_voucher_rules_payer_invoice_company_and_tax_number() -> None:
    history: list = created()
    uploaded = upload(history)
    assert isinstance(uploaded[0], VoucherUploaded) and uploaded[0].object_key == "vouchers/o1/v1"
    # full-width parentheses and spaces do not make another company
    assert upload(history, payer_name=" 杭州建工集团有限公司 ")
    cases: dict[str, dict[str, Any]] = {
        "payer_not_enterprise": {"payer_name": "张三"},
        "invoice_company_mismatch": {"company_name": "杭州另一家公司"},
        "invalid_tax_number": {"tax_number": "1234"},
        "special_invoice_incomplete": {"invoice_type": "special", "address": "杭州"},
        "invalid_amount": {"amount_fen": 0},
    }
    for code, overrides in cases.items():
        with pytest.raises(DomainError) as refused:
            upload(history, **overrides)
        assert refused.value.code == code, code
    with pytest.raises(DomainError) as other_code:
        upload(history, tax_number="91330106MA2B3C4D6F")
    assert other_code.value.code == "invoice_company_mismatch"
    special = upload(
        history, invoice_type="special", address="杭州市", phone="0571-1", bank="工行", bank_account="1202"
    )
    assert special[0].invoice.invoice_type == "special"
    with pytest.raises(Conflict) as online_only:
        upload(history, methods=("online",))
    assert online_only.value.code == "offline_not_accepted"
    with pytest.raises(Conflict) as unknown:
        domain.upload_voucher(
            history,
            enterprise_id="e1",
            enterprise=None,
            payment_methods=("offline",),
            form=form(),
            voucher_id="v",
            object_key="k",
            content_type="image/png",
        )
    assert unknown.value.code == "enterprise_unknown"
    with pytest.raises(NotFound):  # another enterprise's order
        domain.upload_voucher(
            history,
            enterprise_id="e2",
            enterprise=ENTERPRISE,
            payment_methods=("offline",),
            form=form(),
            voucher_id="v",
            object_key="k",
            content_type="image/png",
        )


def test_confirm_checks_the_amount_and_reject_lets_the_enterprise_upload_again() -> None:
    history: list = created()
    with pytest.raises(Conflict) as none:
        domain.confirm(history, institution_id="i1", confirmed_by="staff")
    assert none.value.code == "no_voucher"
    history += upload(history, amount_fen=180000)
    with pytest.raises(DomainError) as mismatch:
        domain.confirm(history, institution_id="i1", confirmed_by="staff")
    assert mismatch.value.code == "amount_mismatch"
    assert "1800.00" in mismatch.value.message and "1900.00" in mismatch.value.message
    with pytest.raises(DomainError):
        domain.reject_voucher(history, institution_id="i1", reason=" ", rejected_by="s")
    with pytest.raises(NotFound):
        domain.reject_voucher(history, institution_id="i2", reason="金额不符", rejected_by="s")
    rejected = domain.reject_voucher(history, institution_id="i1", reason="金额不符", rejected_by="s")
    assert isinstance(rejected[0], VoucherRejected) and rejected[0].voucher_id == "v1"
    history += rejected
    with pytest.raises(Conflict):  # the rejected voucher cannot be confirmed
        domain.confirm(history, institution_id="i1", confirmed_by="staff")
    history += upload(history, voucher_id="v2")
    history += upload(history, voucher_id="v3")  # replaces v2 while unconfirmed
    order = domain.Order.from_history(history)
    assert order.pending_voucher is not None and order.pending_voucher.voucher_id == "v3"
    with pytest.raises(NotFound):
        domain.confirm(history, institution_id="i2", confirmed_by="x")
    paid = domain.confirm(history, institution_id="i1", confirmed_by="staff")
    assert isinstance(paid[0], OrderPaid) and paid[0].method == "offline"
    assert paid[0].applicant_ids == ["a1", "a2", "a3"] and paid[0].amount_fen == 190000
    history += paid
    with pytest.raises(Conflict):  # once confirmed, no other voucher
        upload(history, voucher_id="v4")
    with pytest.raises(Conflict):
        domain.confirm(history, institution_id="i1", confirmed_by="staff")
    with pytest.raises(Conflict):  # a paid order cannot be cancelled
        domain.cancel(history, enterprise_id="e1")


def test_an_online_payment_makes_the_order_paid_too() -> None:
    history: list = created()
    online = OrderPaid(
        order_id="o1",
        order_number="DD1",
        enterprise_id="e1",
        institution_id="i1",
        applicant_ids=["a1"],
        amount_fen=190000,
        method="online",
        provider_reference="p1",
    )
    assert domain.Order.from_history([*history, online]).status is domain.Status.PAID
    assert check_payable(history, enterprise_id="e1").order_id == "o1"


def test_cancel_rules() -> None:
    history = created()
    with pytest.raises(NotFound):
        domain.cancel(history, enterprise_id="e2")
    cancelled = domain.cancel(history, enterprise_id="e1", reason="选错学员")
    assert isinstance(cancelled[0], OrderCancelled) and cancelled[0].applicant_ids == ["a1", "a2", "a3"]
    with pytest.raises(Conflict):
        domain.confirm([*history, *cancelled], institution_id="i1", confirmed_by="staff")


def paid_history() -> list:
    history: list = created()
    history += upload(history)
    history += domain.confirm(history, institution_id="i1", confirmed_by="staff")
    return history


def test_refund_only_while_no_trainee_started_training() -> None:
    history = created()
    with pytest.raises(Conflict):  # unpaid: nothing to refund
        domain.refund(history, institution_id="i1", reason="r", refunded_by="s", in_training=set())
    history = paid_history()
    with pytest.raises(Conflict) as started:
        domain.refund(history, institution_id="i1", reason="退学", refunded_by="s", in_training={"a2"})
    assert started.value.code == "training_started"
    with pytest.raises(DomainError):
        domain.refund(history, institution_id="i1", reason="", refunded_by="s", in_training=set())
    with pytest.raises(NotFound):
        domain.refund(history, institution_id="i2", reason="退学", refunded_by="s", in_training=set())
    refunded = domain.refund(history, institution_id="i1", reason="退学", refunded_by="s", in_training={"x"})
    assert isinstance(refunded[0], OrderRefunded) and refunded[0].amount_fen == 190000
    history += refunded
    assert domain.Order.from_history(history).status is domain.Status.REFUNDED
    with pytest.raises(Conflict):
        domain.refund(history, institution_id="i1", reason="退学", refunded_by="s", in_training=set())


def test_invoice_on_paid_orders_once() -> None:
    with pytest.raises(Conflict):
        domain.issue_invoice(created(), institution_id="i1", invoice_number="N1", issued_on=date(2026, 3, 2))
    history = paid_history()
    issued = domain.issue_invoice(
        history, institution_id="i1", invoice_number="N1", issued_on=date(2026, 3, 2)
    )
    assert isinstance(issued[0], InvoiceIssued) and issued[0].invoice_type == "ordinary"
    history += issued
    assert domain.Order.from_history(history).invoice is not None
    with pytest.raises(Conflict) as twice:
        domain.issue_invoice(history, institution_id="i1", invoice_number="N2", issued_on=date(2026, 3, 2))
    assert twice.value.code == "invoice_exists"


def _image(fmt: str, size: tuple[int, int] = (120, 80)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, fmt)
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    )


def test_voucher_files_are_recognised_by_their_bytes_and_decoded() -> None:
    assert check_voucher(_image("JPEG")) == "image/jpeg"
    assert check_voucher(_image("PNG")) == "image/png"
    pdf = _image("PDF")
    assert check_voucher(pdf) == "application/pdf"
    refused_cases = (
        (b"GIF89a", "voucher_type_not_allowed", "GIF"),
        (b"", "voucher_file_required", "请上传"),
        (_image("JPEG")[:200], "corrupt_file", "无法完整解码"),
        (b"\xff\xd8\xff\xe0rest", "corrupt_file", "无法完整解码"),
        (pdf[: len(pdf) // 2], "corrupt_file", "PDF 文件不完整"),
        (_png_header(20000, 20000), "image_too_large", "20000×20000"),
    )
    for data, code, words in refused_cases:
        with pytest.raises(DomainError) as refused:
            check_voucher(data)
        assert refused.value.code == code, (code, refused.value.message)
        assert words in refused.value.message
    with pytest.raises(DomainError) as large:
        check_voucher(b"%PDF-" + b"0" * (10 * 1024 * 1024))
    assert large.value.code == "voucher_too_large" and large.value.status == 413


def test_report_has_a_sheet_of_orders_and_one_of_lines() -> None:
    import io

    from openpyxl import load_workbook
    from payment.adapters.reports import orders_workbook

    order = created()[0]
    doc = {
        "order_number": "DD1",
        "enterprise_id": "e1",
        "institution_id": "i1",
        "lines": [x.model_dump(mode="json") for x in order.lines],
        "count_by_mode": domain.count_by_mode(order.lines),
        "amount_fen": order.amount_fen,
        "status": "paid",
        "voucher": {"bank_serial": "SN001"},
        "invoice": {"invoice_number": "N1", "issued_on": "2026-03-02"},
    }
    book = load_workbook(io.BytesIO(orders_workbook([doc], {"e1": "杭州建工"}, {"a1": "张三"})))
    rows = list(book["订单"].iter_rows(values_only=True))
    assert rows[1][:8] == ("DD1", "杭州建工", "i1", 2, 1, 3, 1900, "已缴费（已报名）")
    assert "SN001" in rows[1] and "N1" in rows[1]
    lines = list(book["学员明细"].iter_rows(values_only=True))
    assert len(lines) == 4 and lines[1][3] == "张三"
