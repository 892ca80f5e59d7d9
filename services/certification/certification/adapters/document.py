"""The certificate as a PDF: one A4 landscape page, rendered with reportlab only (no font download).

Chinese text uses reportlab's built-in CID font STSong-Light (the viewer supplies the glyphs), the QR code is
drawn as vectors by reportlab's own QR widget, and the head photo is embedded from its JPEG/PNG bytes (a
placeholder box reading 照片 when there is none or it cannot be read). The canvas is created in invariant
mode, so the same document gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Final

from PIL import Image, ImageOps
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

TITLE_LINE_1: Final = "住房和城乡建设领域施工现场专业人员"
TITLE_LINE_2: Final = "职业培训合格证"
TITLE: Final = TITLE_LINE_1 + TITLE_LINE_2
FOOTER: Final = "本证书无有效期，证书状态以查验结果为准。"
VALID_LABEL: Final = "有效"
FONT: Final = "STSong-Light"

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
RED = HexColor("#9E1B1B")
INK = HexColor("#1E1E1E")
GREY = HexColor("#6B6B6B")
RULE = HexColor("#B8A27A")
PAPER = HexColor("#FFFCF4")
STAMP = Color(0.80, 0.05, 0.05)

# Layout (points; origin bottom left).
MARGIN_OUTER = 18.0
MARGIN_INNER = 26.0
PHOTO_BOX = (82.0, 243.0, 108.0, 144.0)  # x, y, width, height (3:4, a 2-inch photo)
QR_SIZE = 140.0
QR_MARGIN = 6.0
QR_BOX = (PAGE_WIDTH - 82.0 - QR_MARGIN - QR_SIZE, 247.0)  # x, y (top aligned with the photo)
LABEL_X = 222.0
LABEL_WIDTH = 84.0
VALUE_X = LABEL_X + LABEL_WIDTH + 14.0
VALUE_RIGHT = QR_BOX[0] - QR_MARGIN - 22.0
FIRST_ROW_Y = 372.0
ROW_STEP = 40.0
FIELD_SIZE = 15.0
MIN_FIELD_SIZE = 7.0
MIN_ONE_LINE_SIZE = 11.0
TWO_LINE_SIZE = 12.0
PHOTO_MAX_PIXELS = (600, 800)

_GENDERS = {"男": "男", "女": "女", "m": "男", "male": "男", "f": "女", "female": "女", "1": "男", "2": "女"}


@dataclass(frozen=True)
class CertificateDocument:
    number: str
    holder_name: str
    gender: str
    id_number: str
    position: str
    specialisation: str | None
    institution_name: str
    issued_on: date
    photo: bytes | None
    verify_url: str
    state_label: str = VALID_LABEL


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def gender_label(gender: str, id_number: str) -> str:
    """男/女 as given; otherwise from the ID number's 17th digit (odd: male), else a dash."""
    label = _GENDERS.get(gender.strip().lower())
    if label:
        return label
    if len(id_number) == 18 and id_number[16].isdigit():
        return "男" if int(id_number[16]) % 2 else "女"
    return "—"


def position_label(position: str, specialisation: str | None) -> str:
    return f"{position}（{specialisation}）" if specialisation else position


def date_label(value: date) -> str:
    return f"{value.year}年{value.month:02d}月{value.day:02d}日"


def _photo_image(photo: bytes | None) -> ImageReader | None:
    """The photo upright (EXIF orientation applied), RGB JPEG, at most 600×800 pixels; None if unreadable."""
    if not photo:
        return None
    try:
        with Image.open(io.BytesIO(photo)) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                background = Image.new("RGB", image.size, (255, 255, 255))
                background.paste(image, mask=image.getchannel("A"))
                image = background
            else:
                image = image.convert("RGB")
            image.thumbnail(PHOTO_MAX_PIXELS)
            encoded = io.BytesIO()
            image.save(encoded, format="JPEG", quality=88)  # embedded as is (DCTDecode): a small PDF
            encoded.seek(0)
            return ImageReader(encoded)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _fit_size(text: str, width: float, size: float, minimum: float = MIN_FIELD_SIZE) -> float:
    """The largest font size ≤ size at which text fits width (not below minimum)."""
    needed = pdfmetrics.stringWidth(text, FONT, size)
    if needed <= width:
        return size
    return max(minimum, size * width / needed)


def fit_value(text: str, width: float, size: float = FIELD_SIZE) -> tuple[float, list[str]]:
    """Font size and lines for a field value: one line, shrunk down to 11 pt, else two balanced lines."""
    one_line = _fit_size(text, width, size)
    if one_line >= MIN_ONE_LINE_SIZE or len(text) < 2:
        return one_line, [text]
    middle = (len(text) + 1) // 2
    lines = [text[:middle], text[middle:]]
    return min(_fit_size(line, width, TWO_LINE_SIZE) for line in lines), lines


def _spread(canvas: Canvas, text: str, x: float, y: float, width: float, size: float) -> None:
    """Draw text with its characters spread evenly over width (labels such as 姓    名)."""
    if len(text) < 2:
        canvas.drawString(x, y, text)
        return
    natural = pdfmetrics.stringWidth(text, FONT, size)
    space = max(0.0, (width - natural) / (len(text) - 1))
    canvas.saveState()
    obj = canvas.beginText(x, y)
    obj.setFont(FONT, size)
    obj.setCharSpace(space)
    obj.textOut(text)
    canvas.drawText(obj)
    canvas.restoreState()


def _centred_bold(canvas: Canvas, text: str, y: float, size: float, char_space: float = 0.0) -> None:
    """Centred title text, emboldened by stroking the glyph outlines (CID fonts have no bold face)."""
    width = pdfmetrics.stringWidth(text, FONT, size) + char_space * (len(text) - 1)
    canvas.saveState()  # the text render mode and character spacing outlive the text object otherwise
    obj = canvas.beginText((PAGE_WIDTH - width) / 2, y)
    obj.setFont(FONT, size)
    obj.setCharSpace(char_space)
    obj.setTextRenderMode(2)
    obj.textOut(text)
    canvas.setLineWidth(size / 30)
    canvas.drawText(obj)
    canvas.restoreState()


def _frame(canvas: Canvas) -> None:
    canvas.setFillColor(PAPER)
    canvas.rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT, stroke=0, fill=1)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(3.2)
    o = MARGIN_OUTER
    canvas.rect(o, o, PAGE_WIDTH - 2 * o, PAGE_HEIGHT - 2 * o, stroke=1, fill=0)
    canvas.setLineWidth(0.9)
    i = MARGIN_INNER
    canvas.rect(i, i, PAGE_WIDTH - 2 * i, PAGE_HEIGHT - 2 * i, stroke=1, fill=0)
    # Corner ornaments: a small square in each corner of the band between the two borders.
    canvas.setFillColor(RED)
    for cx in (i + 6, PAGE_WIDTH - i - 6):
        for cy in (i + 6, PAGE_HEIGHT - i - 6):
            canvas.rect(cx - 3, cy - 3, 6, 6, stroke=0, fill=1)


def _title(canvas: Canvas) -> None:
    canvas.setFillColor(RED)
    canvas.setStrokeColor(RED)
    _centred_bold(canvas, TITLE_LINE_1, PAGE_HEIGHT - 102, 26, char_space=1.5)
    _centred_bold(canvas, TITLE_LINE_2, PAGE_HEIGHT - 152, 38, char_space=10)
    canvas.setStrokeColor(RULE)
    y = PAGE_HEIGHT - 176
    canvas.setLineWidth(1.6)
    canvas.line(82, y, PAGE_WIDTH - 82, y)
    canvas.setLineWidth(0.5)
    canvas.line(82, y - 4, PAGE_WIDTH - 82, y - 4)


def _photo(canvas: Canvas, photo: bytes | None) -> None:
    x, y, w, h = PHOTO_BOX
    canvas.setFillColor(white)
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.8)
    canvas.rect(x, y, w, h, stroke=1, fill=1)
    image = _photo_image(photo)
    if image is None:
        canvas.setFillColor(GREY)
        canvas.setFont(FONT, 16)
        canvas.drawCentredString(x + w / 2, y + h / 2 - 6, "照片")
        return
    canvas.drawImage(image, x + 2, y + 2, w - 4, h - 4, preserveAspectRatio=True, anchor="c")


def _fields(canvas: Canvas, doc: CertificateDocument) -> None:
    rows = [
        ("姓名", doc.holder_name),
        ("性别", gender_label(doc.gender, doc.id_number)),
        ("身份证号", doc.id_number),
        ("岗位（专业）", position_label(doc.position, doc.specialisation)),
        ("证书编号", doc.number),
        ("培训机构", doc.institution_name),
        ("发证日期", date_label(doc.issued_on)),
    ]
    width = VALUE_RIGHT - VALUE_X
    for index, (label, value) in enumerate(rows):
        y = FIRST_ROW_Y - index * ROW_STEP
        canvas.setFillColor(GREY)
        label_size = _fit_size(label, LABEL_WIDTH, 14)
        canvas.setFont(FONT, label_size)
        _spread(canvas, label, LABEL_X, y, LABEL_WIDTH, label_size)
        canvas.drawString(LABEL_X + LABEL_WIDTH + 2, y, "：")
        canvas.setFillColor(INK)
        size, lines = fit_value(value, width - 4)
        canvas.setFont(FONT, size)
        if len(lines) == 1:
            canvas.drawString(VALUE_X + 4, y, value)
        else:
            canvas.drawString(VALUE_X + 4, y + size * 0.75 + 1, lines[0])
            canvas.drawString(VALUE_X + 4, y - size * 0.35, lines[1])
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(VALUE_X, y - 6, VALUE_RIGHT, y - 6)


def _qr(canvas: Canvas, url: str) -> None:
    x, y = QR_BOX
    widget = QrCodeWidget(url, barLevel="M", barBorder=2)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        QR_SIZE,
        QR_SIZE,
        transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0],
    )
    drawing.add(widget)
    canvas.setFillColor(white)  # the quiet zone: 2 modules inside the drawing plus this white margin
    canvas.rect(
        x - QR_MARGIN, y - QR_MARGIN, QR_SIZE + 2 * QR_MARGIN, QR_SIZE + 2 * QR_MARGIN, stroke=0, fill=1
    )
    renderPDF.draw(drawing, canvas, x, y)
    canvas.setFillColor(INK)
    canvas.setFont(FONT, 13)
    canvas.drawCentredString(x + QR_SIZE / 2, y - QR_MARGIN - 16, "扫码查验")


def _stamp(canvas: Canvas, label: str) -> None:
    """A red, tilted, translucent stamp across the fields when the certificate is not valid."""
    size = 46.0
    text_width = pdfmetrics.stringWidth(label, FONT, size) + 8 * (len(label) - 1)
    width, height = text_width + 44, size + 34
    canvas.saveState()
    canvas.translate((LABEL_X + VALUE_RIGHT) / 2 + 20, FIRST_ROW_Y - 3 * ROW_STEP + 4)
    canvas.rotate(14)
    canvas.setFillAlpha(0.62)
    canvas.setStrokeAlpha(0.62)
    canvas.setStrokeColor(STAMP)
    canvas.setFillColor(STAMP)
    canvas.setLineWidth(4)
    canvas.roundRect(-width / 2, -height / 2, width, height, 8, stroke=1, fill=0)
    canvas.setLineWidth(1.2)
    canvas.roundRect(-width / 2 + 6, -height / 2 + 6, width - 12, height - 12, 5, stroke=1, fill=0)
    obj = canvas.beginText(-text_width / 2, -size * 0.36)
    obj.setFont(FONT, size)
    obj.setCharSpace(8)
    obj.setTextRenderMode(2)
    obj.textOut(label)
    canvas.setLineWidth(1.2)
    canvas.drawText(obj)
    canvas.restoreState()


def _footer(canvas: Canvas, doc: CertificateDocument) -> None:
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(82, 92, PAGE_WIDTH - 82, 92)
    canvas.setFillColor(GREY)
    canvas.setFont(FONT, 11)
    canvas.drawCentredString(PAGE_WIDTH / 2, 70, FOOTER)
    if doc.state_label != VALID_LABEL:
        canvas.setFillColor(STAMP)
        canvas.setFont(FONT, 12)
        canvas.drawCentredString(PAGE_WIDTH / 2, 50, f"证书状态：{doc.state_label}")


def render_certificate_pdf(doc: CertificateDocument) -> bytes:
    """The certificate as a one-page PDF (A4 landscape)."""
    _register_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=True, pageCompression=1)
    canvas.setTitle(f"{TITLE}（{doc.number}）")
    canvas.setAuthor(doc.institution_name)
    canvas.setSubject(f"{TITLE} {doc.number}")
    canvas.setCreator("zj-cert certification service")
    canvas.setKeywords(["职业培训合格证", doc.number])
    _frame(canvas)
    _title(canvas)
    _photo(canvas, doc.photo)
    _fields(canvas, doc)
    _qr(canvas, doc.verify_url)
    if doc.state_label != VALID_LABEL:
        _stamp(canvas, doc.state_label)
    _footer(canvas, doc)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
