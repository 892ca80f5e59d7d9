"""The summary sheet as .xlsx: reading uploads (built here with openpyxl), the template, the report."""

from __future__ import annotations

import io
import os
import random
import zipfile
from collections.abc import Generator, Sequence
from datetime import date, datetime

import pytest
from enrollment.adapters.spreadsheet import (
    NOTES_TITLE,
    SEED_INSTRUCTIONS,
    TEMPLATE_TITLE,
    SpreadsheetError,
    problems_workbook,
    read_sheet,
    summary_template,
)
from enrollment.domain.identity import id_check_character
from enrollment.domain.reference import EDUCATION_LEVELS, GENDERS
from enrollment.domain.sheet import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    RowProblem,
    SheetResult,
    SheetRules,
    validate_sheet,
)
from openpyxl import Workbook, load_workbook

TODAY = date(2025, 6, 1)
RULES = SheetRules(today=TODAY)
HEADER = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]


def make_id(birth: str = "19900115", sequence: str = "123") -> str:
    first17 = "330106" + birth + sequence
    return first17 + id_check_character(first17)


def person(n: int, **values: object) -> list[object]:
    cells: dict[str, object] = {
        "姓名": f"学员{n}",
        "性别": "男",
        "身份证号": make_id(sequence=f"{n % 100:02d}1"),
        "手机号": f"138{n:08d}",
        "学历": "大专",
        "工作单位": "浙江某某建设有限公司",
        "所学专业": "建筑工程技术",
        "毕业时间": "2010-07",
        "岗位工作年限": 5,
        **values,
    }
    return [cells[title] for title in HEADER]


def xlsx(rows: Sequence[Sequence[object]], *, text_ids: bool = True, title: str | None = None) -> bytes:
    """An upload as Excel would save it: rows written from row 1 (or below a title row)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if title is not None:
        sheet.append([title])
        sheet.append([])
    for values in rows:
        sheet.append(list(values))
    if text_ids:
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def patch_sheet(data: bytes, old: bytes, new: bytes) -> bytes:
    """The workbook with `old` replaced by `new` in the first worksheet's XML."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in content
                content = content.replace(old, new)
            archive.writestr(info, content)
    return buffer.getvalue()


def import_sheet(data: bytes) -> SheetResult:
    header, rows = read_sheet(data)
    return validate_sheet(header, rows, RULES)


def summary(result: SheetResult) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in result.problems]


# --- reading uploads ---


def test_read_a_valid_sheet() -> None:
    data = xlsx([HEADER, person(1), person(2)])
    header, rows = read_sheet(data)
    assert header == HEADER
    assert getattr(header, "row", None) == 1
    assert [list(r) for r in rows] == [person(1), person(2)]
    result = validate_sheet(*read_sheet(data), RULES)
    assert result.problems == [] and result.rows_read == 2


def test_excel_numbers_in_the_id_column() -> None:
    """Excel stores what it shows as 1.10101E+17 as a double: read as int (exact digits) or float."""
    exact = make_id(sequence="011")
    rows = [
        HEADER,
        person(1, 身份证号=7.25),  # replaced below by the exact digits, as WPS or pandas write them
        person(2, 身份证号=float(make_id(sequence="021"))),
        person(3, 身份证号="1.10101E+17"),
        person(4),
    ]
    result = import_sheet(patch_sheet(xlsx(rows), b"<v>7.25</v>", f"<v>{exact}</v>".encode()))
    assert summary(result) == [
        (2, "身份证号", "id_as_number"),
        (3, "身份证号", "id_scientific_notation"),
        (4, "身份证号", "id_scientific_notation"),
    ]
    assert "身份证号被存成了数字" in result.problems[0].message
    assert "身份证号不可以是这种‘1.10101E+17’格式" in result.problems[1].message
    assert result.problems[0].value == exact
    assert result.problems[1].value == "3.30106E+17"
    assert result.problems[2].value == "1.10101E+17"
    assert len(result.records) == 1


def test_numbers_and_dates_where_they_are_fine() -> None:
    rows = [HEADER, person(1, 手机号=13800001111, 毕业时间=datetime(2011, 6, 30), 岗位工作年限=4.0)]
    result = import_sheet(xlsx(rows))
    assert result.problems == []
    record = result.records[0]
    assert (record.mobile, record.graduated_on, record.years_in_post) == ("13800001111", date(2011, 6, 30), 4)


def test_row_numbers_with_blank_rows_and_a_title_row() -> None:
    rows = [HEADER, person(1), [], [], person(2, 手机号="1"), [None, None], person(3, 学历="大学"), [], []]
    result = import_sheet(xlsx(rows, title="报名人员信息汇总表"))
    # title (1), blank (2), header (3), data from row 4
    assert summary(result) == [(7, "手机号", "invalid_mobile"), (9, "学历", "invalid_choice")]
    assert result.rows_read == 3


def test_header_lower_without_a_title() -> None:
    result = import_sheet(xlsx([[], [], HEADER, person(1, 性别="女")]))
    assert summary(result) == [(4, "性别", "gender_mismatch")]


def test_single_column_sheet_keeps_its_first_data_row() -> None:
    header, rows = read_sheet(xlsx([["姓名"], ["张三"], [], ["李四"]]))
    assert header == ["姓名"] and getattr(header, "row", None) == 1
    assert [r[:1] for r in rows] == [("张三",), (), ("李四",)]


def test_misspelt_header_in_a_file() -> None:
    header = ["姓名", "性别", "身份正号", "手机号", "学历", "工作单位"]
    result = import_sheet(xlsx([header, person(1)[:6]]))
    assert summary(result) == [(1, "身份证号", "misspelt_column")]
    assert "表头“身份正号”应为“身份证号”" in result.problems[0].message


def test_too_many_rows() -> None:
    data = xlsx([HEADER, *(person(n) for n in range(3)), [], [None, " "], *(person(n) for n in range(3, 5))])
    header, rows = read_sheet(data, max_rows=5)
    assert header == HEADER
    assert len(list(rows)) == 7  # blank rows do not count
    _, rows = read_sheet(data, max_rows=4)
    with pytest.raises(SpreadsheetError) as caught:
        list(rows)
    assert caught.value.code == "too_many_rows" and "4 行" in caught.value.message


def test_the_iterator_can_be_abandoned() -> None:
    _, rows = read_sheet(xlsx([HEADER, person(1), person(2)]))
    next(rows)
    assert isinstance(rows, Generator)
    rows.close()  # closing the generator closes the workbook


# --- refused files ---


def refused(data: bytes) -> SpreadsheetError:
    with pytest.raises(SpreadsheetError) as caught:
        _, rows = read_sheet(data)
        list(rows)
    assert caught.value.message and caught.value.message == str(caught.value)
    return caught.value


def test_spreadsheet_error_is_a_value_error() -> None:
    assert issubclass(SpreadsheetError, ValueError)


def test_old_xls_is_refused() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + os.urandom(1024)
    error = refused(ole)
    assert error.code == "xls_not_supported" and "另存为" in error.message and ".xlsx" in error.message


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(seed: int) -> None:
    data = random.Random(seed).randbytes(2048)
    assert refused(data).code == "not_xlsx"


@pytest.mark.parametrize(
    "data",
    [b"", b"PK", "姓名,性别,身份证号\n张三,男,1\n".encode(), b"%PDF-1.7\n", b"<html></html>"],
)
def test_other_files_are_refused(data: bytes) -> None:
    assert refused(data).code == "not_xlsx"


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    assert refused(buffer.getvalue()).code == "not_xlsx"


def test_a_truncated_workbook() -> None:
    data = xlsx([HEADER, person(1)])
    assert refused(data[: len(data) // 2]).code == "not_xlsx"


def test_a_damaged_workbook_part() -> None:
    source = zipfile.ZipFile(io.BytesIO(xlsx([HEADER, person(1)])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            archive.writestr(info, b"<not xml" if info.filename == "xl/workbook.xml" else content)
    assert refused(buffer.getvalue()).code == "not_xlsx"


def test_a_workbook_too_large_once_unpacked(monkeypatch: pytest.MonkeyPatch) -> None:
    import enrollment.adapters.spreadsheet as module

    monkeypatch.setattr(module, "MAX_UNCOMPRESSED_BYTES", 1000)
    assert refused(xlsx([HEADER, person(1)])).code == "too_large"


def test_an_empty_workbook() -> None:
    error = refused(xlsx([]))
    assert error.code == "empty" and "表头" in error.message


def test_a_workbook_of_blank_rows() -> None:
    assert refused(xlsx([[None, None], [], ["", " "]])).code == "empty"


# --- the template ---


def test_template_round_trip() -> None:
    template = summary_template()
    header, rows = read_sheet(template)
    assert header == HEADER
    assert getattr(header, "row", None) == 1
    result = validate_sheet(header, rows, RULES)
    assert result.problems == [] and result.rows_read == 0 and result.records == []


def test_template_layout() -> None:
    workbook = load_workbook(io.BytesIO(summary_template()))
    sheet = workbook.worksheets[0]
    assert sheet.title == TEMPLATE_TITLE
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet.freeze_panes == "A2"
    fills = [c.fill.fgColor.rgb for c in sheet[1]]
    required = set(fills[: len(REQUIRED_COLUMNS)])
    optional = set(fills[len(REQUIRED_COLUMNS) :])
    assert len(required) == 1 and required.isdisjoint(optional)
    assert all(c.font.bold for c in sheet[1])
    for index in range(1, len(HEADER) + 1):
        assert sheet.column_dimensions[chr(ord("A") + index - 1)].width


def test_template_id_column_is_text() -> None:
    sheet = load_workbook(io.BytesIO(summary_template())).worksheets[0]
    column = HEADER.index("身份证号") + 1
    assert all(sheet.cell(row=r, column=column).number_format == "@" for r in range(2, 1002))


def test_template_drop_down_lists() -> None:
    sheet = load_workbook(io.BytesIO(summary_template())).worksheets[0]
    lists = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    gender = lists["B2:B1001"]
    education = lists["E2:E1001"]
    assert gender.type == "list" and education.type == "list"
    assert gender.formula1 == '"' + ",".join(GENDERS) + '"'
    assert education.formula1 == '"' + ",".join(EDUCATION_LEVELS) + '"'
    assert education.formula1 == '"研究生,本科,专科,中职,高中"'  # the levels of 附件5, plus 高中
    assert gender.showErrorMessage and education.showErrorMessage
    assert len(education.formula1) <= 257  # Excel's limit for an inline list


def test_template_notes() -> None:
    workbook = load_workbook(io.BytesIO(summary_template()))
    notes = workbook[NOTES_TITLE]
    text = "\n".join(str(c.value) for c in notes["A"] if c.value)
    assert SEED_INSTRUCTIONS in text
    assert "模板内容皆为必填" in text and "身份证号不可以是这种‘1.10101E+17’格式" in text
    for column in HEADER:
        assert column in text
    assert "研究生、本科、专科、中职、高中" in text and "大专" in text
    assert "注册的全称" in text and "简称" in text


def test_a_filled_template_imports() -> None:
    workbook = load_workbook(io.BytesIO(summary_template()))
    sheet = workbook.worksheets[0]
    for n in range(1, 4):
        for column, value in enumerate(person(n), start=1):
            sheet.cell(row=n + 1, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_sheet(buffer.getvalue())
    assert result.problems == [] and [r.name for r in result.records] == ["学员1", "学员2", "学员3"]


# --- the problem report ---


def test_problems_workbook() -> None:
    problems = [
        RowProblem(1, "身份证号", "身份正号", "misspelt_column", "第 1 行 C 列表头“身份正号”应为“身份证号”"),
        RowProblem(5, "身份证号", "110101199001011234", "invalid_id_number", "第 5 行“身份证号”…"),
        RowProblem(6, "姓名", '=HYPERLINK("http://x","y")', "required", "第 6 行“姓名”为空"),
    ]
    workbook = load_workbook(io.BytesIO(problems_workbook(problems)))
    sheet = workbook.worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == ["行", "列", "值", "问题"]
    assert rows[1:] == [[p.row, p.column, p.value, p.message] for p in problems]
    assert sheet["C3"].data_type == "s"  # the ID stays text, all 18 digits
    assert sheet["C4"].data_type == "s"  # never a formula
    assert sheet.freeze_panes == "A2"


def test_problems_workbook_of_a_real_import() -> None:
    data = xlsx([HEADER, person(1, 手机号="1"), person(2, 身份证号=int(make_id()))])
    result = import_sheet(data)
    report = load_workbook(io.BytesIO(problems_workbook(result.problems))).worksheets[0]
    assert [c.value for c in report["A"]][1:] == [2, 3]
    assert [c.value for c in report["B"]][1:] == ["手机号", "身份证号"]


def test_problems_workbook_empty() -> None:
    sheet = load_workbook(io.BytesIO(problems_workbook([]))).worksheets[0]
    assert [[c.value for c in r] for r in sheet.iter_rows()] == [["行", "列", "值", "问题"]]


def test_many_rows_through_the_file_with_progress() -> None:
    rows = [HEADER]
    for n in range(1200):
        birth = f"{1975 + n % 25}{1 + n % 12:02d}{1 + n % 28:02d}"
        rows.append(
            person(n, 身份证号=make_id(birth=birth, sequence=f"{(n // 300) % 100:02d}{(n % 5) * 2 + 1}"))
        )
    seen: list[int] = []
    header, data_rows = read_sheet(xlsx(rows, text_ids=False))
    result = validate_sheet(header, data_rows, RULES, progress=seen.append)
    assert result.problems == [] and len(result.records) == 1200
    assert seen == [500, 1000, 1200]
