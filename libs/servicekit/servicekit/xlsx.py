"""Checks on an uploaded .xlsx container before openpyxl reads it (pure Python: only `zipfile`).

An .xlsx file is a zip package holding `xl/workbook.xml`. `check_xlsx_container` refuses, before any XML is
parsed, what openpyxl would choke on or what should not be unpacked at all: an empty file, an old .xls or a
password-protected workbook (both OLE compound files), anything that is not a zip, a damaged zip, a zip that
is not a workbook (a .docx, say), and a package whose parts add up to more than a limit once unpacked (a zip
bomb dressed as a workbook). Each service maps the `XlsxProblem` to its own error code and status; the
`message` is a generic Chinese sentence it may use as it is.
"""

from __future__ import annotations

import io
import zipfile
from enum import StrEnum

DEFAULT_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and also a password-protected .xlsx

WORKBOOK_PART = "xl/workbook.xml"

# Characters that leave a cell blank: ASCII whitespace, the ideographic space, the no-break space.
BLANK_CHARACTERS = " \t\r\n\u3000\u00a0"


class XlsxProblem(StrEnum):
    EMPTY = "empty"  # no bytes at all
    OLD_OR_ENCRYPTED = "old_or_encrypted"  # an OLE file: .xls, or an .xlsx with an opening password
    NOT_XLSX = "not_xlsx"  # not a zip, or a zip without xl/workbook.xml
    UNREADABLE = "unreadable"  # starts like a zip but cannot be read as one
    TOO_LARGE = "too_large"  # more than the limit once unpacked


MESSAGES: dict[XlsxProblem, str] = {
    XlsxProblem.EMPTY: "上传的文件是空的，请选择填写好的 Excel 文件（.xlsx）",
    XlsxProblem.OLD_OR_ENCRYPTED: (
        "这是旧版 Excel（.xls）文件或设置了打开密码的文件：请在 Excel 中“另存为”.xlsx 格式"
        "（并取消密码）后重新上传"
    ),
    XlsxProblem.NOT_XLSX: "文件不是 Excel 工作簿（.xlsx）：请使用系统下载的模板填写后上传",
    XlsxProblem.UNREADABLE: (
        "无法读取该 Excel 文件（文件已损坏或不是 .xlsx 格式），请在 Excel 中重新保存为 .xlsx 后上传"
    ),
    XlsxProblem.TOO_LARGE: "工作簿解压后过大，请只保留需要导入的工作表后重新上传",
}


class XlsxContainerError(ValueError):
    """An upload that is not a usable .xlsx package: `problem` for the caller, `message` in Chinese."""

    def __init__(self, problem: XlsxProblem, message: str | None = None) -> None:
        self.problem = problem
        self.message = MESSAGES[problem] if message is None else message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"XlsxContainerError({self.problem.value!r}, {self.message!r})"

    def __reduce__(self) -> tuple[type[XlsxContainerError], tuple[XlsxProblem, str]]:
        return (type(self), (self.problem, self.message))


def check_xlsx_container(
    data: bytes, *, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
) -> None:
    """Raise `XlsxContainerError` unless `data` is a readable zip package holding a workbook within the limit.

    Only the zip directory is read (names and declared sizes); nothing is unpacked.
    """
    if not data:
        raise XlsxContainerError(XlsxProblem.EMPTY)
    if data.startswith(OLE_MAGIC):
        raise XlsxContainerError(XlsxProblem.OLD_OR_ENCRYPTED)
    if not data.startswith(ZIP_MAGIC):
        raise XlsxContainerError(XlsxProblem.NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            total = sum(info.file_size for info in archive.infolist())
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
    ) as exc:  # damaged directories fail in all these
        raise XlsxContainerError(XlsxProblem.UNREADABLE) from exc
    if WORKBOOK_PART not in names:
        raise XlsxContainerError(XlsxProblem.NOT_XLSX)
    if total > max_uncompressed_bytes:
        raise XlsxContainerError(XlsxProblem.TOO_LARGE)


def is_blank(value: object) -> bool:
    """True for an empty cell: None, or a string of nothing but (ASCII, ideographic, no-break) spaces."""
    return value is None or (isinstance(value, str) and not value.strip(BLANK_CHARACTERS))
