"""The .xlsx files of the certification service (openpyxl): reading an upload, the downloadable templates."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from servicekit.errors import DomainError
from servicekit.xlsx import XlsxContainerError, XlsxProblem, check_xlsx_container

from ..domain import sheets

MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
_HEADER_FILL = PatternFill("solid", fgColor="FFF2CC")


def read_rows(data: bytes, max_rows: int) -> tuple[list[object], list[tuple[object, ...]]]:
    """The first row of the first worksheet (the header) and the rows below it (blank rows kept)."""
    try:
        check_xlsx_container(data, max_uncompressed_bytes=MAX_UNCOMPRESSED_BYTES)
    except XlsxContainerError as exc:
        match exc.problem:
            case XlsxProblem.EMPTY:
                raise DomainError(exc.message, code="empty_file", status=400) from exc
            case XlsxProblem.OLD_OR_ENCRYPTED:
                raise DomainError(exc.message, code="xls_not_supported", status=400) from exc
            case XlsxProblem.TOO_LARGE:
                raise DomainError(exc.message, code="too_large", status=413) from exc
            case _:  # NOT_XLSX, UNREADABLE
                raise DomainError(exc.message, code="not_xlsx", status=400) from exc
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise DomainError(
            "无法读取该 Excel 文件，请重新保存为 .xlsx 后上传", code="not_xlsx", status=400
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        iterator = sheet.iter_rows(values_only=True)
        header = list(next(iterator, ()))
        rows: list[tuple[object, ...]] = []
        for row in iterator:
            rows.append(tuple(row))
            if len(rows) > max_rows and any(c is not None for c in row):
                raise DomainError(
                    f"表格行数超过上限 {max_rows} 行，请分批导入", code="too_many_rows", status=413
                )
    finally:
        workbook.close()
    while rows and all(c is None or str(c).strip() == "" for c in rows[-1]):
        rows.pop()
    return header, rows


def _template(
    title: str, columns: Sequence[str], example: Sequence[object], lists: dict[str, Sequence[str]]
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(columns))
    for i, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[get_column_letter(i)].width = 22
        letter = get_column_letter(i)
        for row in range(2, 1002):
            sheet[
                f"{letter}{row}"
            ].number_format = "@"  # text: ID numbers and certificate numbers keep digits
        if name in lists:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(lists[name]) + '"', allow_blank=True
            )
            validation.add(f"{letter}2:{letter}1001")
            sheet.add_data_validation(validation)
    for i, value in enumerate(example, start=1):
        sheet.cell(row=2, column=i, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def hours_template() -> bytes:
    return _template(
        "继续教育学时登记表",
        sheets.HOURS_COLUMNS,
        ["(示例，导入前请删除本行)", "330106199005170019", "2026-03-01", "4", "专业科目", "施工技术新规范"],
        {sheets.KIND: ("专业科目", "公共科目")},
    )


def legacy_template() -> bytes:
    return _template(
        "旧版岗位证书导入表",
        sheets.LEGACY_COLUMNS,
        [
            "(示例，导入前请删除本行)",
            "张三",
            "男",
            "330106199005170019",
            "施工员",
            "2016-05-20",
            "土建施工",
            "浙江省建设厅",
        ],
        {sheets.GENDER: ("男", "女")},
    )


def workbook(header: Sequence[object], rows: Sequence[Sequence[object]]) -> bytes:
    """A workbook with the given rows (used by tests and by administrators' scripts)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
