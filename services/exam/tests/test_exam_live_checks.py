"""In-exam (dynamic) face verification rules: consent, only while the exam runs, frames too soon refused, the
face worker's answer read as match / mismatch / no face / several faces / unusable, consecutive mismatches
(a match resets them), dismissing an alert, and a violation allowed from the threshold on."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from events import (
    CandidateVerified,
    DomainEvent,
    ExamFailed,
    FaceChecked,
    FaceCheckRequested,
)
from exam.application.context import ExamRules
from exam.domain import candidate as domain
from exam.domain import live
from exam.domain.events import (
    ExamStarted,
    LiveAlertDismissed,
    LiveCheckAnswered,
    LiveCheckConsented,
    PaperQuestion,
)
from exam.domain.session import Applicant
from exam.settings import ExamSettings
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
    head_photo_bucket="enrollment",
    head_photo_key="materials/a1/头像.jpg",
)
RULES = live.LiveCheckRules(
    interval=timedelta(seconds=60),
    jitter=timedelta(seconds=15),
    violation_threshold=3,
    retention=timedelta(days=30),
)
QUESTION = PaperQuestion(
    question_id="q1", kind="judge", stem="一", options=["正确", "错误"], answer=[0], points=100
)


def started(at: datetime = T0) -> list[DomainEvent]:
    return [
        CandidateVerified(candidate_id="c1", session_id="s1", id_number=APPLICANT.id_number, check_id="k"),
        ExamStarted(
            attempt_id="t1",
            candidate_id="c1",
            session_id="s1",
            id_number=APPLICANT.id_number,
            bank_id="b1",
            questions=[QUESTION],
            started_at=at,
            deadline=at + timedelta(minutes=120),
            earliest_submission=at + timedelta(minutes=30),
        ),
    ]


def consented(history: Sequence[DomainEvent], now: datetime = T0) -> list[DomainEvent]:
    state = domain.Candidate.from_history(history)
    return [*history, *live.consent(state, candidate_id="c1", now=now)]


def ask(history: Sequence[DomainEvent], check_id: str, now: datetime) -> list[DomainEvent]:
    return live.request(
        domain.Candidate.from_history(history),
        applicant=APPLICANT,
        check_id=check_id,
        frame_bucket="exam",
        rules=RULES,
        now=now,
    )


def worker(
    check_id: str,
    *,
    match: bool = False,
    distance: float | None = 0.8,
    flags: Sequence[str] = (),
    replay: bool = False,
) -> FaceChecked:
    return FaceChecked(
        check_id=check_id,
        candidate_id="c1",
        session_id="s1",
        match=match,
        distance=distance,
        threshold=0.6,
        replay_suspected=replay,
        quality_flags=list(flags),
    )


def check(
    history: list[DomainEvent], check_id: str, now: datetime, checked: FaceChecked | None = None
) -> list[DomainEvent]:
    """One frame asked and answered (by `checked`, a mismatch by default)."""
    history = history + ask(history, check_id, now)
    answer = checked or worker(check_id)
    return history + live.answered(
        domain.Candidate.from_history(history), answer, now=now + timedelta(seconds=2)
    )


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def code_of(exc: pytest.ExceptionInfo[DomainError]) -> tuple[str, int]:
    return exc.value.code, exc.value.status


def test_consent_once() -> None:
    history = consented([])
    assert [type(e) for e in history] == [LiveCheckConsented]
    assert live.consent(domain.Candidate.from_history(history), candidate_id="c1", now=minutes(5)) == []
    assert domain.Candidate.from_history(history).consented_at == T0


def test_no_frame_without_consent() -> None:
    with pytest.raises(DomainError) as exc:
        ask(started(), "f1", minutes(1))
    assert code_of(exc) == ("consent_required", 409)


def test_only_while_the_exam_runs() -> None:
    with pytest.raises(DomainError) as exc:
        ask(consented([]), "f1", minutes(1))  # not started
    assert code_of(exc) == ("exam_not_in_progress", 409)
    history = consented(started())
    with pytest.raises(DomainError) as exc:
        ask(history, "f1", minutes(120))  # the deadline
    assert code_of(exc) == ("exam_not_in_progress", 409)
    submitted = ExamFailed(
        attempt_id="t1",
        applicant_id="a1",
        enterprise_id="e1",
        institution_id="i1",
        id_number=APPLICANT.id_number,
        position="施工员",
        score=10,
        pass_mark=60,
        full_marks=100,
        candidate_id="c1",
        session_id="s1",
    )
    with pytest.raises(DomainError) as exc:
        ask([*history, submitted], "f1", minutes(40))
    assert code_of(exc) == ("exam_not_in_progress", 409)


def test_a_frame_is_a_face_check_request_under_live() -> None:
    [event] = ask(consented(started()), "f1", minutes(1))
    assert isinstance(event, FaceCheckRequested) and domain.is_live(event)
    assert event.frame_key == "live/c1/f1.jpg" and event.frame_bucket == "exam"
    assert (event.reference_bucket, event.reference_key) == ("enrollment", APPLICANT.head_photo_key)
    assert event.session_id == "s1" and event.requested_at == minutes(1) and event.attempt_no == 1
    state = domain.Candidate.from_history([*consented(started()), event])
    assert "f1" in state.live and state.checks == {} and state.pending is None  # not a check-in


def test_too_soon_says_when_the_next_is_allowed() -> None:
    history = consented(started())
    history = history + ask(history, "f1", minutes(1))
    with pytest.raises(DomainError) as exc:
        ask(history, "f2", minutes(1) + timedelta(seconds=19))  # a third of 60 s is 20 s
    assert code_of(exc) == ("live_check_too_soon", 429)
    assert isinstance(exc.value.details, dict) and exc.value.details["retry_after_seconds"] == 1
    assert exc.value.details["next_allowed_at"] == "2026-12-01T09:01:20+08:00"
    [event] = ask(history, "f2", minutes(1) + timedelta(seconds=20))
    assert isinstance(event, FaceCheckRequested) and event.attempt_no == 2


def test_no_head_photo() -> None:
    with pytest.raises(DomainError) as exc:
        live.request(
            domain.Candidate.from_history(consented(started())),
            applicant=Applicant(**{**APPLICANT.__dict__, "head_photo_key": None}),
            check_id="f1",
            frame_bucket="exam",
            rules=RULES,
            now=minutes(1),
        )
    assert code_of(exc) == ("no_head_photo", 409)


@pytest.mark.parametrize(
    ("checked", "state"),
    [
        (worker("f", match=True, distance=0.4), live.MATCH),
        (worker("f", distance=0.8), live.MISMATCH),
        (worker("f", distance=0.3, replay=True), live.MISMATCH),
        (worker("f", distance=None, flags=["no_face"]), live.NO_FACE),
        (worker("f", distance=0.5, flags=["multiple_faces"]), live.SEVERAL_FACES),
        (worker("f", distance=0.5, flags=["too_dark"]), live.UNUSABLE),
        (worker("f", distance=None, flags=["image_unreadable"]), live.UNUSABLE),
    ],
)
def test_what_an_answer_means(checked: FaceChecked, state: str) -> None:
    assert live.state_of(checked) == state


def test_consecutive_mismatches_a_match_resets_them() -> None:
    history = consented(started())
    history = check(history, "f1", minutes(1))
    history = check(history, "f2", minutes(2), worker("f2", distance=None, flags=["no_face"]))
    assert domain.Candidate.from_history(history).consecutive_mismatches == 2
    history = check(history, "f3", minutes(3), worker("f3", distance=0.4, flags=["blurred"]))  # unusable
    assert domain.Candidate.from_history(history).consecutive_mismatches == 2
    history = check(history, "f4", minutes(4), worker("f4", match=True, distance=0.4))
    state = domain.Candidate.from_history(history)
    assert state.consecutive_mismatches == 0 and not live.violation_allowed(state, RULES)
    answers = [e for e in history if isinstance(e, LiveCheckAnswered)]
    assert [a.state for a in answers] == ["mismatch", "no_face", "unusable", "match"]
    assert [a.consecutive_mismatches for a in answers] == [1, 2, 2, 0]
    assert answers[0].frame_key == "live/c1/f1.jpg" and answers[0].requested_at == minutes(1)


def test_only_the_first_answer_counts() -> None:
    history = check(consented(started()), "f1", minutes(1))
    state = domain.Candidate.from_history(history)
    assert live.answered(state, worker("f1", match=True, distance=0.3), now=minutes(2)) == []
    assert live.answered(state, worker("unknown"), now=minutes(2)) == []


def test_a_live_answer_does_not_touch_check_in() -> None:
    history = consented(started())
    history = history + ask(history, "f1", minutes(1))
    state = domain.Candidate.from_history(history)
    # the check-in decision ignores it (the policy routes it to live.answered)
    assert domain.face_checked(state, worker("f1"), id_number=APPLICANT.id_number, max_attempts=3) == []


def test_dismiss_an_alert_once() -> None:
    history = check(consented(started()), "f1", minutes(1))
    state = domain.Candidate.from_history(history)
    [event] = live.dismiss(state, "f1", dismissed_by="proctor", reason=" 考生低头看题 ", now=minutes(2))
    assert isinstance(event, LiveAlertDismissed) and event.reason == "考生低头看题"
    history = [*history, event]
    state = domain.Candidate.from_history(history)
    assert live.dismiss(state, "f1", dismissed_by="proctor", reason=None, now=minutes(3)) == []
    assert state.consecutive_mismatches == 1  # dismissing does not reset the count


def test_only_alerts_can_be_dismissed() -> None:
    history = check(consented(started()), "f1", minutes(1), worker("f1", match=True, distance=0.3))
    state = domain.Candidate.from_history(history)
    for check_id in ("f1", "nope"):
        with pytest.raises(DomainError) as exc:
            live.dismiss(state, check_id, dismissed_by="p", reason=None, now=minutes(2))
        assert code_of(exc) == ("live_alert_not_found", 404)


def test_violation_allowed_from_the_threshold_on() -> None:
    history = consented(started())
    history = check(history, "f1", minutes(1))
    history = check(history, "f2", minutes(2))
    state = domain.Candidate.from_history(history)
    with pytest.raises(DomainError) as exc:
        live.violation_evidence(state, "f2", RULES)
    assert code_of(exc) == ("violation_not_allowed", 409)
    history = check(history, "f3", minutes(3), worker("f3", distance=0.5, flags=["multiple_faces"]))
    state = domain.Candidate.from_history(history)
    assert live.violation_allowed(state, RULES)
    assert live.violation_evidence(state, "f1", RULES) == "live/c1/f1.jpg"
    with pytest.raises(DomainError) as exc:
        live.violation_evidence(state, "nope", RULES)
    assert code_of(exc) == ("live_alert_not_found", 404)
    history = check(history, "f4", minutes(4), worker("f4", match=True, distance=0.3))
    with pytest.raises(DomainError) as exc:
        live.violation_evidence(domain.Candidate.from_history(history), "f3", RULES)
    assert code_of(exc) == ("violation_not_allowed", 409)


def test_next_frame_interval_with_jitter() -> None:
    rng = random.Random(7)
    seen = {RULES.next_in_seconds(rng) for _ in range(500)}
    assert min(seen) == 45 and max(seen) == 75
    tight = live.LiveCheckRules(interval=timedelta(seconds=6), jitter=timedelta(seconds=5))
    assert min(tight.next_in_seconds(rng) for _ in range(200)) == 2  # never below a third of the interval


def test_checks_view_newest_first() -> None:
    history = consented(started())
    history = check(history, "f1", minutes(1), worker("f1", match=True, distance=0.31))
    history = history + ask(history, "f2", minutes(2))
    items = live.checks_view(domain.Candidate.from_history(history))
    assert [(i["check_id"], i["state"]) for i in items] == [("f2", "pending"), ("f1", "match")]
    assert items[1]["distance"] == 0.31 and items[0]["answered_at"] is None
    assert items[1]["requested_at"] == "2026-12-01T09:01:00+08:00"


def test_frame_keys() -> None:
    assert live.frame_key("c1", "f1") == "live/c1/f1.jpg"
    assert live.check_id_of_key("live/c1/f1.jpg") == "f1"
    assert live.check_id_of_key("violations/v1/1.jpg") is None


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = ExamRules.from_settings(ExamSettings())
    assert rules.live == RULES
    monkeypatch.setenv("EXAM_LIVE_CHECK_INTERVAL_SECONDS", "10")
    monkeypatch.setenv("EXAM_LIVE_CHECK_JITTER_SECONDS", "15")  # capped at half the interval
    monkeypatch.setenv("EXAM_LIVE_MISMATCH_VIOLATION_THRESHOLD", "2")
    monkeypatch.setenv("EXAM_LIVE_FRAME_RETENTION_DAYS", "7")
    rules = ExamRules.from_settings(ExamSettings())
    assert rules.live == live.LiveCheckRules(
        interval=timedelta(seconds=10),
        jitter=timedelta(seconds=5),
        violation_threshold=2,
        retention=timedelta(days=7),
    )
