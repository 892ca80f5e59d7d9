"""The summary sheet as .xlsx (openpyxl): reading an upload, the downloadable template, the problem report."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from servicekit.xlsx import XlsxContainerError, XlsxProblem, check_xlsx_container, is_blank

from ..domain.reference import EDUCATION_LEVELS, EDUCATION_SYNONYMS, GENDERS
from ..domain.sheet import (
    EDUCATION,
    EMPLOYER,
    GENDER,
    GRADUATED_ON,
    ID_NUMBER,
    MAJOR,
    MOBILE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    YEARS_IN_POST,
    RowProblem,
    SheetHeader,
)

TEMPLATE_TITLE = "报名人员信息汇总表"
NOTES_TITLE = "填写说明"
TEMPLATE_ROWS = 1000  # rows 2..1001 carry the text format and the drop-down lists
DEFAULT_MAX_ROWS = 10000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # a zip bomb dressed as a workbook stops here

SEED_INSTRUCTIONS = (
    "模板内容皆为必填，身份证号不可以是这种‘1.10101E+17’格式，性别、学历信息请从列表中选择，"
    "‘工作单位’填写工作单位的全称，请按要求填写"
)
NOTES: tuple[str, ...] = (
    SEED_INSTRUCTIONS,
    "1. 黄色表头为必填列：" + "、".join(REQUIRED_COLUMNS) + "；"
    "灰色表头为选填列：" + "、".join(OPTIONAL_COLUMNS) + "。",
    "2. 请勿修改、删除或调换表头文字；每位学员填写一行，同一身份证号只能出现一次。",
    "3. 身份证号：18 位居民身份证号，该列已设为文本格式，请直接输入或以“选择性粘贴—数值”粘贴；"
    "若显示为 1.10101E+17 之类，说明已被存成数字、末几位已丢失，请把该列设为文本后重新填写。",
    "4. 性别：从下拉列表中选择（" + "、".join(GENDERS) + "），须与身份证号一致；"
    "报名年龄为男 18–60 周岁、女 18–55 周岁（按身份证号计算）。",
    "5. 手机号：11 位手机号码。",
    "6. 学历：从下拉列表中选择（"
    + "、".join(EDUCATION_LEVELS)
    + "）；填写同义的"
    + "、".join(EDUCATION_SYNONYMS)
    + "也可，导入时按对应学历保存（如大专保存为专科）；初中、小学等不在列表中的学历不能报名。",
    "7. 工作单位：填写本企业在报名系统中注册的全称（与营业执照一致），不能填写简称或其他单位；"
    "空格和全角、半角括号不影响核对。",
    "8. 所学专业、毕业时间、岗位工作年限为选填：毕业时间填写如 2015-06-30 或 2015.06，"
    "岗位工作年限填写整数年数（如 3）。",
    "9. 任何一行有错误时整张表都不会导入：请按系统提示的行、列和问题改正后重新导入。",
)

REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
OPTIONAL_FILL = PatternFill("solid", fgColor="E7E6E6")
HEADER_FONT = Font(bold=True)
COLUMN_WIDTHS = {ID_NUMBER: 24, MOBILE: 16, EMPLOYER: 36, MAJOR: 20, GRADUATED_ON: 14, YEARS_IN_POST: 14}
TEXT_COLUMNS = (ID_NUMBER, MOBILE)

NOT_XLSX = "文件不是 Excel 工作簿（.xlsx）：请使用系统下载的报名人员信息汇总表模板填写后上传"
NOT_READABLE = "无法读取该 Excel 文件（文件已损坏或不是 .xlsx 格式），请在 Excel 中重新保存为 .xlsx 后上传"


class SpreadsheetError(ValueError):
    """An upload that cannot be read as a summary sheet; `code` for the API, `message` in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _check_container(data: bytes) -> None:
    try:
        check_xlsx_container(data, max_uncompressed_bytes=MAX_UNCOMPRESSED_BYTES)
    except XlsxContainerError as exc:
        match exc.problem:
            case XlsxProblem.OLD_OR_ENCRYPTED:
                raise SpreadsheetError("xls_not_supported", exc.message) from exc
            case XlsxProblem.UNREADABLE:
                raise SpreadsheetError("not_xlsx", NOT_READABLE) from exc
            case XlsxProblem.TOO_LARGE:
                raise SpreadsheetError(
                    "too_large", "工作簿解压后过大，请只保留报名人员信息汇总表后重新上传"
                ) from exc
            case _:  # EMPTY, NOT_XLSX
                raise SpreadsheetError("not_xlsx", NOT_XLSX) from exc


def _header(row: Sequence[object], number: int) -> SheetHeader:
    cells = list(row)
    while cells and is_blank(cells[-1]):
        cells.pop()
    return SheetHeader(cells, row=number)


# The longest text a cell of the summary sheet may hold (characters): a name, an ID number, anything else.
MAX_CELL_CHARS = 200
_CELL_LIMITS = (("姓名", 50), ("身份证", 30))


def cell_limit(title: str) -> int:
    return next((limit for word, limit in _CELL_LIMITS if word in title), MAX_CELL_CHARS)


def _check_cell_lengths(row: Sequence[object], titles: Sequence[str], number: int) -> None:
    """Refuses the sheet at the first over-long text cell, naming its row, column and the limit."""
    for column, value in enumerate(row):
        if not isinstance(value, str):
            continue
        title = titles[column] if column < len(titles) and titles[column] else get_column_letter(column + 1)
        limit = cell_limit(title)
        if len(value) > limit:
            raise SpreadsheetError(
                "cell_too_long",
                f"第 {number} 行“{title}”列内容过长（{len(value):,} 个字符，最多 {limit} 个），"
                "请修改后重新上传",
            )


def read_sheet(
    data: bytes, max_rows: int = DEFAULT_MAX_ROWS
) -> tuple[list[object], Iterator[tuple[object, ...]]]:
    """The header (first non-empty row of the first worksheet) and an iterator over the rows below it.

    The header is a `SheetHeader` carrying its row number. Rows come as tuples of cell values, blank rows
    included (so that row numbers match Excel's). The iterator raises `SpreadsheetError("too_many_rows")`
    on the first non-empty row beyond `max_rows`, and closes the workbook when it ends (or is closed).
    """
    _check_container(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign package
        raise SpreadsheetError("not_xlsx", NOT_READABLE) from exc
    try:
        if not workbook.worksheets:
            raise SpreadsheetError("empty", "工作簿中没有工作表，请使用系统下载的模板填写")
        sheet = workbook.worksheets[0]
        # The dimension tag of some generators is wrong: read every row the file holds.
        reset = getattr(sheet, "reset_dimensions", None)
        if reset is not None:
            reset()
        rows = sheet.iter_rows(values_only=True)
        header: SheetHeader | None = None
        # Rows read after a provisional header: given back to the caller if that header stands.
        buffered: list[tuple[object, ...]] = []
        for number, row in enumerate(rows, start=1):
            filled = sum(not is_blank(value) for value in row)
            if header is not None:
                buffered.append(tuple(row))
                if filled == 0:
                    continue
                if filled >= 2:  # the single cell above was a title: this is the header
                    buffered.clear()
                    header = _header(row, number)
                break  # else the single-cell row above was the header after all
            if filled == 0:
                continue
            header = _header(row, number)
            if filled >= 2:
                break
            # One filled cell: a title such as "报名人员信息汇总表" above the header (附件4 as printed)?
    except SpreadsheetError:
        workbook.close()
        raise
    except Exception as exc:
        workbook.close()
        raise SpreadsheetError("not_xlsx", NOT_READABLE) from exc
    if header is None:
        workbook.close()
        raise SpreadsheetError("empty", "表格是空的：第一个工作表中没有表头和数据，请使用系统下载的模板填写")

    header_titles = [str(cell or "").strip() for cell in header]
    header_row = int(getattr(header, "row", 1))

    def data_rows() -> Iterator[tuple[object, ...]]:
        filled = 0
        try:
            for index, row in enumerate(itertools.chain(buffered, rows), start=1):
                if not all(is_blank(value) for value in row):
                    filled += 1
                    if filled > max_rows:
                        raise SpreadsheetError(
                            "too_many_rows", f"表格超过 {max_rows} 行数据，请分成多个表格分批导入"
                        )
                    _check_cell_lengths(row, header_titles, header_row + index)
                yield tuple(row)
        finally:
            workbook.close()

    return header, data_rows()


def _header_cells(sheet: Worksheet, titles: Sequence[str], fills: Sequence[PatternFill]) -> None:
    for index, (title, fill) in enumerate(zip(titles, fills, strict=True), start=1):
        cell = sheet.cell(row=1, column=index, value=title)
        cell.fill = fill
        cell.font = HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center")


def summary_template() -> bytes:
    """The downloadable 报名人员信息汇总表 (.xlsx): header, text ID column, drop-down lists, notes."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = TEMPLATE_TITLE
    workbook.properties.title = TEMPLATE_TITLE
    titles = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    fills = (REQUIRED_FILL,) * len(REQUIRED_COLUMNS) + (OPTIONAL_FILL,) * len(OPTIONAL_COLUMNS)
    _header_cells(sheet, titles, fills)
    last = TEMPLATE_ROWS + 1
    for index, title in enumerate(titles, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = COLUMN_WIDTHS.get(title, 12)
        if title in TEXT_COLUMNS:
            for row in range(2, last + 1):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    def drop_down(title: str, values: Sequence[str]) -> None:
        letter = get_column_letter(titles.index(title) + 1)
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(values) + '"',
            allow_blank=True,
            showDropDown=False,  # (sic) False shows the in-cell arrow
            showErrorMessage=True,
            errorTitle=f"{title}不正确",
            error=f"请从下拉列表中选择{title}：" + "、".join(values),
            showInputMessage=True,
            promptTitle=title,
            prompt="请从下拉列表中选择",
        )
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)

    drop_down(GENDER, GENDERS)
    drop_down(EDUCATION, tuple(EDUCATION_LEVELS))

    notes = workbook.create_sheet(NOTES_TITLE)
    notes.column_dimensions["A"].width = 120
    for row, text in enumerate(NOTES, start=1):
        cell = notes.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row == 1:
            cell.font = HEADER_FONT

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems_workbook(problems: Sequence[RowProblem]) -> bytes:
    """The import's problem report (.xlsx) with columns 行, 列, 值, 问题, one problem a row."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "导入问题"
    _header_cells(sheet, ("行", "列", "值", "问题"), (REQUIRED_FILL,) * 4)
    for letter, width in zip("ABCD", (8, 14, 24, 90), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    for row, found in enumerate(problems, start=2):
        sheet.cell(row=row, column=1, value=found.row)
        for column, text in ((2, found.column), (3, found.value), (4, found.message)):
            cell = sheet.cell(row=row, column=column, value=text)
            # Values come from the upload: never let one become a formula, nor a number that loses digits.
            cell.data_type = "s"
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
