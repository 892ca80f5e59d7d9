"""企业承诺书（附件1）, pre-filled with the enterprise's registered data, one A4 page.

Drawn with reportlab like enrollment's printable forms; Chinese text uses the built-in CID font
``STSong-Light`` (no font file needed). The seal, the legal representative's signature and the date are
left blank: the enterprise prints, signs, seals and scans it, then uploads it as ``commitment_letter``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
PAGE_W, PAGE_H = A4
TITLE = "企业承诺书"
ANNEX = "附件1"
BODY_SIZE = 12.0
LEADING = BODY_SIZE * 1.8
MARGIN = 25 * mm

PLEDGES = (
    "一、本企业提交的注册信息及营业执照、资质证书等资料真实、准确、完整，无虚假记载。",
    "二、本企业为住房和城乡建设领域施工企业，报名参加培训的人员均为本企业在岗职工，"
    "报名资料（身份证明、学历证书、工作年限证明等）均经本企业审核无误。",
    "三、本企业遵守施工现场专业人员职业培训及考核的各项规定，不弄虚作假、不替考、不代考。",
    "四、如有违反上述承诺的行为，本企业愿意承担由此产生的一切法律责任，并接受主管部门的处理。",
)


@dataclass(frozen=True)
class LetterData:
    name: str
    credit_code: str
    legal_representative: str
    address: str
    contact_name: str
    contact_mobile: str
    authority: str


@cache
def _register_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, FONT, size))


def _wrap(text: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and _width(line + ch, size) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    lines.append(line)
    return lines


def commitment_letter_pdf(data: LetterData) -> bytes:
    """The letter as PDF bytes."""
    _register_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4)
    c.setTitle(f"{TITLE}（{data.name}）")
    width = PAGE_W - 2 * MARGIN
    y = PAGE_H - MARGIN
    c.setFont(FONT, BODY_SIZE)
    c.drawString(MARGIN, y, ANNEX)
    y -= 14 * mm
    c.setFont(FONT, 20)
    c.drawCentredString(PAGE_W / 2, y, TITLE)
    y -= 14 * mm
    c.setFont(FONT, BODY_SIZE)
    c.drawString(MARGIN, y, f"{data.authority or '市建设主管部门'}：")
    y -= LEADING
    paragraphs = [
        f"本企业{data.name}（统一社会信用代码：{data.credit_code}）申请在浙江施工现场专业人员证书平台"
        "注册，并组织本企业人员参加施工现场专业人员职业培训，现郑重承诺如下：",
        *PLEDGES,
    ]
    for paragraph in paragraphs:
        for i, line in enumerate(_wrap(paragraph, BODY_SIZE, width - (2 * BODY_SIZE))):
            c.drawString(MARGIN + (2 * BODY_SIZE if i == 0 else 0), y, line)
            y -= LEADING
    y -= LEADING
    details = (
        ("企业名称（盖章）", data.name),
        ("统一社会信用代码", data.credit_code),
        ("法定代表人（签字）", data.legal_representative),
        ("企业地址", data.address),
        ("联系人及电话", f"{data.contact_name}  {data.contact_mobile}".strip()),
        ("日期", "　　　　年　　月　　日"),
    )
    left = PAGE_W / 2 - 25 * mm
    for label, value in details:
        for line in _wrap(f"{label}：{value}", BODY_SIZE, PAGE_W - MARGIN - left):
            c.drawString(left, y, line)
            y -= LEADING
    c.showPage()
    c.save()
    return out.getvalue()
