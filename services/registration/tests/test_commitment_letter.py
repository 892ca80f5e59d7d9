"""The pre-filled commitment letter (附件1) is a complete one-page PDF naming the enterprise."""

from __future__ import annotations

import io

from pypdf import PdfReader
from registration.adapters.commitment_letter import LetterData, commitment_letter_pdf

DATA = LetterData(
    name="杭州建工集团有限公司",
    credit_code="91350100M000100Y43",
    legal_representative="王五",
    address="杭州市西湖区文三路1号" * 12,  # a long address wraps instead of running off the page
    contact_name="李四",
    contact_mobile="13800001111",
    authority="杭州市住房和城乡建设局",
)


def test_letter_is_a_one_page_pdf_naming_the_enterprise() -> None:
    pdf = commitment_letter_pdf(DATA)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert reader.metadata is not None and reader.metadata.title == "企业承诺书（杭州建工集团有限公司）"


def test_blank_letter_still_renders() -> None:
    blank = LetterData("", "", "", "", "", "", "")
    assert commitment_letter_pdf(blank).startswith(b"%PDF-")
    assert len(io.BytesIO(commitment_letter_pdf(blank)).getvalue()) > 500
