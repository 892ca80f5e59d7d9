"""The answer sheet of one running attempt: the answers saved so far, kept apart from the candidate's stream.

An autosave overwrites the sheet (one small document per attempt, `application.answers`), so that its cost
does not grow with the number of earlier saves; no event is appended for it. The sheet carries what a save
needs to be decided without the candidate's stream: the paper's shape (question ids, kinds, number of
options) and the deadline, copied from ExamStarted when the exam starts. At submission the sheet is closed
and its answers go into one event (PaperSubmitted) on the candidate's stream.

Order of saves: every accepted save increments `save_no`. A client may send the `save_no` it last saw (the
answer to its previous save): the save is then written only if the sheet is still at that number (compare
and set), so a late or repeated request never overwrites a newer save; a repeated request with the answers
already stored is answered as saved. Without `save_no` the saves are ordered by their arrival at the database
(the last one wins). Decisions here are free of I/O; `now` is always passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.exam import QuestionKind
from servicekit.errors import Conflict, DomainError

from exam.domain.events import PaperQuestion

BY_CANDIDATE = "candidate"  # closed by the candidate's own submission
AUTOMATICALLY = "automatic"  # closed by the automatic submission at the deadline


@dataclass(frozen=True)
class Slot:
    """What a save is checked against: one question of the paper, without its answer."""

    question_id: str
    kind: QuestionKind
    options: int


def slots_of(questions: Sequence[PaperQuestion]) -> tuple[Slot, ...]:
    return tuple(Slot(q.question_id, q.kind, len(q.options)) for q in questions)


def validate(slots: Sequence[Slot], answers: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    """Only the paper's question ids, valid option indexes, one choice for single/judge questions."""
    by_id = {s.question_id: s for s in slots}
    problems: list[dict[str, Any]] = []
    clean: dict[str, list[int]] = {}
    for question_id, chosen in answers.items():
        slot = by_id.get(question_id)
        if slot is None:
            problems.append(
                {"question_id": question_id, "code": "unknown_question", "message": "试卷中没有该题"}
            )
            continue
        picked = sorted(set(chosen))
        if len(picked) != len(chosen) or any(not 0 <= i < slot.options for i in picked):
            problems.append(
                {"question_id": question_id, "code": "invalid_option", "message": "所选选项不存在或重复"}
            )
        elif slot.kind != "multiple" and len(picked) > 1:
            problems.append(
                {"question_id": question_id, "code": "single_choice", "message": "该题只能选一个选项"}
            )
        else:
            clean[question_id] = picked
    if problems:
        raise DomainError(
            "答案不正确，未保存：" + problems[0]["message"], code="invalid_answers", details=problems
        )
    return clean


def answered(answers: Mapping[str, Sequence[int]]) -> int:
    return sum(1 for chosen in answers.values() if chosen)


@dataclass(frozen=True)
class AnswerSheet:
    attempt_id: str
    candidate_id: str
    started_at: datetime
    deadline: datetime
    earliest_submission: datetime
    slots: tuple[Slot, ...]
    answers: dict[str, list[int]] = field(default_factory=dict)
    saved_at: datetime | None = None
    save_no: int = 0
    closed_by: str | None = None  # None while the attempt runs; BY_CANDIDATE or AUTOMATICALLY once closed
    result: dict[str, Any] | None = None  # the result's view, once the paper is scored

    @property
    def answered(self) -> int:
        return answered(self.answers)


def closed_error(sheet: AnswerSheet) -> Conflict:
    """The refusal of a save once the sheet is closed (the result's own flag wins once it is known)."""
    automatic = bool(sheet.result["automatic"]) if sheet.result else sheet.closed_by == AUTOMATICALLY
    return Conflict(
        "考试时间已到，试卷已自动提交" if automatic else "试卷已提交，不能再修改答案",
        code="time_up" if automatic else "already_submitted",
        details=sheet.result,
    )


def time_up_error() -> Conflict:
    return Conflict("考试时间已到，试卷已自动提交", code="time_up")


def stale_error(sheet: AnswerSheet) -> Conflict:
    return Conflict(
        "答案已被更新的一次保存覆盖（可能在其他页面作答），请刷新试卷后再作答",
        code="stale_save",
        details={
            "save_no": sheet.save_no,
            "saved_at": sheet.saved_at.isoformat() if sheet.saved_at else None,
        },
    )


def admissible(
    sheet: AnswerSheet, *, answers: Mapping[str, Sequence[int]], now: datetime
) -> dict[str, list[int]]:
    """What a save needs of the sheet's fixed part only (the paper, the deadline): the answers checked, or
    `time_up` at and after the deadline, `invalid_answers` outside the paper. The stored state (closed,
    `save_no`) is the write's condition, and `save` decides on it when the condition fails."""
    if now >= sheet.deadline:
        raise time_up_error()
    return validate(sheet.slots, answers)


def save(
    sheet: AnswerSheet,
    *,
    answers: Mapping[str, Sequence[int]],
    now: datetime,
    save_no: int | None = None,
) -> dict[str, list[int]] | None:
    """An autosave: the answers to write, or None when the sheet already holds them (a repeated request).

    Refused once the sheet is closed (`already_submitted`, or `time_up` after the automatic submission), at
    and after the deadline (`time_up`), with answers outside the paper (`invalid_answers`), and, when the
    client sends the `save_no` it last saw, if another save came in since (`stale_save`).
    """
    if sheet.closed_by is not None:
        raise closed_error(sheet)
    clean = admissible(sheet, answers=answers, now=now)
    if clean == sheet.answers:
        return None
    if save_no is not None and save_no != sheet.save_no:
        raise stale_error(sheet)
    return clean


def closing_answers(
    slots: Sequence[Slot], *, automatic: bool, answers: Mapping[str, Sequence[int]] | None
) -> dict[str, list[int]] | None:
    """What a submission writes as it closes the sheet: the candidate's own submission (before the deadline)
    may send the whole set one last time (checked like an autosave); an automatic one keeps what was saved
    in time, whatever came with it. None: the saved answers are final."""
    if automatic or answers is None:
        return None
    return validate(slots, answers)
