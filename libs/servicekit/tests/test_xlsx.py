"""servicekit.xlsx: the container checks shared by every .xlsx upload, and `is_blank`."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import Workbook, load_workbook
from servicekit.xlsx import (
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    MESSAGES,
    XlsxContainerError,
    XlsxProblem,
    check_xlsx_container,
    is_blank,
)


def openpyxl_workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号"])
    sheet.append(["张三", "330106199005170019"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def unpacked_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def problem(data: bytes, **limits: int) -> XlsxProblem:
    with pytest.raises(XlsxContainerError) as caught:
        check_xlsx_container(data, **limits)
    error = caught.value
    assert error.message == MESSAGES[error.problem] and str(error) == error.message
    return error.problem


def test_a_workbook_written_by_openpyxl_passes_and_still_opens() -> None:
    data = openpyxl_workbook()
    check_xlsx_container(data)
    check_xlsx_container(data, max_uncompressed_bytes=unpacked_size(data))  # the limit itself is allowed
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.worksheets[0].cell(row=2, column=1).value == "张三"
    book.close()


def test_a_minimal_hand_made_package_passes() -> None:
    check_xlsx_container(zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}))


def test_an_empty_file() -> None:
    assert problem(b"") is XlsxProblem.EMPTY


@pytest.mark.parametrize("tail", [b"", b"\0" * 512, b"\x00\x01 anything after the OLE header"])
def test_an_old_xls_or_password_protected_workbook(tail: bytes) -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + tail
    assert problem(data) is XlsxProblem.OLD_OR_ENCRYPTED
    assert (
        ".xls" in MESSAGES[XlsxProblem.OLD_OR_ENCRYPTED] and "密码" in MESSAGES[XlsxProblem.OLD_OR_ENCRYPTED]
    )


@pytest.mark.parametrize(
    "data",
    [
        b"PK",  # too short to be a zip's first header
        b" ",
        "姓名,性别,身份证号\n张三,男,1\n".encode(),
        b"%PDF-1.7\n",
        b"<html></html>",
        b"\xd0\xcf\x11\xe0",  # half an OLE signature is not one
    ],
)
def test_what_is_not_a_zip(data: bytes) -> None:
    assert problem(data) is XlsxProblem.NOT_XLSX


def test_a_zip_that_is_not_a_workbook() -> None:
    docx = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    assert problem(docx) is XlsxProblem.NOT_XLSX
    assert problem(zipped({"xl/workbook.xml.bak": b"<workbook/>"})) is XlsxProblem.NOT_XLSX


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"PK\x03\x04 broken",
        lambda data: data[: len(data) // 2],  # truncated: the central directory is gone
        lambda data: data[:-22] + b"PK\x05\x06" + b"\xff" * 18,  # a nonsense end-of-directory record
    ],
)
def test_a_zip_that_cannot_be_read(damage: Callable[[bytes], bytes]) -> None:
    assert problem(damage(openpyxl_workbook())) is XlsxProblem.UNREADABLE


def test_a_zip_bomb_is_refused_without_unpacking_it() -> None:
    bomb = zipped({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * (8 * 1024 * 1024)})
    assert len(bomb) < 64 * 1024  # small on the wire, big once unpacked
    assert problem(bomb, max_uncompressed_bytes=4 * 1024 * 1024) is XlsxProblem.TOO_LARGE
    check_xlsx_container(bomb)  # under the default limit


def test_the_limit_counts_every_part() -> None:
    data = openpyxl_workbook()
    assert problem(data, max_uncompressed_bytes=unpacked_size(data) - 1) is XlsxProblem.TOO_LARGE
    assert DEFAULT_MAX_UNCOMPRESSED_BYTES == 100 * 1024 * 1024


def test_every_problem_has_a_chinese_message() -> None:
    assert set(MESSAGES) == set(XlsxProblem)
    for message in MESSAGES.values():
        assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_the_error_carries_the_problem_and_survives_pickling() -> None:
    error = XlsxContainerError(XlsxProblem.TOO_LARGE)
    assert issubclass(XlsxContainerError, ValueError) and error.problem is XlsxProblem.TOO_LARGE
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.problem, copy.message) == (error.problem, error.message)
    custom = XlsxContainerError(XlsxProblem.NOT_XLSX, "自定义说明")
    assert custom.message == "自定义说明" and str(custom) == "自定义说明"
    assert XlsxProblem.OLD_OR_ENCRYPTED == "old_or_encrypted"  # a StrEnum: usable as a plain string


@pytest.mark.parametrize("value", [None, "", " ", "\t\r\n", "\u3000", "\u00a0", " \u3000\u00a0 "])
def test_blank_cells(value: object) -> None:
    assert is_blank(value)


@pytest.mark.parametrize("value", ["0", "张三", " x ", "\u3000李\u3000", 0, 0.0, False, b"", []])
def test_cells_that_are_not_blank(value: object) -> None:
    assert not is_blank(value)
