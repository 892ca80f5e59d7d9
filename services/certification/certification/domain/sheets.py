"""Row validation of the two spreadsheets (pure): continuing-education hours and old-style certificates.

As in enrollment's summary sheet, every problem of every row is reported at once as (row, column, value,
code, message), and the caller stores the records only when there is no problem at all. Row numbers are the
ones seen in Excel (the header is row 1).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from events.reference import POSITIONS

from . import hours as hours_rules
from .hours import HoursRules
from .numbers import mod11_2

NUMBER = "证书编号"
ID_NUMBER = "身份证号"
NAME = "姓名"
GENDER = "性别"
POSITION = "岗位"
SPECIALISATION = "专业方向"
ISSUED_ON = "发证日期"
ISSUER = "发证机关"
STUDIED_ON = "学习日期"
HOURS = "学时"
KIND = "类别"
COURSE = "课程名称"

HOURS_COLUMNS: tuple[str, ...] = (NUMBER, ID_NUMBER, STUDIED_ON, HOURS, KIND, COURSE)
LEGACY_REQUIRED: tuple[str, ...] = (NUMBER, NAME, GENDER, ID_NUMBER, POSITION, ISSUED_ON)
LEGACY_COLUMNS: tuple[str, ...] = (*LEGACY_REQUIRED, SPECIALISATION, ISSUER)

KINDS = {"专业科目": "professional", "专业": "professional", "公共科目": "general", "公共": "general"}
KINDS.update({"professional": "professional", "general": "general"})
GENDERS = ("男", "女")
LEGACY_NUMBER = re.compile(r"^[0-9A-Za-z\-()（）]{4,40}$")


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    value: str
    code: str
    message: str


@dataclass(frozen=True)
class CertificateFacts:
    """What the hours sheet needs to know of a certificate named in it."""

    certificate_id: str
    id_number: str
    issued_on: date
    state: str
    state_label: str


@dataclass(frozen=True)
class HoursRow:
    row: int
    certificate_id: str
    certificate_number: str
    studied_on: date
    hours: float
    kind: str
    course: str


@dataclass(frozen=True)
class LegacyRow:
    row: int
    certificate_number: str
    holder_name: str
    gender: str
    id_number: str
    position: str
    specialisation: str | None
    issued_on: date
    issuer: str


def cell_text(value: object) -> str:
    """A cell as text: NFKC (full-width digits and letters), trimmed, `None` → ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def id_number_ok(text: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", text):
        return False
    try:
        datetime.strptime(text[6:14], "%Y%m%d")
    except ValueError:
        return False
    return mod11_2(text[:17]) == text[17]


def _columns(
    header: Sequence[object], required: Sequence[str], known: Sequence[str]
) -> tuple[dict[str, int], list[RowProblem]]:
    names = [cell_text(c) for c in header]
    found = {name: i for i, name in enumerate(names) if name in known}
    problems = [
        RowProblem(1, name, "", "missing_column", f"表头缺少“{name}”列（请使用系统下载的模板）")
        for name in required
        if name not in found
    ]
    return found, problems


def _is_blank(row: Sequence[object]) -> bool:
    return all(cell_text(c) == "" for c in row)


def hours_rows(
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    certificates: Mapping[str, CertificateFacts],
    *,
    today: date,
    rules: HoursRules,
    recorded: Mapping[str, hours_rules.HoursRecord] | None = None,
) -> tuple[list[HoursRow], list[RowProblem]]:
    """Validate the hours sheet; `certificates` maps the certificate numbers named in it to their facts,
    `recorded` the natural keys (`hours.natural_key`) of the records those certificates hold already. A row
    with the natural key of an earlier row (`duplicate_in_sheet`, naming both rows) or of a record already
    kept (`already_recorded`, naming the certificate, date and course) is a problem like any other."""
    columns, problems = _columns(header, HOURS_COLUMNS, HOURS_COLUMNS)
    if problems:
        return [], problems
    recorded = recorded or {}
    seen: dict[str, int] = {}
    records: list[HoursRow] = []
    for offset, row in enumerate(rows, start=2):
        if _is_blank(row):
            continue

        def get(name: str, row: Sequence[object] = row) -> object:
            i = columns[name]
            return row[i] if i < len(row) else None

        def problem(column: str, code: str, message: str, value: object = None, row_no: int = offset) -> None:
            text = cell_text(get(column)) if value is None else cell_text(value)
            problems.append(RowProblem(row_no, column, text, code, f"第 {row_no} 行：{message}"))

        before = len(problems)
        number = cell_text(get(NUMBER)).upper()
        facts = certificates.get(number)
        if not number:
            problem(NUMBER, "required", "请填写证书编号")
        elif facts is None:
            problem(NUMBER, "certificate_not_found", "未找到该编号的证书")
        elif facts.state != "valid":
            problem(NUMBER, "certificate_not_valid", f"证书状态为“{facts.state_label}”，不能登记学时")
        id_number = cell_text(get(ID_NUMBER)).upper()
        if not id_number:
            problem(ID_NUMBER, "required", "请填写身份证号")
        elif facts is not None and facts.id_number != id_number:
            problem(ID_NUMBER, "holder_mismatch", "身份证号与该证书持证人不一致")
        studied_on = parse_date(get(STUDIED_ON))
        if studied_on is None:
            problem(STUDIED_ON, "invalid_date", "学习日期格式不正确（应为 2026-03-01）")
        hours_value: float | None = None
        try:
            hours_value = float(cell_text(get(HOURS)))
        except ValueError:
            problem(HOURS, "invalid_hours", "学时应为数字（如 4 或 2.5）")
        kind = KINDS.get(cell_text(get(KIND)))
        if kind is None:
            problem(KIND, "invalid_kind", "类别应为 专业科目 或 公共科目")
        course = cell_text(get(COURSE))
        if studied_on is not None and hours_value is not None:
            for field, code, message in hours_rules.record_problems(
                studied_on=studied_on,
                hours=hours_value,
                kind=kind or "professional",
                course=course,
                issued_on=facts.issued_on if facts is not None else date.min,
                today=today,
                rules=rules,
            ):
                column = {"studied_on": STUDIED_ON, "hours": HOURS, "kind": KIND, "course": COURSE}[field]
                problem(column, code, message)
        elif not course:
            problem(COURSE, "required", "请填写课程名称")
        if len(problems) == before and facts is not None and studied_on and hours_value and kind:
            key = hours_rules.natural_key(
                certificate_id=facts.certificate_id,
                source="import",
                course=course,
                studied_on=studied_on,
                kind=kind,
            )
            kept = recorded.get(key)
            if key in seen:
                problem(
                    COURSE,
                    "duplicate_in_sheet",
                    f"与第 {seen[key]} 行重复（同一证书、学习日期、课程名称和类别只能登记一条）",
                )
                continue
            seen[key] = offset
            if kept is not None:
                problem(
                    COURSE,
                    "already_recorded",
                    f"证书 {number} 在 {kept.studied_on} 已登记课程“{kept.course}”"
                    f"（{hours_rules.KIND_LABELS.get(kept.kind, kept.kind)}）"
                    f"{kept.hours:g} 学时，不能重复登记",
                )
                continue
            records.append(
                HoursRow(offset, facts.certificate_id, number, studied_on, hours_value, kind, course)
            )
    return records, problems


def legacy_rows(
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    *,
    existing_numbers: set[str],
    today: date,
) -> tuple[list[LegacyRow], list[RowProblem]]:
    """Validate the old-style certificates sheet; `existing_numbers` are numbers already known."""
    columns, problems = _columns(header, LEGACY_REQUIRED, LEGACY_COLUMNS)
    if problems:
        return [], problems
    records: list[LegacyRow] = []
    seen: dict[str, int] = {}
    for offset, row in enumerate(rows, start=2):
        if _is_blank(row):
            continue

        def get(name: str, row: Sequence[object] = row) -> object:
            i = columns.get(name)
            return row[i] if i is not None and i < len(row) else None

        found = legacy_problems(
            number=cell_text(get(NUMBER)).upper(),
            holder_name=cell_text(get(NAME)),
            gender=cell_text(get(GENDER)),
            id_number=cell_text(get(ID_NUMBER)).upper(),
            position=cell_text(get(POSITION)),
            specialisation=cell_text(get(SPECIALISATION)) or None,
            issued_on_value=get(ISSUED_ON),
            today=today,
        )
        number = cell_text(get(NUMBER)).upper()
        if number and number in seen:
            found.append((NUMBER, "duplicate_in_sheet", f"与第 {seen[number]} 行的证书编号重复"))
        elif number in existing_numbers:
            found.append((NUMBER, "certificate_exists", "该证书编号已导入"))
        seen.setdefault(number, offset)
        for column, code, message in found:
            problems.append(
                RowProblem(offset, column, cell_text(get(column)), code, f"第 {offset} 行：{message}")
            )
        if not found:
            issued_on = parse_date(get(ISSUED_ON))
            assert issued_on is not None
            records.append(
                LegacyRow(
                    row=offset,
                    certificate_number=number,
                    holder_name=cell_text(get(NAME)),
                    gender=cell_text(get(GENDER)),
                    id_number=cell_text(get(ID_NUMBER)).upper(),
                    position=cell_text(get(POSITION)),
                    specialisation=cell_text(get(SPECIALISATION)) or None,
                    issued_on=issued_on,
                    issuer=cell_text(get(ISSUER)),
                )
            )
    return records, problems


def legacy_problems(
    *,
    number: str,
    holder_name: str,
    gender: str,
    id_number: str,
    position: str,
    specialisation: str | None,
    issued_on_value: object,
    today: date,
) -> list[tuple[str, str, str]]:
    """What is wrong with one old-style certificate, as (column, code, message)."""
    found: list[tuple[str, str, str]] = []
    if not number:
        found.append((NUMBER, "required", "请填写证书编号"))
    elif not LEGACY_NUMBER.match(number):
        found.append((NUMBER, "invalid_number", "证书编号应为 4–40 位字母、数字或连字符"))
    if not holder_name:
        found.append((NAME, "required", "请填写姓名"))
    elif len(holder_name) > 30:
        found.append((NAME, "too_long", "姓名过长"))
    if gender not in GENDERS:
        found.append((GENDER, "invalid_gender", "性别应为 男 或 女"))
    if not id_number_ok(id_number):
        found.append((ID_NUMBER, "invalid_id_number", "身份证号不正确（18 位，校验位须正确）"))
    elif gender in GENDERS and (int(id_number[16]) % 2 == 1) != (gender == "男"):
        found.append((GENDER, "gender_mismatch", "性别与身份证号不一致"))
    if position not in POSITIONS:
        found.append((POSITION, "invalid_position", f"岗位应为：{'、'.join(POSITIONS)}"))
    else:
        allowed = POSITIONS[position]
        if allowed and specialisation not in allowed:
            found.append(
                (SPECIALISATION, "invalid_specialisation", f"{position}须填写专业方向：{'、'.join(allowed)}")
            )
        if not allowed and specialisation:
            found.append((SPECIALISATION, "invalid_specialisation", f"{position}没有专业方向，请不要填写"))
    issued_on = parse_date(issued_on_value)
    if issued_on is None:
        found.append((ISSUED_ON, "invalid_date", "发证日期格式不正确（应为 2016-05-20）"))
    elif issued_on > today:
        found.append((ISSUED_ON, "date_in_future", "发证日期不能晚于今天"))
    return found
