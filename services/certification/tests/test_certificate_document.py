"""The certificate PDF: text, metadata, photo or placeholder, state stamp, and a QR code that scans."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from certification.adapters import document as layout
from certification.adapters.document import (
    CertificateDocument,
    fit_value,
    gender_label,
    render_certificate_pdf,
)
from certification.adapters.signing import CertificateSigner, VerificationClaims
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

OBAMA = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "faces" / "obama.jpg"
RENDER_SCALE = 3.0  # pixels per point


def verify_url() -> str:
    signer = CertificateSigner.from_seed_b64(CertificateSigner.generate_seed_b64())
    claims = VerificationClaims.for_holder(
        number="3320260100001236",
        holder_name="欧阳建国",
        id_number="33010619900517001X",
        position="施工员",
        specialisation="土建施工",
        institution="浙江省建设职业技术培训中心有限公司",
        issued_on=date(2026, 11, 25),
    )
    return "https://cert.example.cn/verify?t=" + signer.token(claims)


@pytest.fixture(scope="module")
def doc() -> CertificateDocument:
    return CertificateDocument(
        number="3320260100001236",
        holder_name="欧阳建国",
        gender="男",
        id_number="33010619900517001X",
        position="施工员",
        specialisation="土建施工",
        institution_name="浙江省建设职业技术培训中心有限公司",
        issued_on=date(2026, 11, 25),
        photo=OBAMA.read_bytes(),
        verify_url=verify_url(),
    )


@pytest.fixture(scope="module")
def pdf(doc: CertificateDocument) -> bytes:
    return render_certificate_pdf(doc)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def region(pdf: bytes, x: float, y: float, w: float, h: float, scale: float = RENDER_SCALE) -> np.ndarray:
    """An RGB rendering of a region of the page given in PDF points (origin bottom left)."""
    page = pypdfium2.PdfDocument(pdf)[0]
    cut = (x, y, layout.PAGE_WIDTH - (x + w), layout.PAGE_HEIGHT - (y + h))  # left, bottom, right, top
    return np.asarray(page.render(scale=scale, crop=cut).to_pil().convert("RGB"))


def test_page_is_a4_landscape_with_metadata(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "住房和城乡建设领域施工现场专业人员职业培训合格证（3320260100001236）"
    assert meta.author == "浙江省建设职业技术培训中心有限公司"


def test_text_has_title_fields_and_footer(pdf: bytes) -> None:
    text = text_of(pdf)
    for expected in (
        "住房和城乡建设领域施工现场专业人员",
        "职业培训合格证",
        "欧阳建国",
        "男",
        "33010619900517001X",  # the full ID number: this is the holder's own document
        "施工员（土建施工）",
        "3320260100001236",
        "浙江省建设职业技术培训中心有限公司",
        "2026年11月25日",
        "扫码查验",
        "本证书无有效期，证书状态以查验结果为准",
    ):
        assert expected in text, expected
    assert "已注销" not in text and "照片" not in text


def test_photo_is_embedded(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    images = list(reader.pages[0].images)
    assert len(images) == 1
    embedded = images[0].image
    assert embedded is not None
    assert embedded.size[1] <= 800 and embedded.size[0] < embedded.size[1]  # portrait, downscaled
    # The photo box on the rendered page shows the photo (many colours), not a blank placeholder.
    x, y, w, h = layout.PHOTO_BOX
    pixels = region(pdf, x + 4, y + 4, w - 8, h - 8)
    assert pixels.std() > 30
    assert len(pdf) < 400_000


def test_without_photo_shows_a_placeholder(doc: CertificateDocument) -> None:
    pdf = render_certificate_pdf(replace(doc, photo=None))
    assert "照片" in text_of(pdf)
    assert list(PdfReader(io.BytesIO(pdf)).pages[0].images) == []
    x, y, w, h = layout.PHOTO_BOX
    assert region(pdf, x + 4, y + h - 40, w - 8, 30).std() < 3  # white box, no picture


def test_unreadable_photo_falls_back_to_the_placeholder(doc: CertificateDocument) -> None:
    pdf = render_certificate_pdf(replace(doc, photo=b"\xff\xd8\xff not really a jpeg"))
    assert "照片" in text_of(pdf)
    assert list(PdfReader(io.BytesIO(pdf)).pages[0].images) == []


def test_png_photo_with_transparency(doc: CertificateDocument) -> None:
    image = Image.new("RGBA", (300, 400), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (50, 50, 250, 350))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = render_certificate_pdf(replace(doc, photo=buffer.getvalue()))
    assert "照片" not in text_of(pdf)
    x, y, w, h = layout.PHOTO_BOX
    pixels = region(pdf, x + 4, y + 4, w - 8, h - 8)
    reds = (pixels[..., 0] > 150) & (pixels[..., 1] < 90)
    whites = pixels.min(axis=2) > 235
    assert reds.mean() > 0.3 and whites.mean() > 0.1  # the red square on white, not on black


def test_photo_exif_orientation_is_applied(doc: CertificateDocument) -> None:
    # A phone photo stored sideways (400×300) with EXIF "rotate 90° clockwise to view": upright is 300×400.
    sideways = Image.new("RGB", (400, 300), (40, 90, 160))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", exif=exif)
    pdf = render_certificate_pdf(replace(doc, photo=buffer.getvalue()))
    images = list(PdfReader(io.BytesIO(pdf)).pages[0].images)
    assert len(images) == 1 and images[0].image is not None
    assert images[0].image.size == (300, 400)


def decode_qr(pdf: bytes) -> set[str]:
    """What OpenCV reads from the QR area of the page (rendered alone, at a few resolutions)."""
    cv2 = pytest.importorskip("cv2")  # in the workspace's dev environment (servicekit[faces])
    x, y = layout.QR_BOX
    margin = layout.QR_MARGIN + 10
    crop_box = (  # amounts cut off left, bottom, right, top (points)
        x - margin,
        y - margin,
        layout.PAGE_WIDTH - (x + layout.QR_SIZE + margin),
        layout.PAGE_HEIGHT - (y + layout.QR_SIZE + margin),
    )
    found: set[str] = set()
    page = pypdfium2.PdfDocument(pdf)[0]
    for scale in (3, 4, 6):
        gray = np.asarray(page.render(scale=scale, crop=crop_box).to_pil().convert("L"))
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            data, _, _ = detector.detectAndDecode(gray)
            if data:
                found.add(data)
    return found


def test_qr_code_scans_back_to_the_verify_url(doc: CertificateDocument, pdf: bytes) -> None:
    assert decode_qr(pdf) == {doc.verify_url}


def test_dense_qr_code_still_scans(doc: CertificateDocument) -> None:
    """A long institution name and a long base URL: the token grows, the QR code gets denser (~version 17)."""
    signer = CertificateSigner.from_seed_b64(CertificateSigner.generate_seed_b64())
    institution = "浙江省某某市某某区建设工程职业技能培训学校有限责任公司第二分校继续教育中心"
    claims = VerificationClaims.for_holder(
        number=doc.number,
        holder_name="买买提·艾力",
        id_number=doc.id_number,
        position="施工员",
        specialisation="市政工程施工",
        institution=institution,
        issued_on=doc.issued_on,
    )
    url = "https://certificates.zjjs.gov.cn/certification/verify?t=" + signer.token(claims)
    assert len(url) > 450
    dense = replace(doc, holder_name="买买提·艾力", institution_name=institution, verify_url=url)
    assert decode_qr(render_certificate_pdf(dense)) == {url}


def test_revoked_certificate_is_stamped(doc: CertificateDocument, pdf: bytes) -> None:
    revoked = render_certificate_pdf(replace(doc, state_label="已注销"))
    text = text_of(revoked)
    assert "已注销" in text and "欧阳建国" in text
    # The stamp is red ink over the fields area, absent from the valid certificate.
    area = (
        layout.LABEL_X,
        layout.FIRST_ROW_Y - 5 * layout.ROW_STEP,
        layout.VALUE_RIGHT - layout.LABEL_X,
        160.0,
    )

    def red_share(rendered: bytes) -> float:
        pixels = region(rendered, *area).astype(int)
        return float(((pixels[..., 0] > 150) & (pixels[..., 1] < 110) & (pixels[..., 2] < 110)).mean())

    assert red_share(pdf) < 0.001
    assert red_share(revoked) > 0.03


def test_rendering_is_deterministic(doc: CertificateDocument, pdf: bytes) -> None:
    assert render_certificate_pdf(doc) == pdf
    other = render_certificate_pdf(replace(doc, number="3320260100001245"))
    assert other != pdf and "3320260100001245" in text_of(other)


def test_long_values_shrink_or_wrap_to_fit(doc: CertificateDocument) -> None:
    width = layout.VALUE_RIGHT - layout.VALUE_X - 4
    short = "浙江省建设职业技术培训中心"
    assert fit_value(short, width) == (layout.FIELD_SIZE, [short])
    longer = "浙江省建设职业技术培训中心有限公司杭州分公司"
    size, lines = fit_value(longer, width)
    assert layout.MIN_ONE_LINE_SIZE <= size < layout.FIELD_SIZE and lines == [longer]
    longest = "浙江省某某市某某区建设工程职业技能培训学校有限责任公司第二分校继续教育中心"
    size, lines = fit_value(longest, width)
    assert len(lines) == 2 and "".join(lines) == longest
    assert all(pdfmetrics.stringWidth(line, layout.FONT, size) <= width + 0.01 for line in lines)
    for value in (longer, longest):
        pdf = render_certificate_pdf(replace(doc, institution_name=value, specialisation=None))
        text = text_of(pdf)
        assert value in text.replace("\n", "") and "施工员（" not in text


@pytest.mark.parametrize(
    ("gender", "id_number", "expected"),
    [
        ("男", "33010619900517002X", "男"),
        ("female", "33010619900517001X", "女"),
        ("", "33010619900517001X", "男"),  # 17th digit odd
        ("", "33010619900517002X", "女"),
        ("", "123", "—"),
    ],
)
def test_gender_label(gender: str, id_number: str, expected: str) -> None:
    assert gender_label(gender, id_number) == expected
