"""Papers: drawing (counts, points, shuffling that keeps the answers right, determinism), the bank-too-small
refusal, scoring (with and without partial credit), choosing the bank, and the EXAM_PAPER_RULE setting."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from exam.domain.events import BankQuestion, PaperQuestion
from exam.domain.paper import (
    DEFAULT_PAPER_RULE,
    KindRule,
    PaperRule,
    choose_bank,
    draw_paper,
    question_score,
    score,
)
from exam.settings import ExamSettings
from pydantic import ValidationError
from servicekit.errors import DomainError


def make_bank(single: int = 30, multiple: int = 15, judge: int = 20) -> list[BankQuestion]:
    questions: list[BankQuestion] = []
    for i in range(single):
        options = [f"单选{i}-选项{k}" for k in range(4 + i % 3)]  # 4..6 options
        questions.append(
            BankQuestion(
                question_id=f"s{i}", kind="single", stem=f"单选题{i}", options=options, answer=[i % 4]
            )
        )
    for i in range(multiple):
        options = [f"多选{i}-选项{k}" for k in range(5)]
        answer = sorted({i % 5, (i + 2) % 5, (i + 3) % 5})
        questions.append(
            BankQuestion(
                question_id=f"m{i}", kind="multiple", stem=f"多选题{i}", options=options, answer=answer
            )
        )
    for i in range(judge):
        questions.append(
            BankQuestion(
                question_id=f"j{i}", kind="judge", stem=f"判断题{i}", options=["正确", "错误"], answer=[i % 2]
            )
        )
    return questions


BANK = make_bank()
BY_ID = {q.question_id: q for q in BANK}


def test_default_rule_is_100_points() -> None:
    assert DEFAULT_PAPER_RULE.full_marks == 100
    assert DEFAULT_PAPER_RULE.problems() == []
    rule = PaperRule(KindRule(-1, 2), KindRule(1, 0), KindRule(0, 1))
    assert rule.problems() == ["单选题数量不能为负数", "多选题每题分值至少为 1 分"]
    assert PaperRule(KindRule(0, 1), KindRule(0, 1), KindRule(0, 1)).problems() == ["试卷至少需要一道题"]


def test_draw_counts_points_and_sections() -> None:
    paper = draw_paper(BANK, DEFAULT_PAPER_RULE, random.Random(7))
    kinds = [q.kind for q in paper]
    assert kinds == ["single"] * 20 + ["multiple"] * 10 + ["judge"] * 15
    assert len({q.question_id for q in paper}) == 45
    assert {q.kind: q.points for q in paper} == {"single": 2, "multiple": 3, "judge": 2}
    assert sum(q.points for q in paper) == DEFAULT_PAPER_RULE.full_marks == 100
    # every question comes from the bank, with the same stem and the same set of options
    for question in paper:
        source = BY_ID[question.question_id]
        assert question.stem == source.stem and sorted(question.options) == sorted(source.options)


def test_shuffling_keeps_the_answers_right() -> None:
    rule = PaperRule(KindRule(30, 1), KindRule(15, 1), KindRule(20, 1))  # the whole bank
    paper = draw_paper(BANK, rule, random.Random(2024))
    moved = 0
    for question in paper:
        source = BY_ID[question.question_id]
        chosen_texts = {question.options[i] for i in question.answer}
        assert chosen_texts == {source.options[i] for i in source.answer}
        assert question.answer == sorted(question.answer)
        if question.kind == "judge":
            assert question.options == ["正确", "错误"] and question.answer == source.answer
        elif question.options != source.options:
            moved += 1
    assert moved >= 35  # options really are shuffled (all but a few of the 45 choice questions)
    # and the question order inside a section is random, not the bank's
    assert [q.question_id for q in paper if q.kind == "single"] != [f"s{i}" for i in range(30)]


def test_draw_is_deterministic_for_a_seed() -> None:
    first = draw_paper(BANK, DEFAULT_PAPER_RULE, random.Random(42))
    again = draw_paper(BANK, DEFAULT_PAPER_RULE, random.Random(42))
    other = draw_paper(BANK, DEFAULT_PAPER_RULE, random.Random(43))
    assert first == again
    assert [q.question_id for q in first] != [q.question_id for q in other]


def test_a_kind_with_no_questions_in_the_rule() -> None:
    rule = PaperRule(KindRule(5, 10), KindRule(0, 3), KindRule(10, 5))
    paper = draw_paper(make_bank(single=5, multiple=0, judge=10), rule, random.Random(1))
    assert [q.kind for q in paper].count("multiple") == 0 and len(paper) == 15
    assert sum(q.points for q in paper) == rule.full_marks == 100


def test_bank_too_small_names_every_short_kind() -> None:
    with pytest.raises(DomainError) as caught:
        draw_paper(make_bank(single=19, multiple=10, judge=3), DEFAULT_PAPER_RULE, random.Random(1))
    error = caught.value
    assert error.code == "bank_too_small"
    assert error.details == [
        {"kind": "single", "label": "单选", "needed": 20, "available": 19},
        {"kind": "judge", "label": "判断", "needed": 15, "available": 3},
    ]
    assert "单选题需要 20 道，题库只有 19 道" in error.message and "判断题需要 15 道" in error.message


def pq(kind: Any, answer: list[int], points: int, qid: str = "q") -> PaperQuestion:
    options = ["正确", "错误"] if kind == "judge" else ["a", "b", "c", "d", "e"]
    return PaperQuestion(question_id=qid, kind=kind, stem="题", options=options, answer=answer, points=points)


def test_question_score() -> None:
    strict, partial = (
        DEFAULT_PAPER_RULE,
        PaperRule(DEFAULT_PAPER_RULE.single, DEFAULT_PAPER_RULE.multiple, DEFAULT_PAPER_RULE.judge, True),
    )
    single = pq("single", [2], 2)
    assert question_score(single, [2], strict) == 2
    assert question_score(single, [1], strict) == 0
    assert question_score(single, [2, 1], strict) == 0  # two picks on a single choice
    assert question_score(single, [2, 2], strict) == 0
    assert question_score(single, None, strict) == 0 and question_score(single, [], strict) == 0
    judge = pq("judge", [1], 2)
    assert question_score(judge, [1], strict) == 2 and question_score(judge, [0], strict) == 0

    multiple = pq("multiple", [0, 2, 3], 3)
    assert question_score(multiple, [3, 0, 2], strict) == 3  # order does not matter
    assert question_score(multiple, [0, 2], strict) == 0  # no partial credit by default
    assert question_score(multiple, [0, 2], partial) == 1  # half of 3, rounded down
    assert question_score(multiple, [0], partial) == 1
    assert question_score(multiple, [0, 1], partial) == 0  # a wrong option earns nothing
    assert question_score(multiple, [0, 1, 2, 3], partial) == 0  # a superset neither
    assert question_score(multiple, [0, 2, 3], partial) == 3
    assert question_score(multiple, [], partial) == 0
    four = pq("multiple", [0, 1], 4)
    assert question_score(four, [1], partial) == 2


def test_score_of_a_paper() -> None:
    paper = draw_paper(BANK, DEFAULT_PAPER_RULE, random.Random(5))
    right = {q.question_id: list(q.answer) for q in paper}
    assert score(paper, right, DEFAULT_PAPER_RULE) == 100
    assert score(paper, {}, DEFAULT_PAPER_RULE) == 0
    # wrong on every judge question, unanswered multiple choice, an unknown id is ignored
    answers = {
        q.question_id: ([1 - q.answer[0]] if q.kind == "judge" else list(q.answer))
        for q in paper
        if q.kind != "multiple"
    }
    answers["not-on-the-paper"] = [0]
    assert score(paper, answers, DEFAULT_PAPER_RULE) == 40
    # partial credit: one correct option of each multiple-choice question
    partial_rule = PaperRule(
        DEFAULT_PAPER_RULE.single, DEFAULT_PAPER_RULE.multiple, DEFAULT_PAPER_RULE.judge, True
    )
    subset = {q.question_id: q.answer[:1] for q in paper if q.kind == "multiple"}
    assert score(paper, subset, partial_rule) == 10 * (3 // 2)
    assert score(paper, subset, DEFAULT_PAPER_RULE) == 0


NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def bank_doc(bank_id: str, owner: str, position: str = "施工员", **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": bank_id,
        "bank_id": bank_id,
        "owner_id": owner,
        "position": position,
        "specialisation": None,
        "retired": False,
        "complete": True,
        "imported_at": NOW,
    }
    doc.update(extra)
    return doc


def chosen(
    banks: list[dict[str, Any]], specialisation: str | None = "土建施工", position: str = "施工员"
) -> Any:
    found = choose_bank(banks, institution_id="inst-1", position=position, specialisation=specialisation)
    return None if found is None else found["bank_id"]


def test_choose_bank_precedence() -> None:
    admin = bank_doc("admin-general", "admin")
    own_old = bank_doc("own-old", "inst-1", imported_at=NOW - timedelta(days=3))
    own_new = bank_doc("own-new", "inst-1", imported_at=NOW)
    foreign = bank_doc("foreign", "inst-2", imported_at=NOW + timedelta(days=1))
    assert chosen([admin]) == "admin-general"
    assert chosen([admin, own_old]) == "own-old"  # the institution's own before the administrator's
    assert chosen([own_old, admin, own_new, foreign]) == "own-new"  # the newest; never another's
    assert chosen([foreign]) is None
    assert chosen([{**own_new, "retired": True}, own_old]) == "own-old"
    assert chosen([{**own_new, "retired": True}, admin]) == "admin-general"
    assert chosen([{**own_new, "complete": False}, own_old]) == "own-old"  # parts still missing
    assert chosen([own_new], position="质量员") is None
    assert chosen([]) is None


def test_choose_bank_specialisation() -> None:
    general = bank_doc("general", "inst-1", imported_at=NOW + timedelta(hours=1))
    civil = bank_doc("civil", "inst-1", specialisation="土建施工", imported_at=NOW)
    decoration = bank_doc("decoration", "inst-1", specialisation="装饰装修", imported_at=NOW)
    admin_civil = bank_doc("admin-civil", "admin", specialisation="土建施工", imported_at=NOW)
    assert chosen([general, civil, decoration]) == "civil"  # the very specialisation first
    assert chosen([general, decoration]) == "general"  # a general bank serves every specialisation
    assert chosen([decoration]) is None
    assert chosen([general, civil], specialisation="市政工程") == "general"
    assert chosen([admin_civil, general]) == "general"  # the owner comes before the specialisation
    assert chosen([admin_civil, decoration]) == "admin-civil"
    # a position without specialisations: only general banks
    assert chosen(
        [bank_doc("safety", "admin", position="安全员")], specialisation=None, position="安全员"
    ) == ("safety")
    assert chosen([civil], specialisation=None) is None


def test_choose_bank_reads_iso_times_too() -> None:
    older = bank_doc("older", "admin", imported_at="2026-04-01T08:00:00+00:00")
    newer = bank_doc("newer", "admin", imported_at="2026-04-02T08:00:00Z")
    assert chosen([newer, older]) == "newer" and chosen([older, newer]) == "newer"
    assert chosen([bank_doc("no-time", "admin", imported_at=None), older]) == "older"


def test_paper_rule_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ExamSettings().paper_rule() == DEFAULT_PAPER_RULE
    monkeypatch.setenv(
        "EXAM_PAPER_RULE",
        '{"single": {"count": 10, "points": 4}, "multiple": {"count": 10, "points": 4},'
        ' "judge": {"count": 10, "points": 2}, "multiple_partial_credit": true}',
    )
    rule = ExamSettings().paper_rule()
    assert rule == PaperRule(KindRule(10, 4), KindRule(10, 4), KindRule(10, 2), multiple_partial_credit=True)
    assert rule.full_marks == 100
    for bad in (
        '{"single": {"count": -1, "points": 2}}',
        '{"judge": {"count": 5, "points": 0}}',
        '{"single": {"count": 0, "points": 1}, "multiple": {"count": 0, "points": 1},'
        ' "judge": {"count": 0, "points": 1}}',
        '{"single": {"count": 5, "points": 2, "extra": 1}}',
        "not json",
    ):
        monkeypatch.setenv("EXAM_PAPER_RULE", bad)
        with pytest.raises((ValidationError, ValueError)):
            ExamSettings()
