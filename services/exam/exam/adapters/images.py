"""Uploaded files: a check-in frame must be a real JPEG (sniffed and decoded with Pillow, size-limited,
decompression-bomb-safe); violation evidence is a JPEG, PNG or PDF file."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError
from servicekit import documents
from servicekit.errors import DomainError

MAX_PIXELS = 40_000_000
MIN_SIDE = 64
EVIDENCE_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def verify_frame(data: bytes, *, max_bytes: int) -> tuple[int, int]:
    """The frame's (width, height); refuses anything but a decodable JPEG of a sensible size."""
    if not data:
        raise DomainError("请上传摄像头拍摄的照片（JPEG）", code="frame_required")
    if len(data) > max_bytes:
        raise DomainError(f"照片不能超过 {max_bytes // (1024 * 1024)} MB", code="frame_too_large", status=413)
    if not data.startswith(b"\xff\xd8\xff"):
        raise DomainError("照片须为 JPEG 格式", code="frame_not_jpeg")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != "JPEG":
                    raise DomainError("照片须为 JPEG 格式", code="frame_not_jpeg")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise DomainError("照片像素过大", code="frame_too_large", status=413)
                image.load()
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
    ) as exc:
        raise DomainError("照片无法读取（文件损坏或不是 JPEG 图片）", code="frame_unreadable") from exc
    if min(width, height) < MIN_SIDE:
        raise DomainError(f"照片过小（至少 {MIN_SIDE}×{MIN_SIDE} 像素）", code="frame_too_small")
    return width, height


def sniff_evidence(data: bytes, *, max_bytes: int, name: str = "") -> tuple[str, str]:
    """(content type, extension) of one evidence file."""
    label = f"证据文件“{name}”" if name else "证据文件"
    if not data:
        raise DomainError(f"{label}为空", code="evidence_empty")
    if len(data) > max_bytes:
        raise DomainError(
            f"{label}不能超过 {max_bytes // (1024 * 1024)} MB", code="evidence_too_large", status=413
        )
    for magic, content_type, extension in EVIDENCE_TYPES:
        if data.startswith(magic):
            return content_type, extension
    raise DomainError(f"{label}须为 JPEG、PNG 图片或 PDF 文件", code="evidence_type_not_allowed")


def check_evidence(data: bytes, *, max_bytes: int, name: str = "", max_pixels: int = MAX_PIXELS) -> str:
    """The content type of one evidence file that is also decoded completely (an image: pixel bound from its
    header first, then every pixel; a PDF: its structure), or `DomainError` with a precise code
    (`corrupt_file`, `image_too_large`). CPU work: run it in a thread."""
    content_type, _ = sniff_evidence(data, max_bytes=max_bytes, name=name)
    label = f"证据文件“{name}”" if name else "证据文件"
    if content_type == "application/pdf":
        problem = documents.pdf_problem(data, label=label)
    else:
        problem = documents.image_problem(data, label=label, max_pixels=max_pixels)
    if problem is not None:
        raise DomainError(problem.message, code=problem.code)
    return content_type
