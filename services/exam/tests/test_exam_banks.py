"""Question banks: row validation (every problem of every row, each code), the bank's stream (parts,
retirement), the .xlsx reader on bad files, the template read back by the reader, and the demo banks."""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from typing import Any

import pytest
from events.reference import POSITIONS
from exam.adapters.bank_sheet import (
    KIND_CHOICES,
    NOTES_TITLE,
    TEMPLATE_TITLE,
    BankSheetError,
    bank_template,
    read_bank_sheet,
)
from exam.application.banks import DEMO_MARK, demo_bank_id, demo_banks
from exam.domain import bank as b
from exam.domain.events import QuestionBankImported, QuestionBankRetired
from exam.domain.paper import DEFAULT_PAPER_RULE
from openpyxl import Workbook, load_workbook
from servicekit.errors import DomainError

HEADER = list(b.COLUMNS)  # 题型 题干 选项A..选项F 答案 分值


def row(
    kind: object, stem: object, options: list[object], answer: object, points: object = None
) -> list[object]:
    return [kind, stem, *options, *([None] * (6 - len(options))), answer, points]


GOOD_ROWS = [
    row("单选", "施工现场临时用电应采用（　）系统。", ["TN-S", "TN-C", "TT"], "A", 2),
    row("多选题", "施工现场的“三宝”是指（　）。", ["安全帽", "安全带", "安全网", "绝缘鞋"], "a,b、c", "3"),
    row("判断", "特种作业人员须持证上岗。", [], "正确"),
    row("判断题", "安全帽受过重击后仍可使用。", [], "×", 2.0),
]


def validate(rows: list[list[object]], header: list[object] | None = None, **kw: Any) -> b.BankValidation:
    return b.validate_bank(header or HEADER, rows, bank_id="bank-1", **kw)


def codes(result: b.BankValidation) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in result.problems]


def test_valid_rows_become_questions() -> None:
    result = validate(GOOD_ROWS)
    assert result.ok and result.rows_read == 4
    single, multiple, judge_yes, judge_no = result.questions
    assert (single.kind, single.options, single.answer, single.points) == (
        "single",
        ["TN-S", "TN-C", "TT"],
        [0],
        2,
    )
    assert single.stem == "施工现场临时用电应采用（　）系统。"  # the text as written (full-width kept)
    assert (multiple.kind, multiple.answer, multiple.points) == ("multiple", [0, 1, 2], 3)
    assert (judge_yes.options, judge_yes.answer, judge_yes.points) == (["正确", "错误"], [0], None)
    assert (judge_no.answer, judge_no.points) == ([1], 2)
    assert result.counts() == {"single": 1, "multiple": 1, "judge": 2}
    # ids: deterministic per bank and row, different across banks
    assert single.question_id == b.question_id("bank-1", 2) == validate(GOOD_ROWS).questions[0].question_id
    other = b.validate_bank(HEADER, GOOD_ROWS, bank_id="bank-2").questions[0]
    assert other.question_id != single.question_id
    assert len({q.question_id for q in result.questions}) == 4


@pytest.mark.parametrize("answer", ["正确", "对", "√", "✓", " 正 确 "])
def test_judge_true_answers(answer: str) -> None:
    assert validate([row("判断", "题", [], answer)]).questions[0].answer == [0]


@pytest.mark.parametrize("answer", ["错误", "错", "×", "✗"])
def test_judge_false_answers(answer: str) -> None:
    assert validate([row("判断", "题", [], answer)]).questions[0].answer == [1]


def test_header_variants_and_other_columns() -> None:
    header: list[object] = ["*题型", " 题 干 ", "选项Ａ", "选项 b", "选项C", "解析", "答案：", None]
    rows: list[list[object]] = [["单选", "题目", "甲", "乙", "丙", "这是解析", "Ｃ", None]]
    result = validate(rows, header=header)
    assert (
        result.ok and result.questions[0].answer == [2] and result.questions[0].options == ["甲", "乙", "丙"]
    )


def test_missing_and_duplicate_columns() -> None:
    result = validate(
        [row("单选", "题", ["a", "b"], "A")], header=["题型", "选项A", "选项A", "答案"], header_row=3
    )
    assert codes(result) == [
        (3, "选项A", b.COLUMN_DUPLICATE),
        (3, "题干", b.COLUMN_MISSING),
        (3, "选项B", b.COLUMN_MISSING),
    ]
    assert result.questions == [] and result.rows_read == 0
    assert "第 3 行表头缺少必填列“题干”" in result.problems[1].message


def test_every_problem_of_every_row() -> None:
    rows: list[list[object]] = [
        row("单选", "好题", ["a", "b"], "A"),  # row 2: fine
        row(None, "", ["a"], None, 0),  # row 3
        [None] * 9,  # row 4: blank, skipped but counted
        row("填空", "题三", ["a", "b"], "A"),  # row 5
        row("多选", "题四", ["a", None, "c"], "AG", "二"),  # row 6
        row("判断", "好题", ["正确", "错误"], "是"),  # row 7
    ]
    result = validate(rows)
    assert codes(result) == [
        (3, "题型", b.KIND_REQUIRED),
        (3, "题干", b.STEM_REQUIRED),
        (3, "答案", b.ANSWER_REQUIRED),
        (3, "分值", b.POINTS_INVALID),
        (5, "题型", b.KIND_INVALID),
        (6, "选项B", b.OPTION_GAP),
        (6, "答案", b.ANSWER_INVALID),
        (6, "分值", b.POINTS_INVALID),
        (7, "题干", b.STEM_DUPLICATE),
        (7, "选项A", b.JUDGE_OPTIONS_FILLED),
        (7, "答案", b.ANSWER_INVALID),
    ]
    assert [q.stem for q in result.questions] == ["好题"] and result.rows_read == 5
    by_code = {p.code: p for p in result.problems}
    assert by_code[b.STEM_DUPLICATE].message == "第 7 行“题干”与第 2 行的题干相同，同一题库中题目不能重复"
    assert by_code[b.KIND_INVALID].value == "填空" and "单选、多选或判断" in by_code[b.KIND_INVALID].message
    assert by_code[b.OPTION_GAP].message.startswith("第 6 行“选项B”为空，但后面的“选项C”已填写")


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        (row("单选", "题", ["a"], "A"), "选项B", b.OPTIONS_TOO_FEW),
        (row("单选", "题", ["a", "b", " ａ "], "A"), "选项C", b.OPTION_DUPLICATE),
        (row("单选", "题", ["a", "b" * 201], "A"), "选项B", b.OPTION_TOO_LONG),
        (row("单选", "题" * 501, ["a", "b"], "A"), "题干", b.STEM_TOO_LONG),
        (row("单选", "题", ["a", "b"], "AB"), "答案", b.ANSWER_COUNT),
        (row("多选", "题", ["a", "b", "c"], "B"), "答案", b.ANSWER_COUNT),
        (row("单选", "题", ["a", "b"], "D"), "答案", b.ANSWER_NOT_AN_OPTION),
        (row("多选", "题", ["a", "b", "c"], "AAB"), "答案", b.ANSWER_INVALID),
        (row("单选", "题", ["a", "b"], "正确"), "答案", b.ANSWER_INVALID),
        (row("判断", "题", [], "A"), "答案", b.ANSWER_INVALID),
        (row("单选", "题", ["a", "b"], "A", 101), "分值", b.POINTS_INVALID),
        (row("单选", "题", ["a", "b"], "A", 1.5), "分值", b.POINTS_INVALID),
        (row("单选", "题", ["a", "b"], "A", -2), "分值", b.POINTS_INVALID),
    ],
)
def test_each_row_code(cells: list[object], column: str, code: str) -> None:
    result = validate([cells])
    assert [(p.row, p.column, p.code) for p in result.problems] == [(2, column, code)]
    assert result.questions == []
    assert result.problems[0].message.startswith(f"第 2 行“{column}”")


def test_an_answer_naming_empty_options_with_too_few_options() -> None:
    result = validate([row("多选", "题", [], "AB")])
    assert codes(result) == [(2, "选项A", b.OPTIONS_TOO_FEW), (2, "答案", b.ANSWER_NOT_AN_OPTION)]
    assert "A、B 没有对应的选项内容" in result.problems[1].message


def test_numbers_and_points_in_cells() -> None:
    result = validate([row("单选", "2 的 10 次方是（　）。", [1024, 1000.0, "512"], "A", "5分")])
    assert result.ok
    question = result.questions[0]
    assert question.options == ["1024", "1000", "512"] and question.points == 5


def test_too_many_questions() -> None:
    rows = [row("判断", f"题{i}", [], "对") for i in range(5)]
    result = validate(rows, rules=b.BankRules(max_questions=3))
    assert codes(result) == [(5, "", b.TOO_MANY_QUESTIONS)] and len(result.questions) == 3


# ---------------------------------------------------------------- the bank's stream


def form(count: int, **extra: Any) -> b.BankForm:
    questions = validate([row("判断", f"题{i}", [], "对") for i in range(count)]).questions
    values: dict[str, Any] = {
        "bank_id": "bank-1",
        "owner_id": "inst-1",
        "position": "施工员",
        "title": " 土建题库 ",
        "questions": questions,
        "specialisation": "土建施工",
    }
    values.update(extra)
    return b.BankForm(**values)


def test_import_bank_in_parts() -> None:
    events = b.import_bank([], form(450))
    assert [len(e.questions) for e in events if isinstance(e, QuestionBankImported)] == [200, 200, 50]
    assert all(isinstance(e, QuestionBankImported) for e in events)
    parts = [e for e in events if isinstance(e, QuestionBankImported)]
    assert [(e.part, e.parts, e.bank_id, e.title) for e in parts] == [
        (1, 3, "bank-1", "土建题库"),
        (2, 3, "bank-1", "土建题库"),
        (3, 3, "bank-1", "土建题库"),
    ]
    ids = [q.question_id for e in parts for q in e.questions]
    assert len(set(ids)) == 450
    assert len(b.import_bank([], form(200))) == 1
    with pytest.raises(DomainError) as exists:
        b.import_bank(events, form(1))
    assert exists.value.code == "bank_exists" and exists.value.status == 409


def test_import_bank_refuses_a_wrong_form() -> None:
    with pytest.raises(DomainError) as caught:
        b.import_bank([], form(0))
    assert caught.value.code == "bank_empty"
    with pytest.raises(DomainError) as caught:
        b.import_bank([], form(1, position="木工", title=""))
    assert caught.value.code == "bank_invalid"
    assert [d["code"] for d in caught.value.details or []] == ["bank_position_invalid", "bank_title_required"]
    assert b.check_position("安全员", "土建施工")[0]["code"] == "bank_specialisation_invalid"
    assert b.check_position("施工员", "园林")[0]["code"] == "bank_specialisation_invalid"
    assert b.check_position("施工员", None) == [] and b.check_position("质量员", "市政工程") == []
    assert b.check_position("资料员", None) == []


def test_retire_bank() -> None:
    history = b.import_bank([], form(3))
    with pytest.raises(DomainError) as missing:
        b.retire_bank([], bank_id="bank-1", by_owner=None)
    assert missing.value.code == "bank_not_found" and missing.value.status == 404
    with pytest.raises(DomainError) as foreign:
        b.retire_bank(history, bank_id="bank-1", by_owner="inst-2")
    assert foreign.value.code == "bank_not_found" and foreign.value.status == 404
    retired = b.retire_bank(history, bank_id="bank-1", by_owner="inst-1", retired_by="acc-1")
    assert retired == [QuestionBankRetired(bank_id="bank-1", owner_id="inst-1", retired_by="acc-1")]
    with pytest.raises(DomainError) as twice:
        b.retire_bank([*history, *retired], bank_id="bank-1", by_owner=None)
    assert twice.value.code == "bank_already_retired" and twice.value.status == 409

    admins = b.import_bank([], form(3, owner_id="admin"))
    with pytest.raises(DomainError) as not_owner:
        b.retire_bank(admins, bank_id="bank-1", by_owner="inst-1")
    assert not_owner.value.code == "bank_not_owner" and not_owner.value.status == 403
    assert b.retire_bank(admins, bank_id="bank-1", by_owner=None)[0].owner_id == "admin"


# ---------------------------------------------------------------- .xlsx


def xlsx(rows: list[list[object]], *, title_row: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if title_row:
        sheet.append([title_row])
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_template_round_trip() -> None:
    data = bank_template()
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == [TEMPLATE_TITLE, NOTES_TITLE]
    sheet = workbook[TEMPLATE_TITLE]
    assert [c.value for c in sheet[1]] == HEADER
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1 and validations[0].formula1 == '"' + ",".join(KIND_CHOICES) + '"'
    assert str(validations[0].sqref).startswith("A2:A")
    notes = "\n".join(str(c.value) for c in workbook[NOTES_TITLE]["A"] if c.value)
    assert "判断题的选项固定为“正确”“错误”" in notes

    # the empty template reads back as a header and no question
    empty = read_bank_sheet(data)
    assert empty.header == HEADER and empty.rows == [] and empty.header_row == 1
    assert b.validate_bank(empty.header, empty.rows, bank_id="x").questions == []

    # filled in (as an author would, in the template itself), it reads back into the same questions
    for number, cells in enumerate(GOOD_ROWS, start=2):
        for column, value in enumerate(cells, start=1):
            sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    filled = read_bank_sheet(buffer.getvalue())
    result = b.validate_bank(filled.header, filled.rows, bank_id="bank-1", header_row=filled.header_row)
    assert result.ok and result.questions == validate(GOOD_ROWS).questions


def test_reader_skips_a_title_row_and_keeps_row_numbers() -> None:
    rows: list[list[object]] = [HEADER, GOOD_ROWS[0], [None] * 10, row("单选", "题", ["a"], "A")]
    sheet = read_bank_sheet(xlsx(rows, title_row="2026 年施工员题库"))
    assert sheet.header_row == 2
    result = b.validate_bank(sheet.header, sheet.rows, bank_id="x", header_row=sheet.header_row)
    assert [(p.row, p.code) for p in result.problems] == [(5, b.OPTIONS_TOO_FEW)]


def test_reader_without_a_header_reports_the_missing_columns() -> None:
    sheet = read_bank_sheet(xlsx([["第一题", "内容"], ["第二题", "内容"]]))
    result = b.validate_bank(sheet.header, sheet.rows, bank_id="x", header_row=sheet.header_row)
    assert {p.code for p in result.problems} == {b.COLUMN_MISSING}
    assert [p.column for p in result.problems] == list(b.REQUIRED_COLUMNS)


def zipped(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"", "bank_file_empty", 422),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "bank_file_not_xlsx", 422),
        ("题型,题干\n单选,题".encode(), "bank_file_not_xlsx", 422),
        (zipped({"word/document.xml": b"<w/>"}), "bank_file_not_xlsx", 422),
        (b"PK\x03\x04 broken", "bank_file_not_xlsx", 422),
        (zipped({"xl/workbook.xml": b"not xml"}), "bank_file_not_xlsx", 422),
        (xlsx([]), "bank_sheet_empty", 422),
        (xlsx([[None, None], ["", "  "]]), "bank_sheet_empty", 422),
    ],
)
def test_bad_files(data: bytes, code: str, status: int) -> None:
    with pytest.raises(BankSheetError) as caught:
        read_bank_sheet(data)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.message  # a Chinese sentence the user can act on


def test_size_and_row_limits() -> None:
    data = xlsx([HEADER, *GOOD_ROWS])
    with pytest.raises(BankSheetError) as large:
        read_bank_sheet(data, max_bytes=len(data) - 1)
    assert large.value.code == "bank_file_too_large" and large.value.status == 413
    assert len(read_bank_sheet(data, max_rows=4).rows) == 4
    with pytest.raises(BankSheetError) as many:
        read_bank_sheet(data, max_rows=3)
    assert many.value.code == "bank_too_many_questions"
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    with pytest.raises(BankSheetError) as xls:
        read_bank_sheet(old_excel)
    assert ".xls" in xls.value.message


# ---------------------------------------------------------------- demo banks


def test_demo_bank_files_are_package_data() -> None:
    folder = resources.files("exam.data.demo_banks")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))
    assert "common.json" in names and len(names) == 1 + len(POSITIONS)
    common = json.loads(folder.joinpath("common.json").read_text("utf-8"))
    assert common["title"].startswith(DEMO_MARK) and common["demo"] is True
    topics = common["title"]
    assert all(topic in topics for topic in ("建设法规", "安全生产", "质量管理", "职业道德"))


def test_demo_banks_serve_every_position_with_the_default_rule() -> None:
    banks = demo_banks()
    assert sorted(bank.position for bank in banks) == sorted(POSITIONS)
    rule = DEFAULT_PAPER_RULE
    for bank in banks:
        assert bank.title.startswith(DEMO_MARK) and bank.specialisation is None
        counts = b.kind_counts(bank.questions)
        assert counts["single"] >= max(24, rule.single.count)
        assert counts["multiple"] >= max(12, rule.multiple.count)
        assert counts["judge"] >= max(18, rule.judge.count)
        assert bank.bank_id == demo_bank_id(bank.position)  # deterministic: a second load changes nothing
        assert len({q.question_id for q in bank.questions}) == len(bank.questions)
    assert len({bank.bank_id for bank in banks}) == len(banks)
    # each position has questions of its own besides the common pool
    stems = [{q.stem for q in bank.questions} for bank in banks]
    common = set.intersection(*stems)
    assert all(len(s - common) >= 10 for s in stems)
    assert demo_banks() == banks
