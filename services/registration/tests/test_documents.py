"""The document validators against a corpus of bad files made by the test."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image
from registration.application.handlers import UploadedFile, check_files
from registration.settings import RegistrationSettings
from registration_samples import jpeg, pdf, png

SETTINGS = RegistrationSettings(max_document_bytes=200_000, max_image_pixels=1_000_000)


def codes(kind: str, data: bytes) -> list[str]:
    return [p["code"] for p in check_files([UploadedFile(kind=kind, data=data)], SETTINGS)]


@pytest.mark.parametrize("make", [jpeg, png, pdf])
def test_good_files_pass(make: object) -> None:
    assert codes("business_licence", make()) == []  # type: ignore[operator]


def bomb_png() -> bytes:
    """A tiny PNG that claims 20000×20000 pixels."""
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")
    return out.getvalue()


def test_bad_files_each_get_a_precise_code() -> None:
    real_jpeg = jpeg()
    corpus = {
        "empty_file": b"",
        "unsupported_type": b"GIF89a" + b"\0" * 50,
        "file_too_large": b"\xff\xd8\xff" + b"\0" * 200_001,
        "corrupt_file": real_jpeg[:20],
        "image_too_large": bomb_png(),
    }
    for expected, data in corpus.items():
        assert codes("commitment_letter", data) == [expected], expected
    truncated_pdf = pdf()[:-40]
    assert codes("business_licence", truncated_pdf) == ["corrupt_file"]
    renamed_exe = b"MZ\x90\x00" + zlib.compress(b"x" * 1000)
    assert codes("business_licence", renamed_exe) == ["unsupported_type"]
    assert codes("tax_return", real_jpeg) == ["unknown_document"]


def test_messages_are_chinese_and_name_the_document() -> None:
    problems = check_files([UploadedFile(kind="business_licence", data=b"hello")], SETTINGS)
    assert problems[0]["field"] == "business_licence"
    assert "营业执照" in problems[0]["message"] and "JPEG、PNG 或 PDF" in problems[0]["message"]
