"""Printable forms pre-filled per applicant: 附件2 (报名表) and 附件3 (工作年限证明), one A4 page each.

Drawn with reportlab; Chinese text uses the built-in CID font ``STSong-Light`` (no font file needed). Fields
the platform does not know are left blank for handwriting; signatures, seals and dates are never filled in.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from events.enrollment import ImportedApplicant
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
PAGE_W, PAGE_H = A4

FORM_TITLE = "浙江省住房和城乡建设领域施工现场专业人员职业培训报名表"
PROOF_TITLE = "施工现场专业岗位工作年限证明"
PHOTO_REQUIREMENT = (
    "电子照片要求：近期白底1寸免冠正面电子证件照片，照片大小不超过80kb，照片命名格式为：身份证号+$头像"
    "（例如：110101198001010010$头像）"
)
PLEDGE = "上述内容由本人填写、真实无误，如有虚假，本人愿意接受任何处理。"
EMPLOYER_OPINION = "经对报名相关材料审核无误，承诺人签名确为报名人亲笔所签，同意其报名。"
FORM_NOTES = (
    "备注：1.本表由培训学员填写，并由所在企业审核无误后加盖单位公章。",
    "　　　2.符合条件的在校、当年度毕业生，应由所在学校负责统一报名。",
)
PROOF_CLOSING = ("在我单位工作期间,该同志遵纪守法,无违反职业道德的行为。", "特此证明。")

TITLE_SIZE = 16.0
BODY_SIZE = 10.5
PROOF_BODY_SIZE = 12.0
GRID_LINE = 0.6
BORDER_LINE = 0.8


@dataclass(frozen=True)
class FormApplicant:
    """What the forms print about one applicant (the imported row plus the batch's position)."""

    name: str
    gender: str
    id_number: str
    mobile: str
    education: str
    employer: str
    major: str
    graduated_on: date | None
    years_in_post: int | None
    position: str
    specialisation: str | None = None
    address: str = ""
    email: str = ""

    @classmethod
    def from_imported(
        cls, record: ImportedApplicant, *, position: str, specialisation: str | None = None
    ) -> FormApplicant:
        return cls(
            name=record.name,
            gender=record.gender,
            id_number=record.id_number,
            mobile=record.mobile,
            education=record.education,
            employer=record.employer,
            major=record.major,
            graduated_on=record.graduated_on,
            years_in_post=record.years_in_post,
            position=position,
            specialisation=specialisation,
        )


# --------------------------------------------------------------------------------------------- helpers


@cache
def _register_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, FONT, size))


def _y(top: float) -> float:
    """PDF y of a distance ``top`` from the top edge of the page."""
    return PAGE_H - top


def _draw(c: Canvas, x: float, y: float, text: str, size: float, *, bold: bool = False) -> None:
    """Draw ``text`` with its left baseline at (x, y); bold is simulated with fill+stroke rendering."""
    if not text:
        return
    c.saveState()
    t = c.beginText(x, y)
    t.setFont(FONT, size)
    if bold:
        c.setLineWidth(size * 0.035)
        t.setTextRenderMode(2)
    t.textOut(text)
    c.drawText(t)
    c.restoreState()


def _draw_centred(c: Canvas, cx: float, y: float, text: str, size: float, *, bold: bool = False) -> None:
    _draw(c, cx - _width(text, size) / 2, y, text, size, bold=bold)


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (character-wise, as Chinese text wraps)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if line and _width(line + ch, size) > width:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def _cell_text(
    c: Canvas,
    x: float,
    top: float,
    w: float,
    h: float,
    text: str,
    *,
    size: float = BODY_SIZE,
    align: str = "center",
    pad: float = 1.5 * mm,
) -> None:
    """Write ``text`` inside the cell (x, top, w, h): on one line if it fits at no less than 9 pt, else
    wrapped (shrinking further only if the lines would not fit the height); centred vertically, aligned left
    or centred horizontally. Explicit newlines are kept."""
    text = text.strip()
    if not text:
        return
    avail_w, avail_h = w - 2 * pad, h - 2 * pad
    wrap_from = min(size, 9.0)
    lines = _wrap(text, size, avail_w)
    while size > 5.0:
        lines = _wrap(text, size, avail_w)
        single = len(lines) == len(text.split("\n"))
        fits_height = size * 1.25 * (len(lines) - 1) + size <= avail_h
        if fits_height and (single or size <= wrap_from):
            break
        size -= 0.5
    leading = size * 1.25
    block = leading * (len(lines) - 1) + size
    first_baseline = top + (h - block) / 2 + size * 0.88
    for i, line in enumerate(lines):
        y = _y(first_baseline + i * leading)
        if align == "center":
            _draw_centred(c, x + w / 2, y, line, size)
        else:
            _draw(c, x + pad, y, line, size)


def _rect(c: Canvas, x: float, top: float, w: float, h: float) -> None:
    c.rect(x, _y(top + h), w, h, stroke=1, fill=0)


def _hline(c: Canvas, x1: float, x2: float, top: float) -> None:
    c.line(x1, _y(top), x2, _y(top))


def _vline(c: Canvas, x: float, top: float, bottom: float) -> None:
    c.line(x, _y(top), x, _y(bottom))


def _birth_month(id_number: str) -> str:
    """出生年月 from an 18-character ID number (digits 7–14 are YYYYMMDD); blank when it cannot be read."""
    digits = id_number.strip()
    if len(digits) != 18 or not digits[6:14].isdigit():
        return ""
    year, month = int(digits[6:10]), int(digits[10:12])
    if not 1 <= month <= 12:
        return ""
    return f"{year}年{month:02d}月"


def _month(d: date | None) -> str:
    return f"{d.year}年{d.month:02d}月" if d else ""


def _position(a: FormApplicant) -> str:
    return f"{a.position}（{a.specialisation}）" if a.specialisation else a.position


def _years(years: int | None) -> str:
    return f"{years}年" if years is not None else ""


def _new_canvas(buffer: io.BytesIO, title: str) -> Canvas:
    _register_font()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle(title)
    c.setSubject(title)
    c.setCreator("enrollment")
    c.setStrokeColorRGB(0, 0, 0)
    c.setFillColorRGB(0, 0, 0)
    return c


# --------------------------------------------------------------------------------------- 附件2 报名表

_LEFT = 18 * mm
_WIDTH = PAGE_W - 2 * _LEFT  # 174 mm
_TABLE_TOP = 38 * mm


def _enrollment_form_page(c: Canvas, a: FormApplicant) -> None:
    x0, top = _LEFT, _TABLE_TOP
    right = x0 + _WIDTH
    c.setLineWidth(GRID_LINE)

    _draw_centred(c, PAGE_W / 2, _y(24 * mm), FORM_TITLE, TITLE_SIZE, bold=True)
    filled = "填表时间：　　　　年　　月　　日"
    _draw(c, right - _width(filled, BODY_SIZE), _y(top - 3 * mm), filled, BODY_SIZE)

    label_w = 22 * mm
    photo_w = 30 * mm
    left_w = _WIDTH - photo_w
    small_row, row = 13 * mm, 12 * mm

    c.setLineWidth(GRID_LINE)
    # Rows 1–3 (left part) and the photo box spanning them.
    # Row 1: 姓名 性别 出生年月; row 3: 所学专业 学历 毕业时间 — the same six columns.
    six = (label_w, 40 * mm, 13 * mm, 20 * mm, 20 * mm, left_w - label_w - 93 * mm)
    rows: list[tuple[str, str, str, str, str, str]] = [
        ("姓名", a.name, "性别", a.gender, "出生年月", _birth_month(a.id_number)),
        ("所学专业", a.major, "学历", a.education, "毕业时间", _month(a.graduated_on)),
    ]
    for row_top, texts in ((top, rows[0]), (top + 2 * small_row, rows[1])):
        x = x0
        for w, text in zip(six, texts, strict=True):
            _rect(c, x, row_top, w, small_row)
            _cell_text(c, x, row_top, w, small_row, text)
            x += w
    # Row 2: 身份证号 in 18 boxes.
    row2 = top + small_row
    _rect(c, x0, row2, label_w, small_row)
    _cell_text(c, x0, row2, label_w, small_row, "身份证号")
    box_w = (left_w - label_w) / 18
    for i in range(18):
        _rect(c, x0 + label_w + i * box_w, row2, box_w, small_row)
    id_number = a.id_number.strip().upper()
    if id_number:
        size = 12.0
        digit = _width("0", size)
        c.saveState()
        t = c.beginText(x0 + label_w + (box_w - digit) / 2, _y(row2 + small_row / 2 + size * 0.35))
        t.setFont(FONT, size)
        t.setCharSpace(box_w - digit)
        t.textOut(id_number[:18])
        c.drawText(t)
        c.restoreState()
    # Photo box.
    photo_x = x0 + left_w
    _rect(c, photo_x, top, photo_w, 3 * small_row)
    _cell_text(c, photo_x, top, photo_w, 3 * small_row, PHOTO_REQUIREMENT, size=8.0, align="left")

    # Rows 4–7.
    y = top + 3 * small_row
    layouts: list[tuple[tuple[float, str], ...]] = [
        (
            (label_w, "报考岗位"),
            (66 * mm, _position(a)),
            (26 * mm, "岗位工作年限"),
            (60 * mm, _years(a.years_in_post)),
        ),
        ((label_w, "工作单位\n（学校名称）"), (_WIDTH - label_w, a.employer)),
        ((label_w, "通讯地址"), (_WIDTH - label_w, a.address)),
        (
            (label_w, "联系手机"),
            (50 * mm, a.mobile),
            (16 * mm, "邮箱"),
            (_WIDTH - label_w - 66 * mm, a.email),
        ),
    ]
    for cells in layouts:
        x = x0
        for i, (w, text) in enumerate(cells):
            _rect(c, x, y, w, row)
            long_value = i % 2 == 1 and w > 80 * mm
            _cell_text(c, x, y, w, row, text, align="left" if long_value else "center")
            x += w
        y += row

    # Row 8: 本人承诺.
    pledge_h = 30 * mm
    _rect(c, x0, y, _WIDTH, pledge_h)
    pad = 3 * mm
    _draw(c, x0 + pad, _y(y + 7 * mm), "本人承诺：", BODY_SIZE, bold=True)
    for i, line in enumerate(_wrap(PLEDGE, BODY_SIZE, _WIDTH - 2 * pad - 2 * BODY_SIZE)):
        _draw(c, x0 + pad + 2 * BODY_SIZE, _y(y + 14 * mm + i * 6 * mm), line, BODY_SIZE)
    sign = "承诺人（签名）："
    sign_x = x0 + _WIDTH * 0.55
    _draw(c, sign_x, _y(y + pledge_h - 5 * mm), sign, BODY_SIZE)
    c.setLineWidth(0.5)
    _hline(c, sign_x + _width(sign, BODY_SIZE), right - pad, y + pledge_h - 4.2 * mm)
    c.setLineWidth(GRID_LINE)
    y += pledge_h

    # Row 9: ID copy area | 所在单位意见.
    last_h = 88 * mm
    half = _WIDTH / 2
    _rect(c, x0, y, half, last_h)
    _rect(c, x0 + half, y, half, last_h)
    _cell_text(c, x0, y, half, last_h, "二代身份证复印件粘贴处\n（正反面）", size=12.0)
    ox = x0 + half + pad
    _draw(c, ox, _y(y + 7 * mm), "所在单位意见（学校意见）：", BODY_SIZE, bold=True)
    for i, line in enumerate(_wrap(EMPLOYER_OPINION, BODY_SIZE, half - 2 * pad - 2 * BODY_SIZE)):
        _draw(c, ox + 2 * BODY_SIZE if i == 0 else ox, _y(y + 24 * mm + i * 7 * mm), line, BODY_SIZE)
    seal_cx = x0 + half + half * 0.62
    _draw_centred(c, seal_cx, _y(y + last_h - 22 * mm), "所在单位或学校（公章）", BODY_SIZE)
    _draw_centred(c, seal_cx, _y(y + last_h - 10 * mm), "年　　月　　日", BODY_SIZE)
    y += last_h

    # Outer border, heavier.
    c.setLineWidth(BORDER_LINE)
    _rect(c, x0, top, _WIDTH, y - top)
    c.setLineWidth(GRID_LINE)

    for i, note in enumerate(FORM_NOTES):
        _draw(c, x0, _y(y + 7 * mm + i * 6 * mm), note, BODY_SIZE)


def enrollment_forms_pdf(applicants: Sequence[FormApplicant]) -> bytes:
    """附件2 报名表: one A4 page per applicant, pre-filled; unknown fields stay blank for handwriting."""
    if not applicants:
        raise ValueError("no applicants to print")
    buffer = io.BytesIO()
    c = _new_canvas(buffer, "施工现场专业人员职业培训报名表")
    for applicant in applicants:
        _enrollment_form_page(c, applicant)
        c.showPage()
    c.save()
    return buffer.getvalue()


# ------------------------------------------------------------------------------ 附件3 工作年限证明

_PROOF_LEFT = 25 * mm
_PROOF_WIDTH = PAGE_W - 2 * _PROOF_LEFT  # 160 mm


@dataclass(frozen=True)
class _Field:
    """A value written over an underline (a blank to fill in when the value is empty)."""

    value: str
    min_width: float


def _runs(c: Canvas, runs: Sequence[str | _Field], *, top: float, size: float, indent: float) -> float:
    """Lay out text and underlined fields as a wrapped paragraph; returns the top of the next line."""
    left, right = _PROOF_LEFT, _PROOF_LEFT + _PROOF_WIDTH
    leading = size * 2.0
    x, baseline = left + indent, top + size
    for run in runs:
        if isinstance(run, _Field):
            w = max(run.min_width, _width(run.value, size) + 4 * mm)
            if x + w > right:
                x, baseline = left, baseline + leading
            c.setLineWidth(0.5)
            _hline(c, x, x + w, baseline + 1.2 * mm)
            _draw_centred(c, x + w / 2, _y(baseline), run.value, size)
            x += w
            continue
        line = ""
        for ch in run:
            if x + _width(line + ch, size) > right:
                _draw(c, x, _y(baseline), line, size)
                x, baseline, line = left, baseline + leading, ""
            line += ch
        _draw(c, x, _y(baseline), line, size)
        x += _width(line, size)
    return baseline + leading - size


def _work_years_proof_page(c: Canvas, a: FormApplicant) -> None:
    size = PROOF_BODY_SIZE
    x0, right = _PROOF_LEFT, _PROOF_LEFT + _PROOF_WIDTH
    _draw_centred(c, PAGE_W / 2, _y(38 * mm), PROOF_TITLE, TITLE_SIZE, bold=True)

    top = _runs(
        c,
        [
            "我单位",
            _Field(a.name.strip(), 28 * mm),
            "同志,已累计从事住房城乡建设行业施工现场专业岗位工作共",
            _Field(_years(a.years_in_post).removesuffix("年"), 14 * mm),
            "年。",
        ],
        top=55 * mm,
        size=size,
        indent=2 * size,
    )

    # 起止年月 / 从事何种岗位工作, 5 empty rows.
    table_top = top + 6 * mm
    row_h, col = 11 * mm, _PROOF_WIDTH / 2
    c.setLineWidth(GRID_LINE)
    for i in range(6):
        for j in range(2):
            _rect(c, x0 + j * col, table_top + i * row_h, col, row_h)
    _cell_text(c, x0, table_top, col, row_h, "起　止　年　月", size=size)
    _cell_text(c, x0 + col, table_top, col, row_h, "从事何种岗位工作", size=size)
    for i in range(1, 6):
        _cell_text(c, x0, table_top + i * row_h, col, row_h, "　　　年　　月——　　　年　　月", size=size)
    c.setLineWidth(BORDER_LINE)
    _rect(c, x0, table_top, _PROOF_WIDTH, 6 * row_h)
    c.setLineWidth(GRID_LINE)

    top = table_top + 6 * row_h + 10 * mm
    for text in PROOF_CLOSING:
        top = _runs(c, [text], top=top, size=size, indent=2 * size)

    # Signature block: the enterprise name is pre-filled beside 盖章; signature and date are handwritten.
    block_x = x0 + _PROOF_WIDTH * 0.3
    top += 18 * mm
    label = "企　业（盖章）："
    _draw(c, block_x, _y(top), label, size)
    employer_x = block_x + _width(label, size)
    employer = a.employer.strip()
    if employer:
        esize = size
        while esize > 8 and _width(employer, esize) > right - employer_x:
            esize -= 0.5
        _draw(c, employer_x, _y(top), employer, esize)
    top += 12 * mm
    _draw(c, block_x, _y(top), "负责人（签名）：", size)
    top += 12 * mm
    _draw(c, block_x + _width(label, size), _y(top), "年　　月　　日", size)


def work_years_proofs_pdf(applicants: Sequence[FormApplicant]) -> bytes:
    """附件3 施工现场专业岗位工作年限证明: one A4 page per applicant, name and years pre-filled."""
    if not applicants:
        raise ValueError("no applicants to print")
    buffer = io.BytesIO()
    c = _new_canvas(buffer, PROOF_TITLE)
    for applicant in applicants:
        _work_years_proof_page(c, applicant)
        c.showPage()
    c.save()
    return buffer.getvalue()
