"""Timing rules of the exam on an injected clock: check-in window, earliest submission (29:59 refused, 30:00
allowed), the deadline, automatic submission, autosave (on the answer sheet) after the deadline."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from events import CandidateVerified, ExamFailed, ExamPassed, ExamScheduled, ExamSessionCreated
from exam.domain import answers as sheets
from exam.domain import candidate as domain
from exam.domain.events import PaperQuestion
from exam.domain.session import Applicant, Session
from exam.domain.timing import CheckInRules, ExamTiming, ScoringRules, minutes_ceil
from servicekit.errors import DomainError

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Hangzhou
APPLICANT = Applicant(
    candidate_id="c1",
    applicant_id="a1",
    enterprise_id="e1",
    institution_id="i1",
    id_number="330106199005170011",
    name="张三",
    position="施工员",
    gender="男",
    specialisation="土建施工",
    head_photo_bucket="enrollment",
    head_photo_key="materials/a1/头像.jpg",
)
QUESTIONS = [
    PaperQuestion(
        question_id="q1", kind="single", stem="一", options=["A", "B", "C", "D"], answer=[2], points=50
    ),
    PaperQuestion(
        question_id="q2", kind="multiple", stem="二", options=["A", "B", "C"], answer=[0, 2], points=30
    ),
    PaperQuestion(question_id="q3", kind="judge", stem="三", options=["正确", "错误"], answer=[1], points=20),
]
RULES = CheckInRules()
TIMING = ExamTiming(earliest_submit=timedelta(minutes=30))
SCORING = ScoringRules(full_marks=100, pass_mark=60)


def scorer(questions: Sequence[PaperQuestion], answers: Mapping[str, Sequence[int]]) -> int:
    return sum(q.points for q in questions if sorted(answers.get(q.question_id, [])) == q.answer)


def session(starts_at: datetime = T0, duration: int = 120) -> Session:
    return Session.from_history(
        [
            ExamSessionCreated(
                session_id="s1",
                institution_id="i1",
                position="施工员",
                starts_at=starts_at,
                room="第一考场",
                seats=30,
                duration_minutes=duration,
            ),
            ExamScheduled(
                candidate_id="c1",
                session_id="s1",
                applicant_id="a1",
                enterprise_id="e1",
                institution_id="i1",
                id_number=APPLICANT.id_number,
                name="张三",
                position="施工员",
                starts_at=starts_at,
                room="第一考场",
                seat=1,
            ),
        ]
    )


def started(at: datetime = T0, duration: int = 120) -> list[object]:
    verified = CandidateVerified(
        candidate_id="c1", session_id="s1", id_number=APPLICANT.id_number, check_id="k"
    )
    events = domain.start(
        domain.Candidate.from_history([verified]),
        applicant=APPLICANT,
        session=session(duration=duration),
        attempt_id="t1",
        bank_id="b1",
        questions=QUESTIONS,
        rules=RULES,
        timing=TIMING,
        now=at,
    )
    return [verified, *events]


def state(history: Sequence[object]) -> domain.Candidate:
    return domain.Candidate.from_history(history)


def submit(history: Sequence[object], now: datetime, **kw: object) -> list[object]:
    return list(
        domain.submit(state(history), applicant=APPLICANT, scorer=scorer, rules=SCORING, now=now, **kw)
    )


def test_start_sets_the_servers_clock() -> None:
    event = started(T0 + timedelta(minutes=3))[-1]
    assert event.started_at == T0 + timedelta(minutes=3)  # type: ignore[attr-defined]
    assert event.deadline == T0 + timedelta(minutes=123)  # type: ignore[attr-defined]
    assert event.earliest_submission == T0 + timedelta(minutes=33)  # type: ignore[attr-defined]


def test_submission_refused_at_29_59_allowed_at_30_00() -> None:
    history = started()
    with pytest.raises(DomainError) as refused:
        submit(history, T0 + timedelta(minutes=29, seconds=59))
    assert refused.value.code == "submit_too_early" and refused.value.status == 409
    assert refused.value.details == {
        "seconds_left": 1,
        "minutes_left": 1,
        "earliest_submission": (T0 + timedelta(minutes=30)).isoformat(),
    }
    assert "还需等待 1 分钟" in refused.value.message and "30 分钟后" in refused.value.message
    events = submit(history, T0 + timedelta(minutes=30))
    assert isinstance(events[-1], ExamFailed) and events[-1].automatic is False


def test_submitting_at_once_gives_the_minutes_left() -> None:
    with pytest.raises(DomainError) as refused:
        submit(started(), T0 + timedelta(seconds=5))
    assert refused.value.details["seconds_left"] == 30 * 60 - 5
    assert "还需等待 30 分钟" in refused.value.message


def sheet(history: Sequence[object]) -> sheets.AnswerSheet:
    return domain.sheet_of(state(history))


def test_deadline_makes_every_submission_automatic_with_the_saved_answers() -> None:
    history = started()
    saved = sheets.save(sheet(history), answers={"q1": [2], "q2": [0, 2]}, now=T0 + timedelta(minutes=50))
    assert saved == {"q1": [2], "q2": [0, 2]}
    plan = domain.submission(state(history), now=T0 + timedelta(minutes=125))
    assert plan == domain.Submission(automatic=True, submitted_at=T0 + timedelta(minutes=120))
    assert (
        sheets.closing_answers(sheet(history).slots, automatic=plan.automatic, answers={"q3": [1]}) is None
    ), "answers sent after the deadline do not count"
    late = submit(history, T0 + timedelta(minutes=125), answers=saved, saved_at=T0 + timedelta(minutes=50))
    assert [type(e).__name__ for e in late] == ["PaperSubmitted", "ExamPassed"]
    paper, result = late
    assert isinstance(result, ExamPassed) and result.automatic is True and result.score == 80
    assert result.submitted_at == T0 + timedelta(minutes=120)
    assert result.answers == {}, "the public result carries the score only"
    assert paper.answers == {"q1": [2], "q2": [0, 2]}  # type: ignore[attr-defined]
    assert paper.saved_at == T0 + timedelta(minutes=50) and paper.automatic  # type: ignore[attr-defined]
    assert result.head_photo_key == APPLICANT.head_photo_key and result.candidate_id == "c1"


def test_automatic_submission_only_when_the_time_is_up() -> None:
    history = started()
    assert submit(history, T0 + timedelta(minutes=119, seconds=59), automatic=True) == []
    assert not domain.time_up(state(history), T0 + timedelta(minutes=119, seconds=59))
    assert domain.time_up(state(history), T0 + timedelta(minutes=120))
    events = submit(history, T0 + timedelta(minutes=120), automatic=True)
    assert isinstance(events[-1], ExamFailed) and events[-1].automatic and events[-1].score == 0
    assert not domain.time_up(state([*history, *events]), T0 + timedelta(minutes=130))


def test_a_repeated_submission_decides_nothing() -> None:
    history = started()
    final = sheets.closing_answers(
        sheet(history).slots, automatic=False, answers={"q1": [2], "q2": [2, 0], "q3": [1]}
    )
    assert final == {"q1": [2], "q2": [0, 2], "q3": [1]}, "the submission's own answers, checked"
    first = submit(history, T0 + timedelta(minutes=40), answers=final, saves=1)
    assert [type(e).__name__ for e in first] == ["PaperSubmitted", "ExamPassed"]
    assert first[-1].score == 100  # type: ignore[attr-defined]
    assert state([*history, *first]).answers == final, "PaperSubmitted is folded into the state"
    assert submit([*history, *first], T0 + timedelta(minutes=41)) == []
    assert submit([*history, *first], T0 + timedelta(minutes=200), automatic=True) == []


def test_autosave_until_the_deadline_only() -> None:
    history = started()
    saved = sheets.save(sheet(history), answers={"q1": [0]}, now=T0 + timedelta(minutes=119, seconds=59))
    assert saved == {"q1": [0]}
    with pytest.raises(DomainError) as late:
        sheets.save(sheet(history), answers={"q1": [0]}, now=T0 + timedelta(minutes=120))
    assert late.value.code == "time_up"
    holding = dataclasses.replace(sheet(history), answers=saved, save_no=1)
    assert sheets.save(holding, answers={"q1": [0]}, now=T0 + timedelta(minutes=2)) is None, "nothing new"


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        ({"qX": [0]}, "unknown_question"),
        ({"q1": [4]}, "invalid_option"),
        ({"q1": [-1]}, "invalid_option"),
        ({"q2": [0, 0]}, "invalid_option"),
        ({"q1": [0, 1]}, "single_choice"),
        ({"q3": [0, 1]}, "single_choice"),
    ],
)
def test_autosave_checks_questions_and_options(answers: dict[str, list[int]], code: str) -> None:
    with pytest.raises(DomainError) as bad:
        sheets.save(sheet(started()), answers=answers, now=T0 + timedelta(minutes=5))
    assert bad.value.code == "invalid_answers" and bad.value.details[0]["code"] == code
    with pytest.raises(DomainError) as at_submission:
        sheets.closing_answers(sheet(started()).slots, automatic=False, answers=answers)
    assert at_submission.value.code == "invalid_answers"


def test_no_save_or_submit_before_the_start_or_after_submission() -> None:
    with pytest.raises(DomainError) as before:
        domain.sheet_of(domain.Candidate())
    assert before.value.code == "exam_not_started"
    with pytest.raises(DomainError) as not_started:
        domain.submission(domain.Candidate(), now=T0)
    assert not_started.value.code == "exam_not_started"
    history = started()
    history += submit(history, T0 + timedelta(minutes=31))
    closed = sheet(history)  # the stream's view of the sheet: closed by the submission, with its result
    assert closed.closed_by == sheets.BY_CANDIDATE and closed.result and closed.result["score"] == 0
    with pytest.raises(DomainError) as after:
        sheets.save(closed, answers={"q1": [1]}, now=T0 + timedelta(minutes=32))
    assert after.value.code == "already_submitted" and after.value.details == closed.result
    automatic = started()
    automatic += submit(automatic, T0 + timedelta(minutes=120), automatic=True)
    with pytest.raises(DomainError) as late:
        sheets.save(sheet(automatic), answers={}, now=T0 + timedelta(minutes=121))
    assert late.value.code == "time_up"


def test_check_in_window_opens_60_minutes_before_and_closes_30_after() -> None:
    def check(now: datetime) -> list[object]:
        return list(
            domain.request_face_check(
                domain.Candidate(),
                applicant=APPLICANT,
                session=session(),
                check_id="k1",
                frame_bucket="exam",
                frame_key="checkin/c1/k1.jpg",
                rules=RULES,
                now=now,
            )
        )

    with pytest.raises(DomainError) as early:
        check(T0 - timedelta(minutes=60, seconds=1))
    assert early.value.code == "checkin_not_open" and "还需等待 1 分钟" in early.value.message
    assert check(T0 - timedelta(minutes=60))
    assert check(T0 + timedelta(minutes=30))
    with pytest.raises(DomainError) as late:
        check(T0 + timedelta(minutes=30, seconds=1))
    assert late.value.code == "checkin_closed"


def test_start_refused_after_the_latest_entry() -> None:
    with pytest.raises(DomainError) as late:
        started(T0 + timedelta(minutes=31))
    assert late.value.code == "start_closed"


def test_start_opens_at_the_sessions_start() -> None:
    """Check-in opens an hour early, starting the exam only at 开考时间: one room starts together."""
    with pytest.raises(DomainError) as early:
        started(T0 - timedelta(minutes=20))
    assert early.value.code == "session_not_started" and early.value.status == 409
    assert early.value.message == "考场尚未开考：2026-12-01 09:00 开考后方可开始答题，还需等待 20 分钟"
    assert early.value.details == {
        "starts_at": T0.isoformat(),
        "opens_at": T0.isoformat(),
        "opens_at_local": "2026-12-01 09:00",
        "seconds_until_start": 20 * 60,
        "minutes_until_start": 20,
    }
    with pytest.raises(DomainError) as one_second:
        started(T0 - timedelta(seconds=1))
    assert one_second.value.code == "session_not_started" and "还需等待 1 分钟" in one_second.value.message
    assert one_second.value.details["seconds_until_start"] == 1
    assert started(T0)[-1].started_at == T0  # type: ignore[attr-defined]


def test_start_may_open_a_configured_while_before_the_start() -> None:
    rules = dataclasses.replace(RULES, start_opens_before=timedelta(minutes=10))
    verified = CandidateVerified(candidate_id="c1", session_id="s1", id_number=APPLICANT.id_number)

    def start(now: datetime) -> list[object]:
        return list(
            domain.start(
                domain.Candidate.from_history([verified]),
                applicant=APPLICANT,
                session=session(),
                attempt_id="t1",
                bank_id="b1",
                questions=QUESTIONS,
                rules=rules,
                timing=TIMING,
                now=now,
            )
        )

    with pytest.raises(DomainError) as early:
        start(T0 - timedelta(minutes=11))
    assert early.value.code == "session_not_started"
    assert "2026-12-01 08:50（开考前 10 分钟）起方可开始答题，还需等待 1 分钟" in early.value.message
    assert start(T0 - timedelta(minutes=10))


def test_the_exam_clock_is_the_candidates_own_a_late_starter_gets_the_full_time() -> None:
    """docs/adr/0001-exam-clock.md: 120 minutes from the candidate's own start; the late limit (30 minutes
    after the session's start) is the cap, so the last deadline is 150 minutes after the session's start."""
    last = started(T0 + timedelta(minutes=30))[-1]
    assert last.deadline == T0 + timedelta(minutes=150)  # type: ignore[attr-defined]
    assert last.earliest_submission == T0 + timedelta(minutes=60)  # type: ignore[attr-defined]


def test_minutes_round_up() -> None:
    assert minutes_ceil(timedelta(seconds=1)) == 1
    assert minutes_ceil(timedelta(minutes=2)) == 2
    assert minutes_ceil(timedelta(minutes=2, seconds=1)) == 3
    assert minutes_ceil(timedelta(seconds=-5)) == 0
