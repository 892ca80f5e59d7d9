"""Decoding checks of uploaded documents, shared by every service that accepts an image or a PDF.

A file is judged by its bytes, never by its name or declared type:

* the type is sniffed from the first bytes (JPEG, PNG, PDF; anything else is named in the message);
* an image must decode completely (every pixel, not only the header) and have at most `max_pixels` pixels,
  checked from the header *before* decoding, so a 20000×20000 PNG of a few KB (a decompression bomb) is
  refused without allocating its 1.2 GB of pixels;
* a PDF must be structurally complete: `%PDF-` header, `startxref` pointing inside the file, `%%EOF` at its
  end, and, where pypdf is installed, a parse of its cross-reference table and pages.

`check_document` raises `DocumentRefused` (a `DomainError`, 422, or 415 for a type that is not allowed) with a
Chinese message naming the document; `document_problem` returns the problem instead, for callers that
collect every problem of a form. Pillow is imported on first use (`servicekit[faces]` or the service's own
dependency).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from .errors import DomainError

Format = Literal["JPEG", "PNG", "PDF"]

DEFAULT_MAX_PIXELS = 40_000_000
CONTENT_TYPES: dict[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "PDF": "application/pdf"}
EXTENSIONS: dict[str, str] = {"JPEG": "jpg", "PNG": "png", "PDF": "pdf"}
IMAGES: tuple[Format, ...] = ("JPEG", "PNG")
IMAGES_AND_PDF: tuple[Format, ...] = ("JPEG", "PNG", "PDF")

# stable codes (registration has used the first two since its first release)
CORRUPT_FILE = "corrupt_file"
IMAGE_TOO_LARGE = "image_too_large"
UNSUPPORTED_FORMAT = "unsupported_format"
EMPTY_FILE = "empty_file"
FILE_TOO_LARGE = "file_too_large"

_STARTXREF = re.compile(rb"startxref\s+(\d{1,20})\s+%%EOF", re.DOTALL)


@dataclass(frozen=True)
class DocumentProblem:
    code: str
    message: str


class DocumentRefused(DomainError):
    status = 422
    code = CORRUPT_FILE


@dataclass(frozen=True)
class CheckedDocument:
    format: Format
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> str:
    """The format the first bytes announce: JPEG, PNG, PDF, or a name for the message (GIF, BMP, …)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if b"%PDF-" in data[:1024]:
        return "PDF"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if data.startswith(b"PK\x03\x04"):
        return "ZIP"
    return "未知格式"


def _names(allowed: Collection[str]) -> str:
    names = [("PDF 文件" if f == "PDF" else f) for f in allowed]
    images = [n for n in names if n != "PDF 文件"]
    text = "、".join(images)
    if images:
        text += " 图片"
    if "PDF 文件" in names:
        text = f"{text}或 PDF 文件" if images else "PDF 文件"
    return text


def image_problem(data: bytes, *, label: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> DocumentProblem | None:
    """None when the image decodes completely and has at most `max_pixels` pixels."""
    from PIL import Image, ImageFile

    corrupt = DocumentProblem(
        CORRUPT_FILE, f"{label}：图片无法完整解码，文件可能已损坏或不完整，请重新拍摄或导出后上传"
    )
    declared = header_size(data)
    if declared is not None and declared[0] * declared[1] > max_pixels:
        return _too_many_pixels(label, declared[0], declared[1], max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:
                width, height = header.size
                if width * height > max_pixels:
                    return _too_many_pixels(label, width, height, max_pixels)
                header.verify()  # PNG: every chunk's CRC
            if ImageFile.LOAD_TRUNCATED_IMAGES:  # never accept a cut-off image, whatever a library set
                return corrupt
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # every pixel: a truncated or corrupt JPEG/PNG fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return DocumentProblem(
            IMAGE_TOO_LARGE,
            f"{label}：图片像素数异常（超过 {max_pixels / 1_000_000:g} 百万像素，疑似压缩炸弹），已拒绝",
        )
    except Exception:
        return corrupt
    return None


def _too_many_pixels(label: str, width: int, height: int, max_pixels: int) -> DocumentProblem:
    return DocumentProblem(
        IMAGE_TOO_LARGE,
        f"{label}：图片尺寸过大（{width}×{height} 像素，约 {width * height / 1_000_000:.0f} 百万像素），"
        f"超过 {max_pixels / 1_000_000:g} 百万像素的上限，请缩小后上传",
    )


def header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height a PNG's IHDR or a JPEG's frame header declares (read without Pillow, so even a
    size Pillow refuses to open can be named), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height
        if length < 2:
            return None
        at += 2 + length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header (nothing decoded), or None when it is not an image Pillow reads."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Exception:
        return None


def pdf_problem(data: bytes, *, label: str) -> DocumentProblem | None:
    """None when the PDF is structurally complete (header, cross-reference offset inside the file, %%EOF)
    and, where pypdf is installed, parses with at least one page."""
    incomplete = DocumentProblem(CORRUPT_FILE, f"{label}：PDF 文件不完整或已损坏，请重新导出后上传")
    start = data.find(b"%PDF-", 0, 1024)
    if start < 0:
        return DocumentProblem(CORRUPT_FILE, f"{label}：不是 PDF 文件（缺少 %PDF 文件头）")
    tail = data[-2048:]
    if b"%%EOF" not in tail:
        return incomplete
    found = _STARTXREF.findall(tail)
    if not found or int(found[-1]) >= len(data):
        return incomplete
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - pypdf is optional; the structural checks above stand alone
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                return DocumentProblem(CORRUPT_FILE, f"{label}：PDF 文件已加密，请上传未加密的文件")
            if len(reader.pages) < 1:
                return DocumentProblem(CORRUPT_FILE, f"{label}：PDF 文件没有页面")
    except (
        PdfReadError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
        RecursionError,
    ):
        return incomplete
    except Exception:
        return incomplete
    return None


def document_problem(
    data: bytes,
    *,
    label: str,
    allowed: Collection[str] = IMAGES_AND_PDF,
    max_bytes: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DocumentProblem | None:
    """The first problem of one uploaded document (empty, too large, wrong type, undecodable), or None."""
    if not data:
        return DocumentProblem(EMPTY_FILE, f"{label}：文件为空")
    if max_bytes is not None and len(data) > max_bytes:
        return DocumentProblem(
            FILE_TOO_LARGE,
            f"{label}：文件 {len(data) / 1048576:.1f} MB，超过 {max_bytes / 1048576:g} MB 的上限",
        )
    found = sniff(data)
    if found not in allowed:
        return DocumentProblem(UNSUPPORTED_FORMAT, f"{label}只能是 {_names(allowed)}，实际是 {found}")
    if found == "PDF":
        return pdf_problem(data, label=label)
    return image_problem(data, label=label, max_pixels=max_pixels)


def check_document(
    data: bytes,
    *,
    label: str,
    allowed: Collection[str] = IMAGES_AND_PDF,
    max_bytes: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> CheckedDocument:
    """The document's format, content type and extension; `DocumentRefused` (422; 413 too large; 415 a
    type not allowed) with a precise Chinese message otherwise. Decoding is CPU work: call it in a thread
    (`asyncio.to_thread`) from async code."""
    problem = document_problem(data, label=label, allowed=allowed, max_bytes=max_bytes, max_pixels=max_pixels)
    if problem is not None:
        status = {UNSUPPORTED_FORMAT: 415, FILE_TOO_LARGE: 413}.get(problem.code, 422)
        raise DocumentRefused(problem.message, code=problem.code, status=status)
    found: Format = sniff(data)  # type: ignore[assignment]
    size = image_size(data) if found != "PDF" else None
    return CheckedDocument(
        format=found,
        content_type=CONTENT_TYPES[found],
        extension=EXTENSIONS[found],
        width=size[0] if size else None,
        height=size[1] if size else None,
    )
