"""The answer sheet's decisions at their boundaries (no servers): the order of saves (`save_no`), repeated
and stale requests, the refusals once closed, what a submission closes the sheet with, and older streams
whose autosaves were AnswersSaved events."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from events import CandidateVerified, ExamPassed, registry
from exam.application.answers import from_document, to_document
from exam.domain import answers as sheets
from exam.domain import candidate as domain
from exam.domain.events import AnswersSaved, ExamStarted, PaperQuestion, PaperSubmitted
from exam.domain.session import Applicant
from exam.domain.timing import ScoringRules
from servicekit.errors import DomainError

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
DEADLINE = T0 + timedelta(minutes=120)
QUESTIONS = [
    PaperQuestion(question_id="q1", kind="single", stem="一", options=["A", "B", "C"], answer=[2], points=60),
    PaperQuestion(
        question_id="q2", kind="multiple", stem="二", options=["A", "B", "C"], answer=[0, 1], points=40
    ),
]
APPLICANT = Applicant(
    candidate_id="c1",
    applicant_id="a1",
    enterprise_id="e1",
    institution_id="i1",
    id_number="330106199005170011",
    name="张三",
    position="施工员",
)
STARTED = ExamStarted(
    attempt_id="t1",
    candidate_id="c1",
    session_id="s1",
    id_number=APPLICANT.id_number,
    bank_id="b1",
    questions=QUESTIONS,
    started_at=T0,
    deadline=DEADLINE,
    earliest_submission=T0 + timedelta(minutes=30),
)
VERIFIED = CandidateVerified(candidate_id="c1", session_id="s1", id_number=APPLICANT.id_number, check_id="k")


def scorer(questions: Sequence[PaperQuestion], answers: Mapping[str, Sequence[int]]) -> int:
    return sum(q.points for q in questions if sorted(answers.get(q.question_id, [])) == q.answer)


def fresh(**changes: object) -> sheets.AnswerSheet:
    sheet = domain.sheet_of(domain.Candidate.from_history([VERIFIED, STARTED]))
    return dataclasses.replace(sheet, **changes)


def refused(sheet: sheets.AnswerSheet, answers: dict[str, list[int]], **kw: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        sheets.save(sheet, answers=answers, now=kw.pop("now", T0 + timedelta(minutes=5)), **kw)
    return caught.value


def test_a_new_sheet_copies_the_papers_shape_and_times_without_the_answers() -> None:
    sheet = fresh()
    assert sheet.attempt_id == "t1" and sheet.candidate_id == "c1" and sheet.deadline == DEADLINE
    assert sheet.slots == (sheets.Slot("q1", "single", 3), sheets.Slot("q2", "multiple", 3))
    assert sheet.answers == {} and sheet.save_no == 0 and sheet.closed_by is None
    assert from_document(to_document(sheet)) == sheet
    assert "answer" not in str(to_document(sheet)["slots"])


def test_save_until_one_instant_before_the_deadline() -> None:
    last = DEADLINE - timedelta(milliseconds=1)
    assert sheets.save(fresh(), answers={"q1": [0]}, now=last) == {"q1": [0]}
    assert refused(fresh(), {"q1": [0]}, now=DEADLINE).code == "time_up"
    assert refused(fresh(answers={"q1": [0]}), {"q1": [0]}, now=DEADLINE).code == "time_up"


def test_what_a_save_checks_before_writing_is_the_fixed_part_only() -> None:
    closed = fresh(answers={"q1": [0]}, save_no=7, closed_by=sheets.BY_CANDIDATE)
    assert sheets.admissible(closed, answers={"q1": [0]}, now=T0) == {"q1": [0]}, "the write's condition"
    with pytest.raises(DomainError) as late:
        sheets.admissible(fresh(), answers={}, now=DEADLINE)
    assert late.value.code == "time_up"
    with pytest.raises(DomainError) as bad:
        sheets.admissible(fresh(), answers={"q9": [0]}, now=T0)
    assert bad.value.code == "invalid_answers"


def test_save_no_orders_the_saves() -> None:
    sheet = fresh(answers={"q1": [0]}, save_no=3)
    assert sheets.save(sheet, answers={"q1": [1]}, now=T0, save_no=3) == {"q1": [1]}, "based on the latest"
    assert sheets.save(sheet, answers={"q1": [1]}, now=T0) == {"q1": [1]}, "no save_no: arrival order"
    stale = refused(sheet, {"q1": [2]}, save_no=2)
    assert stale.code == "stale_save" and stale.status == 409 and stale.details["save_no"] == 3
    assert refused(sheet, {"q1": [2]}, save_no=4).code == "stale_save", "a number the server never gave"
    assert sheets.save(sheet, answers={"q1": [0]}, now=T0, save_no=2) is None, "a repeated request: saved"
    assert sheets.save(sheet, answers={"q1": [0]}, now=T0) is None


def test_a_closed_sheet_refuses_every_save_with_the_submissions_code() -> None:
    by_candidate = fresh(answers={"q1": [0]}, closed_by=sheets.BY_CANDIDATE)
    done = refused(by_candidate, {"q1": [0]})
    assert done.code == "already_submitted" and done.details is None, "closed, not yet scored"
    assert refused(fresh(closed_by=sheets.AUTOMATICALLY), {}).code == "time_up"
    result = {"automatic": True, "score": 0}
    raced = fresh(closed_by=sheets.BY_CANDIDATE, result=result)  # the sweeper's result won the race
    assert refused(raced, {}).code == "time_up" and refused(raced, {}).details == result


def test_what_a_submission_closes_the_sheet_with() -> None:
    slots = fresh().slots
    assert sheets.closing_answers(slots, automatic=False, answers=None) is None
    assert sheets.closing_answers(slots, automatic=True, answers={"q1": [2]}) is None
    assert sheets.closing_answers(slots, automatic=False, answers={"q2": [1, 0]}) == {"q2": [0, 1]}
    assert sheets.closing_answers(slots, automatic=False, answers={}) == {}, "a submission may clear all"


def test_submission_boundaries() -> None:
    state = domain.Candidate.from_history([VERIFIED, STARTED])
    assert domain.submission(state, now=DEADLINE - timedelta(seconds=1), automatic=True) is None
    assert domain.submission(state, now=DEADLINE, automatic=True) == domain.Submission(True, DEADLINE)
    assert domain.submission(state, now=DEADLINE + timedelta(hours=5)) == domain.Submission(True, DEADLINE)
    at_30 = T0 + timedelta(minutes=30)
    assert domain.submission(state, now=at_30) == domain.Submission(False, at_30)
    with pytest.raises(DomainError) as early:
        domain.submission(state, now=at_30 - timedelta(seconds=1))
    assert early.value.code == "submit_too_early"


def test_older_streams_with_autosave_events_still_load_and_submit() -> None:
    data = {"attempt_id": "t1", "candidate_id": "c1", "answers": {"q1": [2]}, "saved_at": T0.isoformat()}
    assert isinstance(registry.decode("exam.AnswersSaved.v1", data), AnswersSaved), "still registered"
    assert not AnswersSaved.public and not PaperSubmitted.public, "internal: never on Kafka"
    legacy = [
        VERIFIED,
        STARTED,
        AnswersSaved(attempt_id="t1", candidate_id="c1", answers={"q1": [0]}, saved_at=T0),
        AnswersSaved(
            attempt_id="t1", candidate_id="c1", answers={"q1": [2]}, saved_at=T0 + timedelta(minutes=9)
        ),
    ]
    state = domain.Candidate.from_history(legacy)
    assert state.answers == {"q1": [2]} and state.saved_at == T0 + timedelta(minutes=9)
    sheet = domain.sheet_of(state)
    assert sheet.answers == {"q1": [2]} and sheet.saved_at == T0 + timedelta(minutes=9)
    events = domain.submit(
        state, applicant=APPLICANT, scorer=scorer, rules=ScoringRules(), now=DEADLINE, automatic=True
    )
    paper, result = events
    assert isinstance(paper, PaperSubmitted) and paper.answers == {"q1": [2]} and paper.automatic
    assert paper.saved_at == T0 + timedelta(minutes=9)
    assert isinstance(result, ExamPassed) and result.score == 60 and result.answers == {}
