"""Question bank sheets as .xlsx (openpyxl): reading an upload, and the downloadable template."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from servicekit.xlsx import XlsxContainerError, XlsxProblem, check_xlsx_container, is_blank

from ..domain.bank import ANSWER, COLUMNS, KIND, OPTIONS, POINTS, REQUIRED_COLUMNS, STEM, header_key

TEMPLATE_TITLE = "题库"
NOTES_TITLE = "说明"
TEMPLATE_ROWS = 2000  # rows 2..2001 carry the 题型 drop-down
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 3000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # a zip bomb dressed as a workbook stops here

KIND_CHOICES: tuple[str, ...] = ("单选", "多选", "判断")

NOTES: tuple[str, ...] = (
    "题库导入说明",
    "1. 在“题库”工作表中每行填写一道题，第 1 行为表头，请勿修改、删除或调换表头文字。",
    "2. 题型：从下拉列表中选择 单选、多选 或 判断。",
    "3. 题干：题目内容（必填，最多 500 字），同一题库中题干不能重复。",
    "4. 选项A～选项F：单选题、多选题至少填写 2 个、最多 6 个选项，须从选项A起依次填写，中间不能空缺；"
    "判断题的选项固定为“正确”“错误”，选项列请留空。",
    "5. 答案：单选题填写一个字母（如 B）；多选题填写至少两个字母（如 ABD）；判断题填写“正确”或“错误”"
    "（也可写 对/错、√/×）。",
    "6. 分值：选填，1～100 的整数；组卷时以系统配置的组卷规则（各题型题量与每题分值）为准。",
    "7. 任何一行有错误时整个题库都不会导入：请按系统提示的行、列和问题改正后重新导入。",
    "",
    "示例（请在“题库”工作表中填写，不要在本页填写）：",
)
EXAMPLES: tuple[tuple[str, ...], ...] = (
    (KIND, STEM, OPTIONS[0], OPTIONS[1], OPTIONS[2], OPTIONS[3], ANSWER, POINTS),
    ("单选", "施工现场临时用电应采用的接零保护系统是（　）。", "TN-S", "TN-C", "TT", "IT", "A", "2"),
    (
        "多选",
        "“三宝”是指（　）。",
        "安全帽",
        "安全带",
        "安全网",
        "绝缘手套",
        "ABC",
        "3",
    ),
    ("判断", "特种作业人员须持证上岗。", "", "", "", "", "正确", "2"),
)

REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
OPTIONAL_FILL = PatternFill("solid", fgColor="E7E6E6")
HEADER_FONT = Font(bold=True)
COLUMN_WIDTHS = {KIND: 10, STEM: 60, ANSWER: 10, POINTS: 8}

NOT_XLSX = "文件不是 Excel 工作簿（.xlsx）：请使用系统下载的题库模板填写后上传"
NOT_READABLE = "无法读取该 Excel 文件（文件已损坏或不是 .xlsx 格式），请在 Excel 中重新保存为 .xlsx 后上传"


class BankSheetError(ValueError):
    """An upload that cannot be read as a bank sheet; `code` for the API, `message` in Chinese."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class BankSheet:
    header: list[object]
    header_row: int
    rows: list[tuple[object, ...]]  # the rows below the header, blank ones included


def _check_container(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise BankSheetError(
            "bank_file_too_large", f"题库文件过大，不能超过 {max_bytes / 1048576:g} MB", status=413
        )
    try:
        check_xlsx_container(data, max_uncompressed_bytes=MAX_UNCOMPRESSED_BYTES)
    except XlsxContainerError as exc:
        match exc.problem:
            case XlsxProblem.EMPTY:
                raise BankSheetError(
                    "bank_file_empty", "上传的文件是空的，请选择填写好的题库文件（.xlsx）"
                ) from exc
            case XlsxProblem.OLD_OR_ENCRYPTED:
                raise BankSheetError("bank_file_not_xlsx", exc.message) from exc
            case XlsxProblem.UNREADABLE:
                raise BankSheetError("bank_file_not_xlsx", NOT_READABLE) from exc
            case XlsxProblem.TOO_LARGE:
                raise BankSheetError(
                    "bank_file_too_large", "工作簿解压后过大，请只保留题库工作表后重新上传", status=413
                ) from exc
            case _:  # NOT_XLSX
                raise BankSheetError("bank_file_not_xlsx", NOT_XLSX) from exc


def _is_header(cells: Sequence[object]) -> bool:
    keys = {header_key(c) for c in cells if not is_blank(c)}
    return len(keys & set(COLUMNS)) >= 2


def read_bank_sheet(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = DEFAULT_MAX_ROWS
) -> BankSheet:
    """The header and the rows of the first worksheet.

    The header is the first row naming at least two of the bank's columns (a title row above it is
    skipped); if there is none, the first non-empty row is taken, so that the missing columns are reported
    precisely. Raises `BankSheetError` for a file that is not a readable .xlsx, a sheet without rows, or more
    than `max_rows` non-empty data rows.
    """
    _check_container(data, max_bytes)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign package
        raise BankSheetError("bank_file_not_xlsx", NOT_READABLE) from exc
    try:
        if not workbook.worksheets:
            raise BankSheetError("bank_sheet_empty", "工作簿中没有工作表，请使用系统下载的题库模板填写")
        sheet = workbook.worksheets[0]
        reset = getattr(sheet, "reset_dimensions", None)
        if reset is not None:  # the dimension tag of some generators is wrong: read every row
            reset()
        first: tuple[int, list[object]] | None = None
        header: tuple[int, list[object]] | None = None
        rows: list[tuple[object, ...]] = []
        filled = 0
        for number, raw in enumerate(sheet.iter_rows(values_only=True), start=1):
            row = tuple(raw)
            blank = all(is_blank(v) for v in row)
            if header is None:
                if blank:
                    continue
                cells = list(row)
                while cells and is_blank(cells[-1]):
                    cells.pop()
                if first is None:
                    first = (number, cells)
                if _is_header(cells):
                    header = (number, cells)
                elif number - first[0] >= 5:  # no header in the first rows: report on the first one
                    break
                continue
            if not blank:
                filled += 1
                if filled > max_rows:
                    raise BankSheetError(
                        "bank_too_many_questions",
                        f"表格超过 {max_rows} 行数据：一个题库最多 {max_rows} 道题，请分成多个题库导入",
                    )
            rows.append(row)
    except BankSheetError:
        raise
    except Exception as exc:
        raise BankSheetError("bank_file_not_xlsx", NOT_READABLE) from exc
    finally:
        workbook.close()
    if first is None:
        raise BankSheetError(
            "bank_sheet_empty", "表格是空的：第一个工作表中没有表头和题目，请使用系统下载的题库模板填写"
        )
    if header is None:
        return BankSheet(header=first[1], header_row=first[0], rows=[])
    while rows and all(is_blank(v) for v in rows[-1]):
        rows.pop()
    return BankSheet(header=header[1], header_row=header[0], rows=rows)


def _header_cells(sheet: Worksheet, titles: Sequence[str], required: Sequence[str]) -> None:
    for index, title in enumerate(titles, start=1):
        cell = sheet.cell(row=1, column=index, value=title)
        cell.fill = REQUIRED_FILL if title in required else OPTIONAL_FILL
        cell.font = HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center")


def bank_template() -> bytes:
    """The downloadable bank template (.xlsx): the header, a 题型 drop-down and a 说明 sheet with examples."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = TEMPLATE_TITLE
    workbook.properties.title = "题库导入模板"
    _header_cells(sheet, COLUMNS, REQUIRED_COLUMNS)
    last = TEMPLATE_ROWS + 1
    for index, title in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = COLUMN_WIDTHS.get(title, 18)
        if title == ANSWER:  # "正确", "ABD": never let Excel turn an answer into a number or date
            for row in range(2, last + 1):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    letter = get_column_letter(COLUMNS.index(KIND) + 1)
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(KIND_CHOICES) + '"',
        allow_blank=True,
        showDropDown=False,  # (sic) False shows the in-cell arrow
        showErrorMessage=True,
        errorTitle="题型不正确",
        error="请从下拉列表中选择题型：" + "、".join(KIND_CHOICES),
        showInputMessage=True,
        promptTitle=KIND,
        prompt="请从下拉列表中选择：单选、多选、判断",
    )
    validation.add(f"{letter}2:{letter}{last}")
    sheet.add_data_validation(validation)

    notes = workbook.create_sheet(NOTES_TITLE)
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 50
    for row, text in enumerate(NOTES, start=1):
        cell = notes.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(vertical="top")
        if row == 1:
            cell.font = HEADER_FONT
    start = len(NOTES) + 1
    for offset, example in enumerate(EXAMPLES):
        for column, text in enumerate(example, start=1):
            cell = notes.cell(row=start + offset, column=column, value=text)
            cell.data_type = "s"
            if offset == 0:
                cell.font = HEADER_FONT
                cell.fill = OPTIONAL_FILL

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
