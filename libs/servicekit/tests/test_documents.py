"""servicekit.documents against a corpus of bad files made by the test."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from servicekit.documents import (
    IMAGES,
    DocumentRefused,
    check_document,
    document_problem,
)


def _image(fmt: str, size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 7):  # some detail, so the JPEG has real entropy-coded data
        image.putpixel((x, x % size[1]), (0, 0, 0))
    image.save(out, fmt, quality=90) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def _pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(out, "PDF")
    return out.getvalue()


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A few hundred bytes of PNG claiming width×height pixels (IHDR rewritten, CRC recomputed)."""
    png = _image("PNG", (8, 8))
    ihdr = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return png[:16] + ihdr + crc + png[33:]


def code(data: bytes, **kw: object) -> str | None:
    problem = document_problem(data, label="身份证正面", **kw)  # type: ignore[arg-type]
    return problem.code if problem else None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_good_images_pass(fmt: str) -> None:
    checked = check_document(_image(fmt), label="照片", allowed=IMAGES)
    assert checked.format == fmt and checked.width == 320 and checked.height == 240


def test_good_pdf_passes() -> None:
    assert check_document(_pdf(), label="营业执照").content_type == "application/pdf"


def test_pixel_bomb_is_refused_before_decoding() -> None:
    problem = document_problem(bomb_png(), label="身份证正面")
    assert problem is not None and problem.code == "image_too_large"
    assert "20000×20000" in problem.message and "身份证正面" in problem.message


def test_corrupt_and_truncated_images_are_refused() -> None:
    jpeg = _image("JPEG")
    assert code(jpeg[: len(jpeg) // 2]) == "corrupt_file"
    assert code(jpeg[:20]) == "corrupt_file"
    garbage = jpeg[:200] + b"\x00" * (len(jpeg) - 200)
    assert code(garbage) == "corrupt_file"
    png = _image("PNG")
    assert code(png[: len(png) - 30]) == "corrupt_file"
    flipped = bytearray(png)
    flipped[60] ^= 0xFF  # inside IDAT: the chunk's CRC no longer matches
    assert code(bytes(flipped)) == "corrupt_file"


def test_truncated_and_fake_pdfs_are_refused() -> None:
    pdf = _pdf()
    assert code(pdf[:-40]) == "corrupt_file"
    assert code(pdf[: len(pdf) // 2]) == "corrupt_file"
    assert code(b"%PDF-1.4\n%%EOF\n") == "corrupt_file"  # no cross-reference at all
    assert code(b"%PDF-1.4\n" + b"x" * 100 + b"\nstartxref\n99999\n%%EOF\n") == "corrupt_file"


def test_types_and_sizes() -> None:
    assert code(b"") == "empty_file"
    assert code(b"GIF89a" + b"\0" * 50) == "unsupported_format"
    assert code(_pdf(), allowed=IMAGES) == "unsupported_format"
    assert code(_image("JPEG"), max_bytes=100) == "file_too_large"
    with pytest.raises(DocumentRefused) as refused:
        check_document(b"MZ\x90\x00", label="身份证正面", allowed=IMAGES)
    assert refused.value.status == 415 and "JPEG、PNG 图片" in refused.value.message
    with pytest.raises(DocumentRefused) as refused:
        check_document(bomb_png(), label="身份证正面")
    assert refused.value.status == 422 and refused.value.code == "image_too_large"


def test_header_size_reads_png_and_jpeg_without_decoding() -> None:
    from servicekit.documents import header_size

    assert header_size(_image("JPEG")) == (320, 240)
    assert header_size(_image("PNG")) == (320, 240)
    assert header_size(bomb_png(30000, 10)) == (30000, 10)
    assert header_size(b"hello") is None
