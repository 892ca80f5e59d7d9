"""The summary sheet (附件4, 报名人员信息汇总表): header and row validation (pure).

Every problem of every row is reported at once as (row, column, value, code, message); the caller imports
the records only when there is no problem at all, so nothing is ever half-imported. Row numbers are those
the enterprise sees in Excel: the header is row 1 (unless the reader found it lower, see `SheetHeader`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from .identity import (
    age_on,
    compact,
    id_number_problem,
    mobile_problem,
    normalize_cell,
    normalize_id_number,
    normalize_mobile,
)
from .reference import EDUCATION_LEVELS, EDUCATION_SYNONYMS, GENDERS, canonical_education

NAME = "姓名"
GENDER = "性别"
ID_NUMBER = "身份证号"
MOBILE = "手机号"
EDUCATION = "学历"
EMPLOYER = "工作单位"
MAJOR = "所学专业"
GRADUATED_ON = "毕业时间"
YEARS_IN_POST = "岗位工作年限"

REQUIRED_COLUMNS: tuple[str, ...] = (NAME, GENDER, ID_NUMBER, MOBILE, EDUCATION, EMPLOYER)
OPTIONAL_COLUMNS: tuple[str, ...] = (MAJOR, GRADUATED_ON, YEARS_IN_POST)
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

MAX_YEARS_IN_POST = 60
PROGRESS_EVERY = 500

SCIENTIFIC_NOTATION_HINT = "身份证号不可以是这种‘1.10101E+17’格式"
ID_AS_NUMBER_MESSAGE = "身份证号被存成了数字（可能已丢失末位），请把该列设为文本后重新填写"

_ALLOWED_GENDERS = "、".join(GENDERS)
_ALLOWED_EDUCATION = "、".join(EDUCATION_LEVELS)
_EDUCATION_SYNONYMS_SHOWN = "；".join(
    f"{canonical}（{'、'.join(s for s, c in EDUCATION_SYNONYMS.items() if c == canonical)}）"
    for canonical in EDUCATION_LEVELS
    if canonical in EDUCATION_SYNONYMS.values()
)
_GENDER_SET = frozenset(GENDERS)
_BRACKETS = str.maketrans({"（": "(", "）": ")"})
# A name that ends so is a company's full name (maybe another one), not an abbreviation of this one.
_COMPANY_ENDINGS = ("公司", "厂", "院", "所", "中心", ")")


@dataclass(frozen=True)
class SheetRules:
    today: date
    min_age: int = 18
    max_age_male: int = 60
    max_age_female: int = 55
    max_rows: int = 10000
    # The enterprise's registered full name: every 工作单位 must be it (spaces and bracket widths aside) and
    # the record carries it as registered. None: not compared (only for callers that have no enterprise).
    employer: str | None = None


@dataclass(frozen=True)
class RowProblem:
    """One problem: spreadsheet row number (header problems: the header row), column, the value as read."""

    row: int
    column: str
    value: str
    code: str
    message: str


@dataclass(frozen=True)
class ApplicantRecord:
    """A valid row: the fields of `events.enrollment.ImportedApplicant` but the applicant id."""

    name: str
    gender: str
    id_number: str
    mobile: str
    education: str
    employer: str
    major: str
    graduated_on: date | None
    years_in_post: int | None


@dataclass(frozen=True)
class SheetResult:
    records: list[ApplicantRecord]
    problems: list[RowProblem]
    rows_read: int  # non-empty data rows

    @property
    def ok(self) -> bool:
        return not self.problems


class SheetHeader(list[object]):
    """A header row that knows its spreadsheet row number (when a title row sits above it)."""

    def __init__(self, cells: Iterable[object] = (), row: int = 1) -> None:
        super().__init__(cells)
        self.row = row


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _header_key(value: object) -> str:
    # "姓　名", " 身份证号 ", "*手机号" all name their column.
    return compact(value).strip("*＊")


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _misspelling_score(found: str, expected: str) -> int | None:
    """How close an unknown header is to an expected name (lower: closer); None: not a misspelling."""
    if len(found) >= 2 and (expected in found or found in expected):
        return abs(len(found) - len(expected))
    distance = _edit_distance(found, expected)
    return distance if distance <= 1 else None


@dataclass
class _Header:
    columns: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    blocking: bool = False


def _read_header(cells: Sequence[object], header_row: int) -> _Header:
    header = _Header()
    unknown: list[tuple[int, str, str]] = []  # (index, key, shown)
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        if not key:
            continue
        if key in COLUMNS:
            if key in header.columns:
                first = column_letter(header.columns[key])
                header.problems.append(
                    RowProblem(
                        header_row,
                        key,
                        normalize_cell(cell),
                        "duplicate_column",
                        f"第 {header_row} 行表头“{key}”出现了两次（{first} 列和 {column_letter(index)} 列），"
                        f"请删除多余的一列（以 {first} 列为准）",
                    )
                )
            else:
                header.columns[key] = index
        else:
            unknown.append((index, key, normalize_cell(cell)))

    used: set[int] = set()
    for expected in COLUMNS:
        if expected in header.columns:
            continue
        candidates = [
            (score, index, shown)
            for index, key, shown in unknown
            if index not in used and (score := _misspelling_score(key, expected)) is not None
        ]
        required = expected in REQUIRED_COLUMNS
        if candidates:
            _, index, shown = min(candidates)
            used.add(index)
            header.problems.append(
                RowProblem(
                    header_row,
                    expected,
                    shown,
                    "misspelt_column",
                    f"第 {header_row} 行 {column_letter(index)} 列表头“{shown}”应为“{expected}”",
                )
            )
            header.blocking |= required
        elif required:
            header.problems.append(
                RowProblem(
                    header_row,
                    expected,
                    "",
                    "missing_column",
                    f"第 {header_row} 行表头缺少必填列“{expected}”（必填列：{'、'.join(REQUIRED_COLUMNS)}；"
                    "请使用系统下载的模板）",
                )
            )
            header.blocking = True
    return header


def _shown(value: object) -> str:
    """The value as the problem report shows it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.5E}" if abs(value) >= 1e11 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return normalize_cell(value)


def _looks_scientific(text: str) -> bool:
    """`1.10101E+17`, `1.1E17`, `3.30106e+17`: what Excel shows for an 18-digit number."""
    if "E" not in text.upper():
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)  # a sheet repeats the same few graduation dates
def _parse_date_text(text: str) -> date | None:
    """`YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYY-MM`, `YYYY/MM`, `YYYY.MM`, `YYYY年MM月(DD日)`."""
    text = text.split(" ", 1)[0] if " " in text and text.endswith("00:00:00") else text
    text = text.replace(" ", "")
    if text.endswith("日"):
        text = text[:-1]
    for separator in ("年", "月", "/", "."):
        text = text.replace(separator, "-")
    parts = text.rstrip("-").split("-")
    if len(parts) not in (2, 3) or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    if len(parts[0]) != 4 or not all(1 <= len(part) <= 2 for part in parts[1:]):
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 1)
    except ValueError:
        return None


def _parse_graduation(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):  # bool included
        return None
    if isinstance(value, float):
        # A "2015.06" typed into a General cell arrives as the number 2015.06; "2015.10" as 2015.1, which
        # cannot be told from "2015.1" (January): only two decimals are taken as year.month.
        text = repr(value)
        if "." not in text or "e" in text.lower() or len(text.split(".")[1]) != 2:
            return None
        return _parse_date_text(text)
    return _parse_date_text(normalize_cell(value))


def _parse_years(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = compact(value)
    if text.endswith("年"):
        text = text[:-1]
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not normalize_cell(value)
    return False


@lru_cache(maxsize=1024)  # 工作单位 repeats down a sheet
def employer_key(value: str) -> str:
    """What two spellings of one company name share: no spaces of any kind, full-width digits and letters
    made ASCII, full-width brackets （） made ( )."""
    return compact(value).translate(_BRACKETS)


def _is_subsequence(short: str, long: str) -> bool:
    """Whether `short` reads as `long` with characters left out (西湖建工 in 杭州西湖建工集团有限公司)."""
    rest = iter(long)
    return all(ch in rest for ch in short)


def employer_problem(value: str, registered: str) -> tuple[str, str] | None:
    """None when `value` is the registered full name; else (code, what is wrong) in Chinese."""
    key, expected = employer_key(value), employer_key(registered)
    if key == expected:
        return None
    if key and not key.endswith(_COMPANY_ENDINGS) and _is_subsequence(key, expected):
        return (
            "employer_abbreviated",
            f"“{value}”是简称，应填写本企业的全称“{registered}”（与营业执照一致）",
        )
    return (
        "employer_mismatch",
        f"“{value}”不是本企业的名称：应填写本企业的全称“{registered}”（通过本企业报名的人员须为本企业职工）",
    )


def _birth_and_gender(number: str) -> tuple[date, str]:
    # Only for numbers that passed `id_number_problem`.
    birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return birth, "男" if int(number[16]) % 2 else "女"


def validate_sheet(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    rules: SheetRules,
    *,
    known_id_numbers: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
    header_row: int | None = None,
) -> SheetResult:
    """Validate the sheet: every problem of every row, and a record for each valid row.

    `rows` are the rows below the header, blank rows included (they are skipped but counted, so row numbers
    match Excel's). `header_row` defaults to `header.row` for a `SheetHeader`, else 1. A missing (or
    misspelt) required column stops validation after the header; more than `rules.max_rows` non-empty data
    rows stops it at the first row over the limit. `known_id_numbers` maps ID numbers already enrolled
    elsewhere (e.g. an open batch of the same position) to a description of where.
    """
    first_row = header_row if header_row is not None else getattr(header, "row", 1)
    parsed = _read_header(header, first_row)
    problems = list(parsed.problems)
    records: list[ApplicantRecord] = []
    if parsed.blocking:
        if progress is not None:
            progress(0)
        return SheetResult(records=records, problems=problems, rows_read=0)

    known = known_id_numbers or {}
    columns = parsed.columns
    known_columns = sorted(columns.values())
    needed = known_columns[-1] + 1
    i_name, i_gender, i_id, i_mobile, i_education, i_employer = (columns[c] for c in REQUIRED_COLUMNS)
    i_major = columns.get(MAJOR)
    i_graduated = columns.get(GRADUATED_ON)
    i_years = columns.get(YEARS_IN_POST)
    today = rules.today
    seen: dict[str, int] = {}
    rows_read = 0
    reported = 0

    def problem(row: int, column: str, value: object, code: str, detail: str) -> None:
        problems.append(RowProblem(row, column, _shown(value), code, f"第 {row} 行“{column}”{detail}"))

    def required(row: int, column: str) -> None:
        problem(row, column, None, "required", "为空，该列必须填写")

    row_number = first_row
    for cells in rows:
        row_number += 1
        width = len(cells)
        if all(_is_blank(cells[i]) for i in known_columns if i < width):
            continue
        rows_read += 1
        if rows_read > rules.max_rows:
            problems.append(
                RowProblem(
                    row_number,
                    "",
                    "",
                    "too_many_rows",
                    f"第 {row_number} 行：一次最多导入 {rules.max_rows} 行，请分成多个表格导入",
                )
            )
            rows_read -= 1
            break
        before = len(problems)
        if width < needed:
            cells = (*cells, *((None,) * (needed - width)))

        # 姓名: spaces inside a Chinese name are typing accidents ("张 三"); a Latin name keeps one space.
        name = normalize_cell(cells[i_name])
        if " " in name:
            name = " ".join(name.split())
            if not any(ch.isascii() and ch.isalpha() for ch in name):
                name = name.replace(" ", "")
        if not name:
            required(row_number, NAME)

        # 性别
        raw_gender = cells[i_gender]
        gender = compact(raw_gender)
        if not gender:
            required(row_number, GENDER)
        elif gender not in _GENDER_SET:
            problem(
                row_number,
                GENDER,
                raw_gender,
                "invalid_choice",
                f"“{_shown(raw_gender)}”不在可选范围内，请从下拉列表中选择：{_ALLOWED_GENDERS}",
            )
            gender = ""

        # 身份证号
        raw_id = cells[i_id]
        id_number = ""
        if isinstance(raw_id, bool):
            raw_id = str(raw_id)
        if _is_blank(raw_id):
            required(row_number, ID_NUMBER)
        elif isinstance(raw_id, int):
            problem(row_number, ID_NUMBER, raw_id, "id_as_number", ID_AS_NUMBER_MESSAGE)
        elif isinstance(raw_id, float):
            problem(
                row_number,
                ID_NUMBER,
                raw_id,
                "id_scientific_notation",
                f"显示为科学计数法“{_shown(raw_id)}”，末几位已丢失；{SCIENTIFIC_NOTATION_HINT}，"
                "请把该列设为文本后重新填写完整的 18 位号码",
            )
        else:
            text = normalize_id_number(normalize_cell(raw_id))
            if _looks_scientific(text):
                problem(
                    row_number,
                    ID_NUMBER,
                    raw_id,
                    "id_scientific_notation",
                    f"为科学计数法“{_shown(raw_id)}”，末几位已丢失；{SCIENTIFIC_NOTATION_HINT}，"
                    "请把该列设为文本后重新填写完整的 18 位号码",
                )
            else:
                issue = id_number_problem(text, today=today)
                if issue is not None:
                    problem(row_number, ID_NUMBER, raw_id, "invalid_id_number", f"“{text}”不正确：{issue}")
                else:
                    id_number = text

        if id_number:
            birth, id_gender = _birth_and_gender(id_number)
            if gender and gender != id_gender:
                problem(
                    row_number,
                    GENDER,
                    raw_gender,
                    "gender_mismatch",
                    f"填写为“{gender}”，但身份证号 {id_number} 第 17 位表示“{id_gender}”，两者不一致",
                )
            age = age_on(birth, today)
            limit = rules.max_age_male if id_gender == "男" else rules.max_age_female
            if not rules.min_age <= age <= limit:
                problem(
                    row_number,
                    ID_NUMBER,
                    raw_id,
                    "age_out_of_range",
                    f"{id_number} 的出生日期为 {birth.isoformat()}，"
                    f"到 {today.isoformat()} 年龄为 {age} 周岁，"
                    f"{id_gender}性报名年龄应为 {rules.min_age}–{limit} 周岁",
                )
            other = seen.get(id_number)
            if other is not None:
                problem(
                    row_number,
                    ID_NUMBER,
                    raw_id,
                    "duplicate_in_sheet",
                    f"{id_number} 与第 {other} 行重复，同一人只能填写一行",
                )
            else:
                seen[id_number] = row_number
            where = known.get(id_number)
            if where is not None:
                problem(
                    row_number,
                    ID_NUMBER,
                    raw_id,
                    "duplicate_open_batch",
                    f"{id_number} 已在{where}中报名，不能重复报名",
                )

        # 手机号: a number cell is fine (11 digits fit a double exactly).
        raw_mobile = cells[i_mobile]
        if isinstance(raw_mobile, float) and raw_mobile.is_integer():
            mobile = str(int(raw_mobile))
        elif isinstance(raw_mobile, int) and not isinstance(raw_mobile, bool):
            mobile = str(raw_mobile)
        else:
            mobile = normalize_mobile(normalize_cell(raw_mobile))
        if not mobile:
            required(row_number, MOBILE)
        else:
            issue = mobile_problem(mobile)
            if issue is not None:
                detail = f"“{_shown(raw_mobile)}”不正确：{issue}"
                problem(row_number, MOBILE, raw_mobile, "invalid_mobile", detail)

        # 学历
        raw_education = cells[i_education]
        education = compact(raw_education)
        if not education:
            required(row_number, EDUCATION)
        elif (canonical := canonical_education(education)) is not None:
            education = canonical  # 大专 → 专科, 中专 → 中职…: one word per level is stored
        else:
            problem(
                row_number,
                EDUCATION,
                raw_education,
                "invalid_choice",
                f"“{_shown(raw_education)}”不在可选范围内，请从下拉列表中选择：{_ALLOWED_EDUCATION}"
                f"（也可填写同义的{_EDUCATION_SYNONYMS_SHOWN}）",
            )

        # 工作单位
        employer = " ".join(normalize_cell(cells[i_employer]).split())
        if not employer:
            required(row_number, EMPLOYER)
        elif rules.employer is not None:
            wrong = employer_problem(employer, rules.employer)
            if wrong is None:
                employer = rules.employer
            else:
                problem(row_number, EMPLOYER, cells[i_employer], *wrong)

        # Optional columns.
        major = " ".join(normalize_cell(None if i_major is None else cells[i_major]).split())

        raw_graduated = None if i_graduated is None else cells[i_graduated]
        graduated_on: date | None = None
        if not _is_blank(raw_graduated):
            graduated_on = _parse_graduation(raw_graduated)
            if graduated_on is None or not date(1900, 1, 1) <= graduated_on <= today:
                detail = (
                    f"“{_shown(raw_graduated)}”不是有效日期，"
                    "请填写如 2015-06-30、2015/06/30、2015.06 或 2015年6月"
                    if graduated_on is None
                    else f"“{graduated_on.isoformat()}”不能晚于今天（{today.isoformat()}）"
                    if graduated_on > today
                    else f"“{graduated_on.isoformat()}”早于 1900 年"
                )
                problem(row_number, GRADUATED_ON, raw_graduated, "invalid_date", detail)
                graduated_on = None

        raw_years = None if i_years is None else cells[i_years]
        years_in_post: int | None = None
        if not _is_blank(raw_years):
            years_in_post = _parse_years(raw_years)
            if years_in_post is None or not 0 <= years_in_post <= MAX_YEARS_IN_POST:
                problem(
                    row_number,
                    YEARS_IN_POST,
                    raw_years,
                    "invalid_number",
                    f"“{_shown(raw_years)}”不正确：应为 0–{MAX_YEARS_IN_POST} 之间的整数年数（如 3）",
                )
                years_in_post = None

        if len(problems) == before:
            records.append(
                ApplicantRecord(
                    name=name,
                    gender=gender,
                    id_number=id_number,
                    mobile=mobile,
                    education=education,
                    employer=employer,
                    major=major,
                    graduated_on=graduated_on,
                    years_in_post=years_in_post,
                )
            )
        if progress is not None and rows_read % PROGRESS_EVERY == 0:
            progress(rows_read)
            reported = rows_read

    if progress is not None and (reported != rows_read or rows_read == 0):
        progress(rows_read)
    return SheetResult(records=records, problems=problems, rows_read=rows_read)
