"""read_rows refuses what is not a usable .xlsx with certification's codes (checks from servicekit.xlsx)."""

from __future__ import annotations

import io
import zipfile

import pytest
from certification.adapters import spreadsheet
from servicekit.errors import DomainError


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "code", "status", "words"),
    [
        (b"", "empty_file", 400, "空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "xls_not_supported", 400, ".xls"),
        (b"%PDF-1.4", "not_xlsx", 400, ".xlsx"),
        (zipped({"word/document.xml": b"<w/>"}), "not_xlsx", 400, ".xlsx"),
        (b"PK\x03\x04 broken", "not_xlsx", 400, "无法读取"),
        (zipped({"xl/workbook.xml": b"not xml"}), "not_xlsx", 400, "无法读取"),
    ],
)
def test_files_that_are_not_workbooks(data: bytes, code: str, status: int, words: str) -> None:
    with pytest.raises(DomainError) as caught:
        spreadsheet.read_rows(data, max_rows=10)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert words in caught.value.message


def test_a_workbook_too_large_once_unpacked(monkeypatch: pytest.MonkeyPatch) -> None:
    data = spreadsheet.workbook(["a"], [["x"]])
    monkeypatch.setattr(spreadsheet, "MAX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(DomainError) as caught:
        spreadsheet.read_rows(data, max_rows=10)
    assert (caught.value.code, caught.value.status) == ("too_large", 413)
