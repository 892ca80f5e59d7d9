"""Check-in rules: face checks, the first answer per check, tries used up, replay refused, override."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from events import (
    CandidateVerified,
    CheckInFailed,
    DomainEvent,
    ExamScheduled,
    ExamSessionCreated,
    FaceChecked,
    FaceCheckRequested,
)
from exam.application import checkin
from exam.application.context import ExamRules
from exam.domain import candidate as domain
from exam.domain.session import Applicant, Session
from exam.domain.timing import CheckInRules, ExamTiming
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
    specialisation="土建施工",
    head_photo_bucket="enrollment",
    head_photo_key="materials/a1/头像.jpg",
)


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


RULES = CheckInRules(max_attempts=3, pending_timeout=timedelta(seconds=60))
EXAM_RULES = ExamRules.from_settings(ExamSettings())
NOW = T0 - timedelta(minutes=10)


def request(
    history: Sequence[DomainEvent], check_id: str, now: datetime = NOW, **kw: object
) -> list[DomainEvent]:
    return domain.request_face_check(
        domain.Candidate.from_history(history),
        applicant=kw.pop("applicant", APPLICANT),
        session=kw.pop("session", session()),
        check_id=check_id,
        frame_bucket="exam",
        frame_key=f"checkin/c1/{check_id}.jpg",
        rules=RULES,
        now=now,
        **kw,
    )


def answer(
    check_id: str,
    *,
    match: bool,
    distance: float | None = 0.4,
    replay: bool = False,
    flags: Sequence[str] = (),
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


def answered(history: Sequence[DomainEvent], checked: FaceChecked) -> list[DomainEvent]:
    return domain.face_checked(
        domain.Candidate.from_history(history), checked, id_number=APPLICANT.id_number, max_attempts=3
    )


def fail_once(history: list[DomainEvent], check_id: str) -> list[DomainEvent]:
    history = history + request(history, check_id)
    return history + answered(history, answer(check_id, match=False, distance=0.85))


def test_request_names_both_images() -> None:
    [event] = request([], "k1")
    assert isinstance(event, FaceCheckRequested)
    assert (event.frame_bucket, event.frame_key) == ("exam", "checkin/c1/k1.jpg")
    assert (event.reference_bucket, event.reference_key) == ("enrollment", APPLICANT.head_photo_key)
    assert event.attempt_no == 1 and event.session_id == "s1" and event.requested_at == NOW


def test_match_verifies_and_only_the_first_answer_counts() -> None:
    history = request([], "k1")
    verified = answered(history, answer("k1", match=True, distance=0.38))
    assert isinstance(verified[0], CandidateVerified) and verified[0].distance == 0.38
    assert verified[0].id_number == APPLICANT.id_number and not verified[0].override
    history += verified
    assert answered(history, answer("k1", match=False, distance=0.9)) == [], "a second answer changes nothing"
    assert answered(history, answer("unknown", match=True)) == [], "an answer to no request changes nothing"
    with pytest.raises(DomainError) as again:
        request(history, "k2")
    assert again.value.code == "already_verified"


def test_no_match_fails_with_attempts_left_then_exhausted() -> None:
    history: list[DomainEvent] = []
    for n, left in ((1, 2), (2, 1), (3, 0)):
        history = fail_once(history, f"k{n}")
        failed = history[-1]
        assert isinstance(failed, CheckInFailed)
        assert (failed.attempt_no, failed.attempts_left) == (n, left)
        assert failed.reasons == ["人脸比对不一致（距离 0.85，阈值 0.60）：请确认是考生本人后重新拍摄"]
    with pytest.raises(DomainError) as exhausted:
        request(history, "k4")
    assert exhausted.value.code == "checkin_attempts_exhausted"


def test_replay_is_a_failure_even_when_the_faces_match() -> None:
    history = request([], "k1")
    [failed] = answered(history, answer("k1", match=True, distance=0.05, replay=True))
    assert isinstance(failed, CheckInFailed) and failed.reasons == [domain.REASONS["replay_suspected"]]
    assert failed.attempts_left == 2


def test_a_replay_refusal_says_what_happened_and_what_to_do_once() -> None:
    """The worker answers a replay with match=False and a small distance: the refusal must not add that the
    faces do not match (距离 0.08 under 阈值 0.60 says they do)."""
    history = request([], "k1")
    [failed] = answered(history, answer("k1", match=False, distance=0.08, replay=True))
    assert isinstance(failed, CheckInFailed)
    assert failed.reasons == ["疑似翻拍或重放的照片：请考生本人正对摄像头重新拍摄"]
    assert not any("距离" in r or "不一致" in r for r in failed.reasons)
    [(code, _)] = domain.reasons_view(failed.reasons)
    assert code == "replay_suspected"


def test_quality_flags_become_reasons() -> None:
    history = request([], "k1")
    [failed] = answered(history, answer("k1", match=False, distance=None, flags=["no_face", "too_dark"]))
    assert isinstance(failed, CheckInFailed) and failed.reasons == [
        "未检测到人脸：请考生正对摄像头、露出完整面部后重新拍摄",
        "画面过暗：请打开照明或面向光源后重新拍摄",
    ]


def test_a_close_face_refused_for_quality_names_no_mismatch() -> None:
    history = request([], "k1")
    [failed] = answered(history, answer("k1", match=False, distance=0.35, flags=["blurred"]))
    assert isinstance(failed, CheckInFailed)
    assert failed.reasons == ["画面模糊：请保持不动、擦净镜头后重新拍摄"]
    [far] = answered(history, answer("k1", match=False, distance=0.85, flags=["blurred"]))
    assert isinstance(far, CheckInFailed) and [domain.reason_code(r) for r in far.reasons] == [
        "blurred",
        "face_mismatch",
    ]


def test_every_refusal_reason_says_what_to_do() -> None:
    for code, text in domain.REASONS.items():
        happened, _, todo = text.partition("：")
        assert happened and todo.startswith("请"), code
        assert domain.reason_code(text) == code
    assert domain.reason_code(domain.mismatch_reason(0.85, 0.6)) == "face_mismatch"


def test_older_refusals_are_shown_in_todays_words() -> None:
    """CheckInFailed events recorded before: the replay's contradictory distance clause is dropped, and so is
    a distance under the threshold beside a quality flag; the codes are the same."""
    shown = domain.reasons_view(["疑似翻拍/重放照片", "人脸比对不一致（距离 0.08，阈值 0.60）"])
    assert shown == [("replay_suspected", "疑似翻拍或重放的照片：请考生本人正对摄像头重新拍摄")]
    assert domain.reasons_view(["画面过暗", "人脸比对不一致（距离 0.40，阈值 0.60）"]) == [
        ("too_dark", domain.REASONS["too_dark"])
    ]
    assert domain.reasons_view(["人脸比对不一致（距离 0.85，阈值 0.60）"]) == [
        ("face_mismatch", "人脸比对不一致（距离 0.85，阈值 0.60）：请确认是考生本人后重新拍摄")
    ]
    assert domain.reasons_view(["人脸过小，请靠近摄像头"]) == [
        ("face_too_small", domain.REASONS["face_too_small"])
    ]


def test_the_check_in_status_shows_the_refusal_text_and_codes() -> None:
    history = request([], "k1")
    history += answered(history, answer("k1", match=False, distance=0.08, replay=True))
    status = checkin.status_view(domain.Candidate.from_history(history), EXAM_RULES)
    assert status["last_failure"]["reasons"] == ["疑似翻拍或重放的照片：请考生本人正对摄像头重新拍摄"]
    assert status["last_failure"]["reason_codes"] == ["replay_suspected"]
    assert status["attempts_left"] == 2


def test_a_pending_check_blocks_a_new_one_until_it_times_out() -> None:
    history = request([], "k1")
    with pytest.raises(DomainError) as pending:
        request(history, "k2", NOW + timedelta(seconds=59))
    assert pending.value.code == "check_pending"
    [second] = request(history, "k2", NOW + timedelta(seconds=60))
    assert isinstance(second, FaceCheckRequested) and second.attempt_no == 1


def test_no_head_photo_is_refused_clearly() -> None:
    with pytest.raises(DomainError) as refused:
        request([], "k1", applicant=replace(APPLICANT, head_photo_key=None, head_photo_bucket=None))
    assert refused.value.code == "no_head_photo" and "没有头像" in refused.value.message


def test_not_scheduled_or_blacklisted_is_refused() -> None:
    other = replace(APPLICANT, candidate_id="c9")
    with pytest.raises(DomainError) as unscheduled:
        request([], "k1", applicant=other)
    assert unscheduled.value.code == "not_scheduled"
    with pytest.raises(DomainError) as barred:
        request([], "k1", blacklisted_until=date(2027, 1, 1))
    assert barred.value.code == "blacklisted"


def override(history: Sequence[DomainEvent], reason: str, **kw: object) -> list[DomainEvent]:
    return domain.override(
        domain.Candidate.from_history(history),
        applicant=kw.pop("applicant", APPLICANT),
        session=session(),
        proctor_id="proctor-1",
        reason=reason,
        rules=RULES,
        now=NOW,
    )


def test_override_only_after_the_tries_and_with_a_written_reason() -> None:
    history: list[DomainEvent] = []
    history = fail_once(history, "k1")
    history = fail_once(history, "k2")
    with pytest.raises(DomainError) as early:
        override(history, "已核对身份证原件，本人无误")
    assert early.value.code == "override_not_allowed"
    history = fail_once(history, "k3")
    with pytest.raises(DomainError) as short:
        override(history, "本人 ")
    assert short.value.code == "reason_too_short"
    [verified] = override(history, "已核对身份证原件，本人无误")
    assert isinstance(verified, CandidateVerified)
    assert (
        verified.override
        and verified.proctor_id == "proctor-1"
        and verified.reason == "已核对身份证原件，本人无误"
    )
    with pytest.raises(DomainError) as twice:
        override([*history, verified], "已核对身份证原件，本人无误")
    assert twice.value.code == "already_verified"


def test_override_without_head_photo_needs_no_failed_tries() -> None:
    [verified] = override([], "无报名头像，已核对身份证", applicant=replace(APPLICANT, head_photo_key=None))
    assert isinstance(verified, CandidateVerified) and verified.override


def test_start_needs_verification() -> None:
    with pytest.raises(DomainError) as refused:
        domain.start(
            domain.Candidate(),
            applicant=APPLICANT,
            session=session(),
            attempt_id="t",
            bank_id="b",
            questions=[],
            rules=RULES,
            timing=ExamTiming(),
            now=NOW,
        )
    assert refused.value.code == "not_verified"
