"""Bad check-in frames and bad violation evidence get precise codes (exam.adapters.images)."""

from __future__ import annotations

import io

import pytest
from exam.adapters.images import sniff_evidence, verify_frame
from PIL import Image
from servicekit.errors import DomainError

MB = 1024 * 1024


def jpeg(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(out, "JPEG")
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 80), "white").save(out, "PNG")
    return out.getvalue()


def code_of(call: object) -> tuple[str, int]:
    assert callable(call)
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value.code, raised.value.status


def test_a_camera_frame_passes() -> None:
    assert verify_frame(jpeg(), max_bytes=5 * MB) == (640, 480)


@pytest.mark.parametrize(
    ("data", "max_bytes", "expected"),
    [
        (b"", 5 * MB, ("frame_required", 422)),
        (jpeg(), 100, ("frame_too_large", 413)),
        (png(), 5 * MB, ("frame_not_jpeg", 422)),
        (jpeg()[:200], 5 * MB, ("frame_unreadable", 422)),
        (b"\xff\xd8\xff" + b"\x00" * 500, 5 * MB, ("frame_unreadable", 422)),
        (jpeg(40, 40), 5 * MB, ("frame_too_small", 422)),
    ],
    ids=["empty", "too-large", "png", "truncated", "garbage-after-magic", "tiny"],
)
def test_bad_frames_are_refused_with_their_code(
    data: bytes, max_bytes: int, expected: tuple[str, int]
) -> None:
    assert code_of(lambda: verify_frame(data, max_bytes=max_bytes)) == expected


def test_evidence_types_are_sniffed_from_the_bytes() -> None:
    assert sniff_evidence(jpeg(), max_bytes=MB) == ("image/jpeg", "jpg")
    assert sniff_evidence(png(), max_bytes=MB) == ("image/png", "png")
    assert sniff_evidence(b"%PDF-1.4\n%%EOF", max_bytes=MB, name="a.pdf") == ("application/pdf", "pdf")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", ("evidence_empty", 422)),
        (b"\xff\xd8\xff" + b"\x00" * (MB + 1), ("evidence_too_large", 413)),
        (b"MZ\x90\x00 an executable named photo.jpg", ("evidence_type_not_allowed", 422)),
    ],
    ids=["empty", "too-large", "not-an-image-or-pdf"],
)
def test_bad_evidence_is_refused_with_its_code(data: bytes, expected: tuple[str, int]) -> None:
    assert code_of(lambda: sniff_evidence(data, max_bytes=MB, name="photo.jpg")) == expected
    with pytest.raises(DomainError) as raised:
        sniff_evidence(data, max_bytes=MB, name="photo.jpg")
    assert "photo.jpg" in raised.value.message
