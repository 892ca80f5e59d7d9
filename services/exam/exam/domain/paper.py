"""Papers (pure): the paper rule, drawing a candidate's paper from a bank, scoring it, choosing the bank.

A paper has the single-choice questions first, then the multiple-choice, then the true/false ones (the usual
order of a paper); inside each part the questions are drawn at random and in random order, and the options of
a choice question are shuffled with its answer mapped to the new order. True/false options stay 正确/错误.
The points of a question are the rule's points for its kind.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.exam import QuestionKind
from servicekit.errors import DomainError

from exam.domain.events import BankQuestion, PaperQuestion

from .bank import ADMIN_OWNER, KIND_LABELS

KINDS: tuple[QuestionKind, ...] = ("single", "multiple", "judge")


@dataclass(frozen=True)
class KindRule:
    count: int
    points: int


@dataclass(frozen=True)
class PaperRule:
    single: KindRule
    multiple: KindRule
    judge: KindRule
    # A multiple-choice answer that picks some of the correct options and no wrong one earns half the
    # points (rounded down); any wrong option earns nothing.
    multiple_partial_credit: bool = False

    def kind(self, kind: str) -> KindRule:
        rule: KindRule = getattr(self, kind)
        return rule

    @property
    def full_marks(self) -> int:
        return sum(self.kind(k).count * self.kind(k).points for k in KINDS)

    def problems(self) -> list[str]:
        """What is wrong with the rule (empty: nothing)."""
        found = []
        for kind in KINDS:
            rule = self.kind(kind)
            if rule.count < 0:
                found.append(f"{KIND_LABELS[kind]}题数量不能为负数")
            if rule.points < 1:
                found.append(f"{KIND_LABELS[kind]}题每题分值至少为 1 分")
        if not found and self.full_marks <= 0:
            found.append("试卷至少需要一道题")
        return found


DEFAULT_PAPER_RULE = PaperRule(
    single=KindRule(count=20, points=2),
    multiple=KindRule(count=10, points=3),
    judge=KindRule(count=15, points=2),
)


def _shuffled(question: BankQuestion, points: int, rng: random.Random) -> PaperQuestion:
    if question.kind == "judge":
        options, answer = list(question.options), sorted(question.answer)
    else:
        order = list(range(len(question.options)))
        rng.shuffle(order)
        options = [question.options[i] for i in order]
        answer = sorted(order.index(i) for i in question.answer)
    return PaperQuestion(
        question_id=question.question_id,
        kind=question.kind,
        stem=question.stem,
        options=options,
        answer=answer,
        points=points,
    )


def draw_paper(questions: Sequence[BankQuestion], rule: PaperRule, rng: random.Random) -> list[PaperQuestion]:
    """A candidate's paper. The same bank, rule and seed give the same paper.

    Raises `DomainError(code="bank_too_small")` naming every kind the bank has too few questions of.
    """
    pools: dict[str, list[BankQuestion]] = {kind: [] for kind in KINDS}
    for question in questions:
        pools[question.kind].append(question)
    short = [
        {
            "kind": kind,
            "label": KIND_LABELS[kind],
            "needed": rule.kind(kind).count,
            "available": len(pools[kind]),
        }
        for kind in KINDS
        if len(pools[kind]) < rule.kind(kind).count
    ]
    if short:
        raise DomainError(
            "题库题目数量不足，无法组卷："
            + "；".join(f"{s['label']}题需要 {s['needed']} 道，题库只有 {s['available']} 道" for s in short),
            code="bank_too_small",
            details=short,
        )
    paper: list[PaperQuestion] = []
    for kind in KINDS:
        kind_rule = rule.kind(kind)
        for question in rng.sample(pools[kind], kind_rule.count):
            paper.append(_shuffled(question, kind_rule.points, rng))
    return paper


def question_score(question: PaperQuestion, chosen: Sequence[int] | None, rule: PaperRule) -> int:
    """The points one answer earns (unanswered: 0)."""
    if not chosen:
        return 0
    picked, correct = set(chosen), set(question.answer)
    if question.kind != "multiple" and len(chosen) != 1:
        return 0
    if picked == correct:
        return question.points
    if question.kind == "multiple" and rule.multiple_partial_credit and picked < correct:
        return question.points // 2
    return 0


def score(questions: Sequence[PaperQuestion], answers: Mapping[str, Sequence[int]], rule: PaperRule) -> int:
    """The paper's score: the points of every question answered right (see `question_score`)."""
    return sum(question_score(q, answers.get(q.question_id), rule) for q in questions)


def _recency(bank: Mapping[str, Any]) -> tuple[float, str]:
    imported_at = bank.get("imported_at")
    if isinstance(imported_at, str):
        imported_at = datetime.fromisoformat(imported_at)
    if isinstance(imported_at, datetime):
        stamp = (imported_at if imported_at.tzinfo else imported_at.replace(tzinfo=UTC)).timestamp()
    else:
        stamp = float("-inf")
    return stamp, str(bank.get("bank_id") or bank.get("_id") or "")


def choose_bank(
    banks: Sequence[Mapping[str, Any]], *, institution_id: str, position: str, specialisation: str | None
) -> Mapping[str, Any] | None:
    """The bank a candidate's paper is drawn from (documents of the `question_banks` read model).

    Only banks in use (not retired, every part received) of the candidate's position count, and a bank with
    no specialisation serves every specialisation of its position. The institution's own banks come before
    the administrator's; among one owner's, a bank of the very specialisation comes before a general one,
    and then the newest.
    """
    best: tuple[int, int, tuple[float, str]] | None = None
    chosen: Mapping[str, Any] | None = None
    for bank in banks:
        if bank.get("retired") or not bank.get("complete", True) or bank.get("position") != position:
            continue
        owner = bank.get("owner_id")
        if owner == institution_id:
            owner_rank = 2
        elif owner == ADMIN_OWNER:
            owner_rank = 1
        else:
            continue
        bank_specialisation = bank.get("specialisation")
        if bank_specialisation is None:
            specific = 0
        elif bank_specialisation == specialisation:
            specific = 1
        else:
            continue
        key = (owner_rank, specific, _recency(bank))
        if best is None or key > best:
            best, chosen = key, bank
    return chosen
