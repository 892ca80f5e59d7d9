"""Summary-sheet validation (附件4): header rules, every row problem, all problems at once, row numbers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import date, datetime

import pytest
from enrollment.domain import sheet as sheet_module
from enrollment.domain.identity import id_check_character, id_number_problem
from enrollment.domain.reference import EDUCATION_LEVELS, GENDERS
from enrollment.domain.sheet import (
    ID_AS_NUMBER_MESSAGE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ApplicantRecord,
    RowProblem,
    SheetHeader,
    SheetResult,
    SheetRules,
    validate_sheet,
)
from events.enrollment import ImportedApplicant

TODAY = date(2025, 6, 1)
RULES = SheetRules(today=TODAY)
HEADER: list[object] = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def make_id(birth: str = "19900115", sequence: str = "123", region: str = "330106") -> str:
    first17 = region + birth + sequence
    return first17 + id_check_character(first17)


MALE_ID = make_id()
FEMALE_ID = make_id(sequence="124")
OTHER_ID = make_id(birth="19850505", sequence="975")

DEFAULT: dict[str, object] = {
    "姓名": "张三",
    "性别": "男",
    "身份证号": MALE_ID,
    "手机号": "13800001111",
    "学历": "本科",
    "工作单位": "浙江某某建设有限公司",
    "所学专业": "土木工程",
    "毕业时间": "2012-06-30",
    "岗位工作年限": 3,
}


def row(header: Sequence[object] = HEADER, /, **values: object) -> list[object]:
    cells = {**DEFAULT, **values}
    return [cells.get(str(title)) for title in header]


def person(n: int, **values: object) -> list[object]:
    """Row n of a sheet of distinct valid people (men, aged 20–45)."""
    birth = f"{1980 + n % 25}{1 + n % 12:02d}{1 + n % 28:02d}"
    sequence = f"{(n // 300) % 100:02d}{(n % 5) * 2 + 1}"
    return row(身份证号=make_id(birth=birth, sequence=sequence), 姓名=f"学员{n}", **values)


def validate(
    rows: Sequence[Sequence[object]], header: Sequence[object] = HEADER, **kwargs: object
) -> SheetResult:
    return validate_sheet(header, rows, RULES, **kwargs)  # type: ignore[arg-type,unused-ignore]


def summary(result: SheetResult) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in result.problems]


def assert_well_formed(problems: Sequence[RowProblem]) -> None:
    for found in problems:
        assert CHINESE.search(found.message), found
        assert found.message.startswith(f"第 {found.row} 行"), found


# --- records ---


def test_record_fields_are_those_of_imported_applicant() -> None:
    fields = [f.name for f in dataclasses.fields(ApplicantRecord)]
    assert fields == [name for name in ImportedApplicant.model_fields if name != "applicant_id"]


def test_a_clean_sheet() -> None:
    result = validate(
        [row(), row(姓名="李四", 性别="女", 身份证号=FEMALE_ID, 毕业时间=None, 岗位工作年限=None)]
    )
    assert result.problems == []
    assert result.rows_read == 2
    assert result.records[0] == ApplicantRecord(
        name="张三",
        gender="男",
        id_number=MALE_ID,
        mobile="13800001111",
        education="本科",
        employer="浙江某某建设有限公司",
        major="土木工程",
        graduated_on=date(2012, 6, 30),
        years_in_post=3,
    )
    assert result.records[1].graduated_on is None and result.records[1].years_in_post is None
    ImportedApplicant(applicant_id="a-1", **dataclasses.asdict(result.records[0]))


def test_values_are_normalised_not_refused() -> None:
    full_width = MALE_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    woman = make_id(birth="19880808", sequence="002")  # ends with a check character; may be X
    result = validate(
        [
            row(
                姓名=" 张 三\u3000",
                性别="男 ",
                身份证号=f"\u3000{full_width} ",
                手机号="１３８ ００００ １１１１",
                学历=" 本科 ",
                工作单位="\u00a0浙江ＡＢＣ建设  有限公司 ",
                所学专业=" 土木工程 ",
                岗位工作年限="３年",
            ),
            row(姓名="John  Smith", 性别="女", 身份证号=woman.lower(), 手机号=13900001111),
            row(姓名="王五", 身份证号=make_id(sequence="135"), 手机号=13700001111.0),
        ]
    )
    assert result.problems == []
    first, second, third = result.records
    assert (first.name, first.gender, first.id_number, first.mobile) == ("张三", "男", MALE_ID, "13800001111")
    assert (first.education, first.employer, first.major) == ("本科", "浙江ABC建设 有限公司", "土木工程")
    assert first.years_in_post == 3
    assert (
        second.name == "John Smith" and second.id_number == woman.upper() and second.mobile == "13900001111"
    )
    assert third.mobile == "13700001111"


# --- header ---


def test_columns_in_any_order_with_extra_columns() -> None:
    header: list[object] = [
        "序号",
        "学历",
        None,
        "身份证号",
        "备注",
        "姓名",
        "工作单位",
        "手机号",
        "性别",
        "联系地址",
    ]
    rows = [[1, *row(header)[1:]], [2, *row(header, 姓名="李四", 身份证号=make_id(sequence="111"))[1:]]]
    result = validate(rows, header)
    assert result.problems == []
    assert [r.name for r in result.records] == ["张三", "李四"]
    assert result.records[0].major == "" and result.records[0].graduated_on is None


def test_header_spacing_and_markers() -> None:
    header: list[object] = [
        "姓　名",
        " 性别 ",
        "*身份证号",
        "手机号＊",
        "学 历",
        "\u00a0工作单位",
        "毕业时间",
    ]
    result = validate([row([*REQUIRED_COLUMNS, "毕业时间"])], header)
    assert result.problems == []
    assert result.records[0].graduated_on == date(2012, 6, 30)


def test_misspelt_required_header_stops_before_rows() -> None:
    header = ["姓名", "性别", "身份正号", "手机号", "学历", "工作单位"]
    result = validate([row(header), ["", "", "", "", "", ""]], header)
    assert summary(result) == [(1, "身份证号", "misspelt_column")]
    assert "表头“身份正号”应为“身份证号”" in result.problems[0].message
    assert result.problems[0].value == "身份正号"
    assert result.records == [] and result.rows_read == 0
    assert_well_formed(result.problems)


def test_every_header_problem_at_once() -> None:
    header = ["姓名", "性列", "身份证号码", "学力", "工作单位全称", "毕业时问", "序号", "备注"]
    result = validate([row(header)], header)
    assert summary(result) == [
        (1, "性别", "misspelt_column"),
        (1, "身份证号", "misspelt_column"),
        (1, "手机号", "missing_column"),
        (1, "学历", "misspelt_column"),
        (1, "工作单位", "misspelt_column"),
        (1, "毕业时间", "misspelt_column"),
    ]
    messages = [p.message for p in result.problems]
    assert "表头“性列”应为“性别”" in messages[0]
    assert "表头“身份证号码”应为“身份证号”" in messages[1]
    assert "缺少必填列“手机号”" in messages[2]
    assert "B 列" in messages[0] and "C 列" in messages[1]
    assert result.rows_read == 0
    assert_well_formed(result.problems)


def test_missing_required_columns_all_reported() -> None:
    header = ["姓名", "工作单位"]
    result = validate([row(header)], header)
    assert summary(result) == [(1, c, "missing_column") for c in REQUIRED_COLUMNS if c not in header]


def test_unrelated_extra_columns_are_not_problems() -> None:
    header = [*HEADER, "序号", "备注", "联系地址", "身份证有效期至"]
    assert validate([row(header)], header).problems == []


def test_misspelt_optional_header_still_validates_rows() -> None:
    header = [*REQUIRED_COLUMNS, "毕业时问"]
    result = validate([row(header, 手机号="123")], header)
    assert summary(result) == [(1, "毕业时间", "misspelt_column"), (2, "手机号", "invalid_mobile")]


def test_duplicate_column() -> None:
    header = [*REQUIRED_COLUMNS, "身份证号"]
    result = validate([row(header)], header)
    assert summary(result) == [(1, "身份证号", "duplicate_column")]
    assert "C 列和 G 列" in result.problems[0].message


def test_empty_header() -> None:
    result = validate([], [])
    assert [p.code for p in result.problems] == ["missing_column"] * len(REQUIRED_COLUMNS)


# --- every row problem code ---


@pytest.mark.parametrize(
    ("column", "value", "code", "fragment"),
    [
        ("姓名", None, "required", "为空"),
        ("姓名", " \u3000 ", "required", "为空"),
        ("性别", None, "required", "为空"),
        ("性别", "M", "invalid_choice", "男、女"),
        ("性别", "男性", "invalid_choice", "下拉列表"),
        ("身份证号", None, "required", "为空"),
        ("身份证号", int(MALE_ID), "id_as_number", ID_AS_NUMBER_MESSAGE),
        ("身份证号", float(MALE_ID), "id_scientific_notation", "身份证号不可以是这种‘1.10101E+17’格式"),
        ("身份证号", "1.10101E+17", "id_scientific_notation", "1.10101E+17"),
        ("身份证号", "3.30106e+17", "id_scientific_notation", "科学计数法"),
        ("身份证号", " 3.30106E17 ", "id_scientific_notation", "科学计数法"),
        ("身份证号", MALE_ID[:17], "invalid_id_number", "实际为 17 位"),
        ("身份证号", make_id(birth="19900230"), "invalid_id_number", "不是有效的日期"),
        ("身份证号", make_id(region="000106"), "invalid_id_number", "省级行政区划代码"),
        ("手机号", None, "required", "为空"),
        ("手机号", "1380000111", "invalid_mobile", "实际为 10 位"),
        ("手机号", "12800001111", "invalid_mobile", "第 2 位"),
        ("学历", None, "required", "为空"),
        ("学历", "大学", "invalid_choice", "、".join(EDUCATION_LEVELS)),
        ("工作单位", None, "required", "为空"),
        ("毕业时间", "去年", "invalid_date", "不是有效日期"),
        ("毕业时间", "2012-02-30", "invalid_date", "不是有效日期"),
        ("毕业时间", "2030-06", "invalid_date", "晚于今天"),
        ("岗位工作年限", "三", "invalid_number", "0–60"),
        ("岗位工作年限", 61, "invalid_number", "0–60"),
        ("岗位工作年限", -1, "invalid_number", "0–60"),
        ("岗位工作年限", 3.5, "invalid_number", "整数"),
    ],
)
def test_every_row_problem(column: str, value: object, code: str, fragment: str) -> None:
    result = validate([row(身份证号=OTHER_ID), row(**{column: value})])
    assert summary(result) == [(3, column, code)]
    found = result.problems[0]
    assert found.message.startswith(f"第 3 行“{column}”")
    assert fragment in found.message
    assert_well_formed(result.problems)
    assert len(result.records) == 1


def test_id_as_number_and_scientific_notation_values() -> None:
    result = validate([row(身份证号=int(MALE_ID)), row(身份证号=1.10101e17), row(身份证号="1.10101E+17")])
    assert [(p.code, p.value) for p in result.problems] == [
        ("id_as_number", MALE_ID),
        ("id_scientific_notation", "1.10101E+17"),
        ("id_scientific_notation", "1.10101E+17"),
    ]
    assert "身份证号不可以是这种‘1.10101E+17’格式" in result.problems[1].message


def test_invalid_id_message_is_the_validator_s() -> None:
    bad = MALE_ID[:17] + ("1" if MALE_ID[17] != "1" else "2")
    result = validate([row(身份证号=bad)])
    expected = id_number_problem(bad, today=TODAY)
    assert expected is not None and expected in result.problems[0].message


@pytest.mark.parametrize("position", range(18))
def test_generated_id_corpus_through_the_sheet(position: int) -> None:
    rows = []
    for digit in "0123456789X":
        mutated = MALE_ID[:position] + digit + MALE_ID[position + 1 :]
        if mutated != MALE_ID and (position == 17 or digit != "X"):
            rows.append(row(身份证号=mutated))
    result = validate(rows)
    invalid = [p for p in result.problems if p.code == "invalid_id_number"]
    assert [p.row for p in invalid] == list(range(2, 2 + len(rows)))
    assert result.records == []


def test_gender_mismatch() -> None:
    result = validate([row(性别="女", 身份证号=MALE_ID), row(性别="男", 身份证号=FEMALE_ID)])
    assert summary(result) == [(2, "性别", "gender_mismatch"), (3, "性别", "gender_mismatch")]
    assert "第 17 位表示“男”" in result.problems[0].message
    assert "第 17 位表示“女”" in result.problems[1].message


@pytest.mark.parametrize(
    ("birth", "sequence", "age", "limit"),
    [
        ("19640601", "123", 61, 60),  # a man, 61 today
        ("19690601", "124", 56, 55),  # a woman, 56 today
        ("20070602", "123", 17, 60),  # 18 tomorrow
        ("20070602", "124", 17, 55),
    ],
)
def test_age_out_of_range(birth: str, sequence: str, age: int, limit: int) -> None:
    gender = "男" if int(sequence[-1]) % 2 else "女"
    result = validate([row(性别=gender, 身份证号=make_id(birth=birth, sequence=sequence))])
    assert summary(result) == [(2, "身份证号", "age_out_of_range")]
    message = result.problems[0].message
    assert f"年龄为 {age} 周岁" in message and f"18–{limit} 周岁" in message


@pytest.mark.parametrize(
    ("birth", "sequence"),
    [("19640602", "123"), ("19690602", "124"), ("20070601", "123"), ("20070601", "124")],
)
def test_age_limits_are_inclusive(birth: str, sequence: str) -> None:
    gender = "男" if int(sequence[-1]) % 2 else "女"
    assert validate([row(性别=gender, 身份证号=make_id(birth=birth, sequence=sequence))]).problems == []


def test_age_limits_follow_the_rules() -> None:
    rules = SheetRules(today=TODAY, min_age=20, max_age_male=65, max_age_female=60)
    man_62 = make_id(birth="19630101")
    woman_19 = make_id(birth="20060101", sequence="124")
    result = validate_sheet(HEADER, [row(身份证号=man_62), row(性别="女", 身份证号=woman_19)], rules)
    assert summary(result) == [(3, "身份证号", "age_out_of_range")]
    assert "20–60 周岁" in result.problems[0].message


def test_duplicate_in_sheet_names_the_other_row() -> None:
    woman = make_id(birth="19880808", sequence="002")
    rows = [row(), row(身份证号=make_id(sequence="111")), row(身份证号=f" {MALE_ID} ")]
    rows += [row(性别="女", 身份证号=woman), row(性别="女", 身份证号=woman.lower())]
    result = validate(rows)
    assert summary(result) == [(4, "身份证号", "duplicate_in_sheet"), (6, "身份证号", "duplicate_in_sheet")]
    assert "与第 2 行重复" in result.problems[0].message
    assert "与第 5 行重复" in result.problems[1].message


def test_duplicate_in_open_batch() -> None:
    known = {MALE_ID: "批次 B-7（施工员·土建施工，线上）"}
    result = validate([row(), row(身份证号=FEMALE_ID, 性别="女")], known_id_numbers=known)
    assert summary(result) == [(2, "身份证号", "duplicate_open_batch")]
    assert "批次 B-7（施工员·土建施工，线上）" in result.problems[0].message
    assert result.records[0].id_number == FEMALE_ID


# --- all problems, row numbers ---


def test_all_problems_of_all_rows_at_once() -> None:
    rows = [
        row(姓名=None, 性别="X", 手机号="123"),  # 2
        row(身份证号=make_id(sequence="111")),  # 3 valid
        row(身份证号=int(MALE_ID), 学历="大学", 工作单位=" "),  # 4
        row(身份证号="1.10101E+17", 毕业时间="someday", 岗位工作年限="many"),  # 5
        row(身份证号=make_id(sequence="113"), 性别="女", 手机号=None),  # 6
        row(身份证号=OTHER_ID),  # 7 valid
    ]
    result = validate(rows)
    assert summary(result) == [
        (2, "姓名", "required"),
        (2, "性别", "invalid_choice"),
        (2, "手机号", "invalid_mobile"),
        (4, "身份证号", "id_as_number"),
        (4, "学历", "invalid_choice"),
        (4, "工作单位", "required"),
        (5, "身份证号", "id_scientific_notation"),
        (5, "毕业时间", "invalid_date"),
        (5, "岗位工作年限", "invalid_number"),
        (6, "性别", "gender_mismatch"),
        (6, "手机号", "required"),
    ]
    assert result.rows_read == 6
    assert [r.id_number for r in result.records] == [make_id(sequence="111"), OTHER_ID]
    assert_well_formed(result.problems)


def test_row_numbers_with_blank_rows_between() -> None:
    blank: list[object] = [None] * len(HEADER)
    rows: list[Sequence[object]] = [
        row(),  # 2
        (),  # 3
        blank,  # 4
        ["", " ", "\u3000", None],  # 5
        row(身份证号=make_id(sequence="111"), 手机号="1"),  # 6
        blank,  # 7
        row(身份证号=make_id(sequence="113"), 性别="女"),  # 8
        blank,
        (),
        blank,
    ]
    result = validate(rows)
    assert summary(result) == [(6, "手机号", "invalid_mobile"), (8, "性别", "gender_mismatch")]
    assert result.rows_read == 3


def test_rows_with_only_unknown_columns_filled_are_blank() -> None:
    header = ["序号", *HEADER]
    rows: list[list[object]] = [[1, *row()], [2] + [None] * len(HEADER), [3] + [None] * len(HEADER)]
    result = validate(rows, header)
    assert result.problems == [] and result.rows_read == 1


def test_short_rows_are_missing_cells() -> None:
    result = validate([row()[:3]])
    assert summary(result) == [
        (2, "手机号", "required"),
        (2, "学历", "required"),
        (2, "工作单位", "required"),
    ]


def test_header_lower_in_the_sheet() -> None:
    header = SheetHeader(HEADER, row=3)
    result = validate_sheet(header, [row(), row(身份证号=OTHER_ID, 手机号="1")], RULES)
    assert summary(result) == [(5, "手机号", "invalid_mobile")]
    assert result.problems[0].message.startswith("第 5 行")
    assert summary(validate([row(手机号="1")], header_row=7)) == [(8, "手机号", "invalid_mobile")]
    bad_header = SheetHeader(["姓名"], row=2)
    assert {p.row for p in validate_sheet(bad_header, [], RULES).problems} == {2}


# --- optional columns ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2012-06-30", date(2012, 6, 30)),
        ("2012/06/30", date(2012, 6, 30)),
        ("2012/6/3", date(2012, 6, 3)),
        ("2012.06.30", date(2012, 6, 30)),
        ("2012.06", date(2012, 6, 1)),
        ("2012-06", date(2012, 6, 1)),
        ("2012/06", date(2012, 6, 1)),
        ("2012年6月", date(2012, 6, 1)),
        ("2012年06月", date(2012, 6, 1)),
        ("2012 年 6 月", date(2012, 6, 1)),
        ("2012年6月30日", date(2012, 6, 30)),
        ("２０１２－０６", None),  # a full-width hyphen is not a separator
        ("２０１２.０６", date(2012, 6, 1)),
        ("2012-06-30 00:00:00", date(2012, 6, 30)),
        (datetime(2012, 6, 30, 0, 0), date(2012, 6, 30)),
        (date(2012, 6, 30), date(2012, 6, 30)),
        (2012.06, date(2012, 6, 1)),
        (2012.12, date(2012, 12, 1)),
    ],
)
def test_graduation_dates(value: object, expected: date | None) -> None:
    result = validate([row(毕业时间=value)])
    if expected is None:
        assert summary(result) == [(2, "毕业时间", "invalid_date")]
    else:
        assert result.problems == [] and result.records[0].graduated_on == expected


@pytest.mark.parametrize(
    "value",
    [
        "2012",
        2012,
        "2012-13",
        "2012-00",
        "2012-02-30",
        "June 2012",
        "12-06-30",
        "2012-6-30-1",
        2012.1,
        2012.13,
        "2025-06-02",
        "1899-12",
        "20120630",
        True,
    ],
)
def test_invalid_graduation_dates(value: object) -> None:
    result = validate([row(毕业时间=value)])
    assert summary(result) == [(2, "毕业时间", "invalid_date")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3),
        (3, 3),
        (3.0, 3),
        ("3年", 3),
        ("３年", 3),
        (" 3 ", 3),
        ("0", 0),
        (60, 60),
        ("3.0", 3),
        (None, None),
    ],
)
def test_years_in_post(value: object, expected: int | None) -> None:
    result = validate([row(岗位工作年限=value)])
    assert result.problems == [] and result.records[0].years_in_post == expected


@pytest.mark.parametrize("value", ["三", -1, 61, 3.5, "3.5", "abc", True, "3个月", "-2"])
def test_invalid_years_in_post(value: object) -> None:
    assert summary(validate([row(岗位工作年限=value)])) == [(2, "岗位工作年限", "invalid_number")]


def test_choices_come_from_the_reference_lists() -> None:
    for gender in GENDERS:
        number = MALE_ID if gender == "男" else FEMALE_ID
        assert validate([row(性别=gender, 身份证号=number)]).problems == []
    for education in EDUCATION_LEVELS:
        assert validate([row(学历=education)]).problems == []


# --- progress, limits, speed ---


@pytest.mark.parametrize(
    ("count", "calls"),
    [(0, [0]), (1, [1]), (499, [499]), (500, [500]), (1000, [500, 1000]), (1201, [500, 1000, 1201])],
)
def test_progress(count: int, calls: list[int]) -> None:
    seen: list[int] = []
    rows = [person(n) for n in range(count)] + [[None] * len(HEADER)] * 3
    result = validate(rows, progress=seen.append)
    assert result.problems == [] and result.rows_read == count
    assert seen == calls


def test_progress_when_the_header_is_wrong() -> None:
    seen: list[int] = []
    validate([row()], ["姓名"], progress=seen.append)
    assert seen == [0]


def test_too_many_rows() -> None:
    rules = SheetRules(today=TODAY, max_rows=3)
    rows = [person(n) for n in range(3)] + [[None] * len(HEADER)] + [person(n) for n in range(3, 6)]
    result = validate_sheet(HEADER, rows, rules)
    assert summary(result) == [(6, "", "too_many_rows")]
    assert "3 行" in result.problems[0].message and result.rows_read == 3


def test_five_thousand_rows_each_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Linear work: every ID number is checked once, whatever the size (the time is in bench/, `make bench`:
    bench/enrollment_import.py reads and validates 5,000 rows)."""
    checked: list[str] = []

    def counted(number: str, *, today: date) -> str | None:
        checked.append(number)
        return id_number_problem(number, today=today)

    monkeypatch.setattr(sheet_module, "id_number_problem", counted)
    rows = [person(n) for n in range(5000)]
    assert len({r[2] for r in rows}) == 5000
    result = validate(rows)
    assert result.problems == [] and len(result.records) == 5000
    assert len(checked) == 5000 and len(set(checked)) == 5000


def test_five_thousand_bad_rows_all_reported() -> None:
    rows = [person(n, 手机号="123", 学历="大学") for n in range(5000)]
    result = validate(rows)
    assert len(result.problems) == 10000 and result.records == []
    assert result.problems[-1].row == 5001


# --- 学历: the levels of 附件5 (+ 高中), their synonyms normalised, one word stored ---

CANONICAL_EDUCATION = ("研究生", "本科", "专科", "中职", "高中")


def test_education_list_is_the_levels_of_annex5() -> None:
    assert tuple(EDUCATION_LEVELS) == CANONICAL_EDUCATION


@pytest.mark.parametrize("value", CANONICAL_EDUCATION)
def test_each_canonical_education_is_accepted_as_it_is(value: str) -> None:
    result = validate([row(学历=value)])
    assert result.problems == [] and result.records[0].education == value


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("大专", "专科"),
        ("中专", "中职"),
        ("职高", "中职"),
        ("技校", "中职"),
        ("硕士研究生", "研究生"),
        ("博士研究生", "研究生"),
        (" 大 专 ", "专科"),  # spaces of any kind aside
        ("\u3000中专", "中职"),
    ],
)
def test_each_education_synonym_is_stored_as_its_level(typed: str, stored: str) -> None:
    result = validate([row(学历=typed)])
    assert result.problems == [] and result.records[0].education == stored


@pytest.mark.parametrize(
    "value", ["初中", "小学", "初中及以下", "大学", "Bachelor", "college", "master", "硕士"]
)
def test_other_education_is_refused_with_the_list(value: str) -> None:
    result = validate([row(学历=value)])
    assert summary(result) == [(2, "学历", "invalid_choice")]
    message = result.problems[0].message
    assert message.startswith("第 2 行“学历”") and f"“{value}”" in message
    assert "研究生、本科、专科、中职、高中" in message
    assert "大专" in message  # the synonyms are named too
    assert result.records == []


def test_a_sheet_of_every_level_has_no_false_error() -> None:
    """The 5,000-row sheet that got 2,772 false errors: 专科, 中职 and 研究生 are levels of 附件5."""
    words = [*CANONICAL_EDUCATION, "大专", "中专", "职高", "技校", "硕士研究生", "博士研究生"]
    rows = [person(n, 学历=words[n % len(words)]) for n in range(5000)]
    result = validate(rows)
    assert result.problems == [] and len(result.records) == 5000
    assert {r.education for r in result.records} == set(CANONICAL_EDUCATION)


# --- 工作单位: the enterprise's registered full name ---

REGISTERED = "杭州西湖建工集团有限公司"
EMPLOYER_RULES = SheetRules(today=TODAY, employer=REGISTERED)


def with_employer(*values: object) -> SheetResult:
    rows = [person(n, 工作单位=value) for n, value in enumerate(values)]
    return validate_sheet(HEADER, rows, EMPLOYER_RULES)


@pytest.mark.parametrize(
    "typed",
    [
        REGISTERED,
        f" {REGISTERED}\u3000",
        "杭州西湖建工 集团有限公司",
        "杭州 西湖 建工集团有限公司",
        "\u00a0杭州西湖建工集团有限公司",
    ],
)
def test_employer_spaces_are_normalised_and_the_registered_name_stored(typed: str) -> None:
    result = with_employer(typed)
    assert result.problems == [] and result.records[0].employer == REGISTERED


@pytest.mark.parametrize(
    ("registered", "typed"),
    [
        ("浙江某某建设有限公司（滨江分公司）", "浙江某某建设有限公司(滨江分公司)"),
        ("浙江某某建设有限公司(滨江分公司)", "浙江某某建设有限公司（滨江分公司）"),
        ("浙江某某建设有限公司（滨江分公司）", "浙江某某建设有限公司 （滨江分公司） "),
        ("浙江ABC建设有限公司", "浙江ＡＢＣ建设有限公司"),
    ],
)
def test_employer_bracket_widths_are_normalised(registered: str, typed: str) -> None:
    rows = [row(工作单位=typed)]
    result = validate_sheet(HEADER, rows, SheetRules(today=TODAY, employer=registered))
    assert result.problems == [] and result.records[0].employer == registered


def test_an_abbreviation_is_an_error_naming_the_full_name() -> None:
    result = with_employer("西湖建工", REGISTERED, "西湖建工集团")
    assert summary(result) == [
        (2, "工作单位", "employer_abbreviated"),
        (4, "工作单位", "employer_abbreviated"),
    ]
    first = result.problems[0]
    assert first.value == "西湖建工"
    assert first.message.startswith("第 2 行“工作单位”“西湖建工”") and f"“{REGISTERED}”" in first.message
    assert "简称" in first.message
    assert_well_formed(result.problems)
    assert [r.employer for r in result.records] == [REGISTERED]


@pytest.mark.parametrize(
    "other", ["杭州东湖建工集团有限公司", "杭州建工集团有限公司", "浙江某某劳务有限公司", "个人"]
)
def test_another_company_is_an_error_naming_the_full_name(other: str) -> None:
    result = with_employer(other)
    assert summary(result) == [(2, "工作单位", "employer_mismatch")]
    message = result.problems[0].message
    assert f"“{other}”" in message and f"“{REGISTERED}”" in message and "本企业职工" in message


def test_without_a_registered_name_the_employer_is_not_compared() -> None:
    result = validate([row(工作单位="随便什么单位")])
    assert result.problems == [] and result.records[0].employer == "随便什么单位"
