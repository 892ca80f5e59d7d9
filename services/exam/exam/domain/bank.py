"""Question banks (pure): the rows of an imported sheet, validated completely, and the bank's stream.

A bank sheet has one question a row: 题型 (单选/多选/判断), 题干, 选项A…选项F, 答案, 分值 (optional). Every
problem of every row is reported at once as (row, column, value, code, message) with the row numbers the
author sees in Excel; a bank is imported only when there is no problem at all. A valid row becomes a
`BankQuestion` whose id is derived from the bank id and the row, so the same sheet imported under the same
bank id gives the same question ids.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from events import DomainEvent
from events.exam import QuestionKind
from events.reference import POSITIONS
from servicekit.errors import Conflict, DomainError, Forbidden

from exam.domain.events import BankQuestion, QuestionBankImported, QuestionBankRetired

KIND = "题型"
STEM = "题干"
OPTION_LETTERS = "ABCDEF"
OPTIONS: tuple[str, ...] = tuple(f"选项{letter}" for letter in OPTION_LETTERS)
ANSWER = "答案"
POINTS = "分值"

REQUIRED_COLUMNS: tuple[str, ...] = (KIND, STEM, OPTIONS[0], OPTIONS[1], ANSWER)
COLUMNS: tuple[str, ...] = (KIND, STEM, *OPTIONS, ANSWER, POINTS)

KIND_LABELS: dict[str, str] = {"single": "单选", "multiple": "多选", "judge": "判断"}
_KIND_NAMES: dict[str, QuestionKind] = {
    "单选": "single",
    "单选题": "single",
    "单项选择": "single",
    "单项选择题": "single",
    "多选": "multiple",
    "多选题": "multiple",
    "多项选择": "multiple",
    "多项选择题": "multiple",
    "判断": "judge",
    "判断题": "judge",
}
JUDGE_OPTIONS: tuple[str, str] = ("正确", "错误")
_JUDGE_ANSWERS: dict[str, int] = {
    "正确": 0,
    "对": 0,
    "√": 0,
    "✓": 0,
    "✔": 0,
    "错误": 1,
    "错": 1,
    "×": 1,
    "✗": 1,
    "✘": 1,
}
_ANSWER_SEPARATORS = " ,，、;；/"

MAX_STEM_CHARS = 500
MAX_OPTION_CHARS = 200
MAX_POINTS = 100
DEFAULT_MAX_QUESTIONS = 3000
CHUNK = 200  # questions per QuestionBankImported event: keeps every Kafka message small

QUESTION_NAMESPACE = uuid.UUID("6f1c2a1e-4b7d-5c1a-9e51-3d2f0a8b7c64")

# Problem codes (stable).
COLUMN_MISSING = "bank_column_missing"
COLUMN_DUPLICATE = "bank_column_duplicate"
KIND_REQUIRED = "bank_kind_required"
KIND_INVALID = "bank_kind_invalid"
STEM_REQUIRED = "bank_stem_required"
STEM_TOO_LONG = "bank_stem_too_long"
STEM_DUPLICATE = "bank_stem_duplicate"
OPTIONS_TOO_FEW = "bank_options_too_few"
OPTION_GAP = "bank_option_gap"
OPTION_DUPLICATE = "bank_option_duplicate"
OPTION_TOO_LONG = "bank_option_too_long"
JUDGE_OPTIONS_FILLED = "bank_judge_options_filled"
ANSWER_REQUIRED = "bank_answer_required"
ANSWER_INVALID = "bank_answer_invalid"
ANSWER_NOT_AN_OPTION = "bank_answer_not_an_option"
ANSWER_COUNT = "bank_answer_count"
POINTS_INVALID = "bank_points_invalid"
TOO_MANY_QUESTIONS = "bank_too_many_questions"


@dataclass(frozen=True)
class RowProblem:
    """One problem: spreadsheet row number (header problems: the header row), column, the value as read."""

    row: int
    column: str
    value: str
    code: str
    message: str


@dataclass(frozen=True)
class BankValidation:
    questions: list[BankQuestion]
    problems: list[RowProblem]
    rows_read: int  # non-empty data rows

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        return kind_counts(self.questions)


def kind_counts(questions: Iterable[BankQuestion]) -> dict[str, int]:
    counts = dict.fromkeys(KIND_LABELS, 0)
    for question in questions:
        counts[question.kind] += 1
    return counts


def question_id(bank_id: str, row: int) -> str:
    """The id of the question read from `row` of the bank's sheet: the same for the same bank and row."""
    return uuid.uuid5(QUESTION_NAMESPACE, f"{bank_id}:{row}").hex


def normalize_text(value: object) -> str:
    """A cell as text, spaces at the ends removed (the text itself is kept as written: Chinese punctuation
    stays full-width). Numbers typed into a cell come back as typed (`100`, not `100.0`); dates as
    YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "正确" if value else "错误"  # Excel's TRUE/FALSE in a cell
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip(" \t\r\n\u3000\u00a0\u200b")


def _compact(value: object) -> str:
    """A cell folded for reading a keyword: full-width letters and digits as ASCII (NFKC), no spaces."""
    return "".join(unicodedata.normalize("NFKC", normalize_text(value)).split())


def header_key(value: object) -> str:
    # "选项 A", "选项Ａ", "*题干", "答案：" all name their column; "选项a" too.
    key = _compact(value).strip("*：:")
    if key.startswith("选项") and len(key) == 3:
        key = "选项" + key[2].upper()
    return key


def _stem_key(stem: str) -> str:
    """Two stems that differ only in spaces or punctuation width are the same question."""
    return "".join(unicodedata.normalize("NFKC", stem).split()).rstrip("。.?() _")


@dataclass
class _Header:
    columns: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _read_header(cells: Sequence[object], header_row: int) -> _Header:
    header = _Header()
    for index, cell in enumerate(cells):
        key = header_key(cell)
        if key not in COLUMNS:
            continue  # other columns (解析, 备注 …) are ignored
        if key in header.columns:
            first = _column_letter(header.columns[key])
            header.problems.append(
                RowProblem(
                    header_row,
                    key,
                    normalize_text(cell),
                    COLUMN_DUPLICATE,
                    f"第 {header_row} 行表头“{key}”出现了两次（{first} 列和 {_column_letter(index)} 列），"
                    "请删除多余的一列",
                )
            )
        else:
            header.columns[key] = index
    for expected in REQUIRED_COLUMNS:
        if expected not in header.columns:
            header.problems.append(
                RowProblem(
                    header_row,
                    expected,
                    "",
                    COLUMN_MISSING,
                    f"第 {header_row} 行表头缺少必填列“{expected}”（表头应为：{'、'.join(COLUMNS)}；"
                    "请使用系统下载的题库模板）",
                )
            )
    return header


def _parse_kind(value: object) -> QuestionKind | None:
    return _KIND_NAMES.get(_compact(value))


def _parse_points(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        number = int(value)
    else:
        text = _compact(value).removesuffix("分")
        if not (text.isascii() and text.isdigit()):
            return None
        number = int(text)
    return number if 1 <= number <= MAX_POINTS else None


def _parse_letters(text: str) -> list[int] | None:
    """ "ABD", "A,B,D", "a b d" → [0, 1, 3]; None for anything else (or a letter twice)."""
    letters = [ch for ch in text.upper() if ch not in _ANSWER_SEPARATORS]
    if not letters or any(ch not in OPTION_LETTERS for ch in letters) or len(set(letters)) != len(letters):
        return None
    return sorted(OPTION_LETTERS.index(ch) for ch in letters)


@dataclass(frozen=True)
class BankRules:
    max_questions: int = DEFAULT_MAX_QUESTIONS


def validate_bank(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    bank_id: str,
    rules: BankRules | None = None,
    header_row: int = 1,
) -> BankValidation:
    """Validate a bank sheet: every problem of every row, and a `BankQuestion` for each valid row.

    `rows` are the rows below the header, blank rows included (skipped but counted, so that row numbers
    match Excel's). A missing required column stops validation after the header.
    """
    rules = rules or BankRules()
    parsed = _read_header(header, header_row)
    problems = list(parsed.problems)
    questions: list[BankQuestion] = []
    if any(p.code == COLUMN_MISSING for p in problems):
        return BankValidation(questions, problems, 0)

    columns = parsed.columns
    used = sorted(columns.values())
    width_needed = used[-1] + 1
    option_columns = [(name, columns.get(name)) for name in OPTIONS]
    stems: dict[str, int] = {}
    rows_read = 0

    def problem(row: int, column: str, value: object, code: str, detail: str) -> None:
        problems.append(
            RowProblem(row, column, normalize_text(value), code, f"第 {row} 行“{column}”{detail}")
        )

    row_number = header_row
    for raw in rows:
        row_number += 1
        cells = tuple(raw)
        if len(cells) < width_needed:
            cells = (*cells, *((None,) * (width_needed - len(cells))))
        if all(not normalize_text(cells[i]) for i in used):
            continue
        rows_read += 1
        if rows_read > rules.max_questions:
            problems.append(
                RowProblem(
                    row_number,
                    "",
                    "",
                    TOO_MANY_QUESTIONS,
                    f"第 {row_number} 行：一个题库最多 {rules.max_questions} 道题，请分成多个题库导入",
                )
            )
            rows_read -= 1
            break
        before = len(problems)

        # 题型
        raw_kind = cells[columns[KIND]]
        kind = _parse_kind(raw_kind)
        if not normalize_text(raw_kind):
            problem(row_number, KIND, raw_kind, KIND_REQUIRED, "为空，请填写题型：单选、多选或判断")
        elif kind is None:
            problem(
                row_number,
                KIND,
                raw_kind,
                KIND_INVALID,
                f"“{normalize_text(raw_kind)}”不正确，题型应为：单选、多选或判断（可从下拉列表中选择）",
            )

        # 题干
        raw_stem = cells[columns[STEM]]
        stem = normalize_text(raw_stem)
        if not stem:
            problem(row_number, STEM, raw_stem, STEM_REQUIRED, "为空，请填写题目内容")
        elif len(stem) > MAX_STEM_CHARS:
            problem(
                row_number,
                STEM,
                stem[:40] + "…",
                STEM_TOO_LONG,
                f"过长（{len(stem)} 字），题干最多 {MAX_STEM_CHARS} 字",
            )
        else:
            key = _stem_key(stem)
            first = stems.get(key)
            if first is not None:
                problem(
                    row_number,
                    STEM,
                    raw_stem,
                    STEM_DUPLICATE,
                    f"与第 {first} 行的题干相同，同一题库中题目不能重复",
                )
            else:
                stems[key] = row_number

        # 选项A…选项F: filled from A on, without gaps.
        texts = [(name, normalize_text(None if i is None else cells[i])) for name, i in option_columns]
        filled = [name for name, text in texts if text]
        options: list[str] = []
        if kind == "judge":
            if filled:
                problem(
                    row_number,
                    filled[0],
                    dict(texts)[filled[0]],
                    JUDGE_OPTIONS_FILLED,
                    "应为空：判断题的选项固定为“正确”“错误”，请不要填写选项，答案填写“正确”或“错误”",
                )
            options = list(JUDGE_OPTIONS)
        elif kind is not None:
            last = max((i for i, (_, text) in enumerate(texts) if text), default=-1)
            gaps = [name for name, text in texts[: max(last, 0)] if not text]
            for name in gaps:
                following = next(n for n, t in texts[OPTIONS.index(name) + 1 :] if t)
                problem(
                    row_number,
                    name,
                    "",
                    OPTION_GAP,
                    f"为空，但后面的“{following}”已填写：选项须从选项A起依次填写，中间不能空缺",
                )
            if len(filled) < 2:
                problem(
                    row_number,
                    next(name for name, text in texts if not text),
                    "",
                    OPTIONS_TOO_FEW,
                    f"为空：{KIND_LABELS[kind]}题至少需要 2 个选项（选项A、选项B），最多 6 个",
                )
            seen: dict[str, str] = {}
            for name, text in texts:
                if not text:
                    continue
                if len(text) > MAX_OPTION_CHARS:
                    problem(
                        row_number,
                        name,
                        text[:40] + "…",
                        OPTION_TOO_LONG,
                        f"过长（{len(text)} 字），选项最多 {MAX_OPTION_CHARS} 字",
                    )
                folded = _compact(text)
                other = seen.get(folded)
                if other is not None:
                    problem(row_number, name, text, OPTION_DUPLICATE, f"与“{other}”的内容相同，选项不能重复")
                else:
                    seen[folded] = name
            options = [text for _, text in texts if text]

        # 答案
        raw_answer = cells[columns[ANSWER]]
        answer_text = _compact(raw_answer)
        answer: list[int] = []
        if not answer_text:
            problem(row_number, ANSWER, raw_answer, ANSWER_REQUIRED, "为空，请填写正确答案")
        elif kind == "judge":
            choice = _JUDGE_ANSWERS.get(answer_text)
            if choice is None:
                problem(
                    row_number,
                    ANSWER,
                    raw_answer,
                    ANSWER_INVALID,
                    f"“{normalize_text(raw_answer)}”不正确：判断题的答案应为“正确”或“错误”"
                    "（也可写 对/错、√/×）",
                )
            else:
                answer = [choice]
        elif kind is not None:
            letters = _parse_letters(answer_text)
            if letters is None:
                problem(
                    row_number,
                    ANSWER,
                    raw_answer,
                    ANSWER_INVALID,
                    f"“{normalize_text(raw_answer)}”不正确：答案应为选项字母，如单选“B”、多选“ABD”"
                    "（字母 A–F，每个字母只写一次）",
                )
            else:
                missing = [OPTION_LETTERS[i] for i in letters if not texts[i][1]]
                if missing:
                    problem(
                        row_number,
                        ANSWER,
                        raw_answer,
                        ANSWER_NOT_AN_OPTION,
                        f"“{normalize_text(raw_answer)}”中的 {'、'.join(missing)} 没有对应的选项内容"
                        f"（{'、'.join('选项' + m for m in missing)} 为空）",
                    )
                if kind == "single" and len(letters) != 1:
                    problem(
                        row_number,
                        ANSWER,
                        raw_answer,
                        ANSWER_COUNT,
                        f"“{normalize_text(raw_answer)}”有 {len(letters)} 个答案：单选题只能有一个正确答案",
                    )
                elif kind == "multiple" and len(letters) < 2:
                    problem(
                        row_number,
                        ANSWER,
                        raw_answer,
                        ANSWER_COUNT,
                        f"“{normalize_text(raw_answer)}”只有一个答案：多选题至少有两个正确答案"
                        "（只有一个正确答案的请改为单选题）",
                    )
                answer = letters

        # 分值 (optional)
        points: int | None = None
        i_points = columns.get(POINTS)
        raw_points = None if i_points is None else cells[i_points]
        if normalize_text(raw_points):
            points = _parse_points(raw_points)
            if points is None:
                problem(
                    row_number,
                    POINTS,
                    raw_points,
                    POINTS_INVALID,
                    f"“{normalize_text(raw_points)}”不正确：分值应为 1–{MAX_POINTS} 的整数，"
                    "或留空（按组卷规则计分）",
                )

        if len(problems) == before and kind is not None:
            questions.append(
                BankQuestion(
                    question_id=question_id(bank_id, row_number),
                    kind=kind,
                    stem=stem,
                    options=options,
                    answer=answer,
                    points=points,
                )
            )
    return BankValidation(questions, problems, rows_read)


# ------------------------------------------------------------------ the bank's stream


@dataclass(frozen=True)
class BankForm:
    bank_id: str
    owner_id: str  # institution id, or "admin"
    position: str
    title: str
    questions: Sequence[BankQuestion]
    specialisation: str | None = None
    demo: bool = False
    imported_by: str = ""


ADMIN_OWNER = "admin"
MAX_TITLE_CHARS = 100


def check_position(position: str, specialisation: str | None) -> list[dict[str, str]]:
    """What is wrong with a bank's position and specialisation (empty: nothing)."""
    problems: list[dict[str, str]] = []
    if position not in POSITIONS:
        problems.append(
            {
                "field": "position",
                "code": "bank_position_invalid",
                "message": f"岗位“{position}”不正确，应为：{'、'.join(POSITIONS)}",
            }
        )
    elif specialisation is not None:
        allowed = POSITIONS[position]
        if not allowed:
            problems.append(
                {
                    "field": "specialisation",
                    "code": "bank_specialisation_invalid",
                    "message": f"{position}没有专业方向，请不要填写",
                }
            )
        elif specialisation not in allowed:
            problems.append(
                {
                    "field": "specialisation",
                    "code": "bank_specialisation_invalid",
                    "message": f"{position}的专业方向应为：{'、'.join(allowed)}（不填则适用于所有专业方向）",
                }
            )
    return problems


def check_bank_fields(position: str, specialisation: str | None, title: str) -> None:
    """Refuse a bank whose position, specialisation or title is wrong (`bank_invalid`, every problem)."""
    problems = check_position(position, specialisation)
    title = title.strip()
    if not title:
        problems.append({"field": "title", "code": "bank_title_required", "message": "请填写题库名称"})
    elif len(title) > MAX_TITLE_CHARS:
        problems.append(
            {"field": "title", "code": "bank_title_too_long", "message": f"题库名称最多 {MAX_TITLE_CHARS} 字"}
        )
    if problems:
        raise DomainError(
            "题库信息不正确：" + "；".join(p["message"] for p in problems),
            code="bank_invalid",
            details=problems,
        )


def import_bank(history: Sequence[DomainEvent], form: BankForm, *, chunk: int = CHUNK) -> list[DomainEvent]:
    """A new bank: one QuestionBankImported per `chunk` questions, all appended at once."""
    if history:
        raise Conflict("该题库已导入", code="bank_exists")
    check_bank_fields(form.position, form.specialisation, form.title)
    title = form.title.strip()
    if not form.questions:
        raise DomainError("题库中没有题目", code="bank_empty")
    questions = list(form.questions)
    parts = (len(questions) + chunk - 1) // chunk
    return [
        QuestionBankImported(
            bank_id=form.bank_id,
            owner_id=form.owner_id,
            position=form.position,
            specialisation=form.specialisation,
            title=title,
            demo=form.demo,
            questions=questions[i * chunk : (i + 1) * chunk],
            part=i + 1,
            parts=parts,
            imported_by=form.imported_by,
        )
        for i in range(parts)
    ]


def bank_owner(history: Sequence[DomainEvent]) -> str | None:
    """The owner of the bank whose stream this is (None: no such bank)."""
    for event in history:
        if isinstance(event, QuestionBankImported):
            return event.owner_id
    return None


def retire_bank(
    history: Sequence[DomainEvent], *, bank_id: str, by_owner: str | None, retired_by: str = ""
) -> list[DomainEvent]:
    """Retire a bank. `by_owner`: the caller's organisation (None: an administrator, who may retire any)."""
    owner = bank_owner(history)
    if owner is None:
        raise DomainError("未找到该题库", code="bank_not_found", status=404)
    if by_owner is not None and owner != by_owner:
        if owner == ADMIN_OWNER:
            raise Forbidden("这是管理员的公共题库，只有管理员可以停用", code="bank_not_owner")
        raise DomainError("未找到该题库", code="bank_not_found", status=404)
    if any(isinstance(e, QuestionBankRetired) for e in history):
        raise Conflict("该题库已停用", code="bank_already_retired")
    return [QuestionBankRetired(bank_id=bank_id, owner_id=owner, retired_by=retired_by)]
