"""One candidate (one ExamApplied) from check-in to result: face checks, proctor override, the timed exam
and the scored submission (decisions, free of I/O; `now` is always passed in).

The candidate's stream (`candidate-<id>`) holds FaceCheckRequested, CheckInFailed, CandidateVerified,
ExamStarted, then PaperSubmitted with ExamPassed / ExamFailed. The autosaves in between are not in it: they
overwrite the attempt's answer sheet (`domain.answers`), whose final answers PaperSubmitted records (streams
of older attempts may hold AnswersSaved events, still read). The seat itself lives in the session's stream
(`domain.session`), which the caller passes in as a `Session`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias

from events import (
    CandidateVerified,
    CheckInFailed,
    DomainEvent,
    ExamFailed,
    ExamPassed,
    FaceChecked,
    FaceCheckRequested,
)
from servicekit.errors import Conflict, DomainError

from exam.domain.events import (
    AnswersSaved,
    ExamStarted,
    LiveAlertDismissed,
    LiveCheckAnswered,
    LiveCheckConsented,
    PaperQuestion,
    PaperSubmitted,
)

from . import answers as sheets
from .session import Applicant, Session
from .timing import CheckInRules, ExamTiming, ScoringRules, local_text, minutes_ceil

# Why a face check failed, each as what happened and what to do, once. The codes are the face worker's
# quality flags (events.FaceChecked.quality_flags) and `replay_suspected`, `face_mismatch`, `not_matched`.
RETAKE = "请考生本人正对摄像头重新拍摄"
REPLAY = "replay_suspected"
MISMATCH = "face_mismatch"
NOT_MATCHED = "not_matched"
REASONS = {
    REPLAY: f"疑似翻拍或重放的照片：{RETAKE}",
    "no_face": "未检测到人脸：请考生正对摄像头、露出完整面部后重新拍摄",
    "multiple_faces": "画面中有多张人脸：请确保镜头前只有考生本人后重新拍摄",
    "face_too_small": "人脸过小：请考生靠近摄像头后重新拍摄",
    "not_frontal": "人脸未正对摄像头：请考生正视摄像头后重新拍摄",
    "too_dark": "画面过暗：请打开照明或面向光源后重新拍摄",
    "too_bright": "画面过亮：请避开强光、背光后重新拍摄",
    "blurred": "画面模糊：请保持不动、擦净镜头后重新拍摄",
    "reference_unusable": "报名头像无法用于比对：请监考人员核对考生身份证件，按人工放行办理",
    "image_unreadable": "照片无法读取：请重新拍摄并上传",
    NOT_MATCHED: f"人脸比对未通过：{RETAKE}",
}
MISMATCH_PREFIX = "人脸比对不一致"
_MISMATCH_NUMBERS = re.compile(r"距离 ([0-9.]+)，阈值 ([0-9.]+)")
# Texts of events recorded before the reasons said what to do (shown as today's text, same code).
LEGACY_REASONS = {
    "疑似翻拍/重放照片": REPLAY,
    "未检测到人脸": "no_face",
    "画面中有多张人脸": "multiple_faces",
    "人脸过小，请靠近摄像头": "face_too_small",
    "请正对摄像头": "not_frontal",
    "画面过暗": "too_dark",
    "画面过亮": "too_bright",
    "画面模糊": "blurred",
    "报名头像无法用于比对": "reference_unusable",
    "图片无法读取": "image_unreadable",
    "人脸比对未通过": NOT_MATCHED,
}
MIN_OVERRIDE_REASON = 5
# The frames of in-exam checks (`domain.live`) are stored under this prefix: a FaceCheckRequested whose frame
# is there is an in-exam check, any other one a check-in.
LIVE_PREFIX = "live/"


def is_live(request: FaceCheckRequested) -> bool:
    return request.frame_key.startswith(LIVE_PREFIX)


Result: TypeAlias = ExamPassed | ExamFailed
Scorer: TypeAlias = Callable[[Sequence[PaperQuestion], Mapping[str, Sequence[int]]], int]


@dataclass
class Candidate:
    candidate_id: str = ""
    checks: dict[str, FaceCheckRequested] = field(default_factory=dict)
    answered: dict[str, CheckInFailed | CandidateVerified] = field(default_factory=dict)
    failures: int = 0
    last_failure: CheckInFailed | None = None
    verified: CandidateVerified | None = None
    started: ExamStarted | None = None
    answers: dict[str, list[int]] = field(default_factory=dict)
    saved_at: datetime | None = None
    result: Result | None = None
    # in-exam checks (domain.live): consent, the requests by check id, their answers, dismissed alerts
    consented_at: datetime | None = None
    live: dict[str, FaceCheckRequested] = field(default_factory=dict)
    live_answers: dict[str, LiveCheckAnswered] = field(default_factory=dict)
    consecutive_mismatches: int = 0
    dismissed: dict[str, LiveAlertDismissed] = field(default_factory=dict)

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Candidate:
        state = cls()
        for event in history:
            match event:
                case FaceCheckRequested() if is_live(event):
                    state.live[event.check_id] = event
                case FaceCheckRequested():
                    state.candidate_id = event.candidate_id
                    state.checks[event.check_id] = event
                case LiveCheckConsented():
                    state.consented_at = state.consented_at or event.consented_at
                case LiveCheckAnswered():
                    state.live_answers[event.check_id] = event
                    state.consecutive_mismatches = event.consecutive_mismatches
                case LiveAlertDismissed():
                    state.dismissed[event.check_id] = event
                case CheckInFailed():
                    state.answered[event.check_id] = event
                    state.failures += 1
                    state.last_failure = event
                case CandidateVerified():
                    state.candidate_id = event.candidate_id
                    if event.check_id:
                        state.answered[event.check_id] = event
                    state.verified = event
                case ExamStarted():
                    state.started = event
                case AnswersSaved():  # legacy: autosaves of attempts started before the answer sheets
                    state.answers, state.saved_at = dict(event.answers), event.saved_at
                case PaperSubmitted():
                    state.answers, state.saved_at = dict(event.answers), event.saved_at
                case ExamPassed() | ExamFailed():
                    state.result = event
        return state

    @property
    def pending(self) -> FaceCheckRequested | None:
        """The latest face check still waiting for the worker's answer."""
        waiting = [c for c in self.checks.values() if c.check_id not in self.answered]
        return waiting[-1] if waiting else None

    @property
    def checked_in(self) -> bool:
        return self.verified is not None or self.started is not None or self.result is not None


def _scheduled(session: Session, candidate_id: str) -> None:
    if not session.exists or not session.holds(candidate_id):
        raise Conflict("该考生未被安排在有效的考场，请联系培训机构", code="not_scheduled")


def _blacklisted(until: date | None) -> None:
    if until is not None:
        raise Conflict(
            f"该考生已被列入考试黑名单（至 {until.isoformat()}），不能参加考试", code="blacklisted"
        )


def _window(session: Session, rules: CheckInRules, now: datetime) -> None:
    opens, closes = rules.opens_at(session.start), rules.closes_at(session.start)
    if now < opens:
        raise Conflict(
            f"入场核验尚未开始：开考前 {minutes_ceil(rules.opens_before)} 分钟（{local_text(opens)}）开放，"
            f"还需等待 {minutes_ceil(opens - now)} 分钟",
            code="checkin_not_open",
            details={"opens_at": opens.isoformat(), "seconds_until_open": int((opens - now).total_seconds())},
        )
    if now > closes:
        raise Conflict(
            f"入场核验已结束（开考后 {minutes_ceil(rules.closes_after)} 分钟，即 {local_text(closes)} 截止）",
            code="checkin_closed",
            details={"closed_at": closes.isoformat()},
        )


def request_face_check(
    state: Candidate,
    *,
    applicant: Applicant,
    session: Session,
    check_id: str,
    frame_bucket: str,
    frame_key: str,
    rules: CheckInRules,
    now: datetime,
    blacklisted_until: date | None = None,
) -> list[DomainEvent]:
    """A live frame was (or is about to be) stored: ask the face worker to compare it with the head photo."""
    _scheduled(session, applicant.candidate_id)
    _blacklisted(blacklisted_until)
    if state.started is not None or state.result is not None:
        raise Conflict("该考生已开始考试", code="exam_already_started")
    if state.verified is not None:
        raise Conflict("该考生已通过入场核验，可以开始考试", code="already_verified")
    _window(session, rules, now)
    if not applicant.head_photo_key or not applicant.head_photo_bucket:
        raise DomainError(
            "该考生报名材料中没有头像，无法进行人脸比对；请监考人员核对身份证件后填写原因人工放行",
            code="no_head_photo",
            status=409,
        )
    if state.failures >= rules.max_attempts:
        raise Conflict(
            f"人脸核验已失败 {state.failures} 次，不能再次核验；请监考人员核对身份后填写原因人工放行",
            code="checkin_attempts_exhausted",
            details={"failures": state.failures, "max_attempts": rules.max_attempts},
        )
    pending = state.pending
    if (
        pending is not None
        and pending.requested_at is not None
        and now - pending.requested_at < rules.pending_timeout
    ):
        raise Conflict(
            "上一张照片正在比对中，请稍候查看结果",
            code="check_pending",
            details={"check_id": pending.check_id},
        )
    return [
        FaceCheckRequested(
            check_id=check_id,
            candidate_id=applicant.candidate_id,
            session_id=session.session_id,
            attempt_no=state.failures + 1,
            frame_bucket=frame_bucket,
            frame_key=frame_key,
            reference_bucket=applicant.head_photo_bucket,
            reference_key=applicant.head_photo_key,
            requested_at=now,
        )
    ]


def mismatch_reason(distance: float, threshold: float) -> str:
    return f"{MISMATCH_PREFIX}（距离 {distance:.2f}，阈值 {threshold:.2f}）：请确认是考生本人后重新拍摄"


def failure_causes(checked: FaceChecked) -> list[tuple[str, str]]:
    """(code, text) of why a check failed, each saying what to do, none contradicting another: a suspected
    replay is refused for that alone (its distance is small by nature, so no distance clause); the distance
    is named only when it is what failed (above the threshold), not when the face was close enough and the
    frame's quality refused it."""
    if checked.replay_suspected:
        return [(REPLAY, REASONS[REPLAY])]
    causes = [(flag, REASONS.get(flag, flag)) for flag in checked.quality_flags]
    if not checked.match and checked.distance is not None and checked.distance > checked.threshold:
        causes.append((MISMATCH, mismatch_reason(checked.distance, checked.threshold)))
    if not causes:
        causes.append((NOT_MATCHED, REASONS[NOT_MATCHED]))
    return causes


def failure_reasons(checked: FaceChecked) -> list[str]:
    return [text for _, text in failure_causes(checked)]


def reason_code(text: str) -> str:
    """The code of a recorded reason (today's text or an older one)."""
    for code, known in REASONS.items():
        if text == known:
            return code
    if text.startswith(MISMATCH_PREFIX):
        return MISMATCH
    return LEGACY_REASONS.get(text, text)


def reasons_view(reasons: Sequence[str]) -> list[tuple[str, str]]:
    """(code, text) of a CheckInFailed's reasons as shown today: an older event's texts in today's words, and
    a suspected replay once, without the contradictory distance clause older events carry."""
    causes: list[tuple[str, str]] = []
    for text in reasons:
        code = reason_code(text)
        shown = REASONS.get(code, text)
        if code == MISMATCH:
            found = _MISMATCH_NUMBERS.search(text)
            if found is not None:
                distance, threshold = float(found[1]), float(found[2])
                if distance <= threshold:  # an older event's clause beside a quality flag: not what failed
                    continue
                shown = mismatch_reason(distance, threshold)
        if (code, shown) not in causes:
            causes.append((code, shown))
    if any(code == REPLAY for code, _ in causes):
        return [(REPLAY, REASONS[REPLAY])]
    return causes or [(NOT_MATCHED, REASONS[NOT_MATCHED])]


def face_checked(
    state: Candidate, checked: FaceChecked, *, id_number: str, max_attempts: int
) -> list[DomainEvent]:
    """The worker's answer: only the first answer of a known, unanswered check counts."""
    request = state.checks.get(checked.check_id)
    if request is None or checked.check_id in state.answered or state.checked_in:
        return []
    if checked.match and not checked.replay_suspected:
        return [
            CandidateVerified(
                candidate_id=request.candidate_id,
                session_id=request.session_id,
                id_number=id_number,
                check_id=checked.check_id,
                distance=checked.distance,
            )
        ]
    return [
        CheckInFailed(
            candidate_id=request.candidate_id,
            session_id=request.session_id,
            check_id=checked.check_id,
            attempt_no=request.attempt_no,
            attempts_left=max(0, max_attempts - state.failures - 1),
            reasons=failure_reasons(checked),
            distance=checked.distance,
        )
    ]


def override(
    state: Candidate,
    *,
    applicant: Applicant,
    session: Session,
    proctor_id: str,
    reason: str,
    rules: CheckInRules,
    now: datetime,
    blacklisted_until: date | None = None,
) -> list[DomainEvent]:
    """A proctor verifies the candidate by hand once the face checks are used up (or with no head photo)."""
    _scheduled(session, applicant.candidate_id)
    _blacklisted(blacklisted_until)
    if state.checked_in:
        raise Conflict("该考生已通过入场核验", code="already_verified")
    text = reason.strip()
    if len(text) < MIN_OVERRIDE_REASON:
        raise DomainError(
            f"人工放行须填写原因（至少 {MIN_OVERRIDE_REASON} 个字），如“已核对身份证原件，本人无误”",
            code="reason_too_short",
        )
    no_photo = not applicant.head_photo_key
    if state.failures < rules.max_attempts and not no_photo:
        raise Conflict(
            f"人脸核验失败 {rules.max_attempts} 次后才可人工放行（已失败 {state.failures} 次）",
            code="override_not_allowed",
            details={"failures": state.failures, "max_attempts": rules.max_attempts},
        )
    _window(session, rules, now)
    return [
        CandidateVerified(
            candidate_id=applicant.candidate_id,
            session_id=session.session_id,
            id_number=applicant.id_number,
            override=True,
            proctor_id=proctor_id,
            reason=text,
        )
    ]


def start(
    state: Candidate,
    *,
    applicant: Applicant,
    session: Session,
    attempt_id: str,
    bank_id: str,
    questions: Sequence[PaperQuestion],
    rules: CheckInRules,
    timing: ExamTiming,
    now: datetime,
    blacklisted_until: date | None = None,
) -> list[DomainEvent]:
    """ExamStarted: the verified candidate gets the drawn paper; the server's clock runs from now.
    Nothing if already started (the caller answers with the running attempt)."""
    if state.started is not None:
        return []
    _scheduled(session, applicant.candidate_id)
    _blacklisted(blacklisted_until)
    if state.verified is None or state.verified.session_id != session.session_id:
        raise Conflict("请先通过入场人脸核验", code="not_verified")
    opens = rules.start_opens_at(session.start)
    if now < opens:
        wait = opens - now
        when = (
            f"{local_text(opens)} 开考后"
            if opens == session.start
            else f"{local_text(opens)}（开考前 {minutes_ceil(rules.start_opens_before)} 分钟）起"
        )
        raise Conflict(
            f"考场尚未开考：{when}方可开始答题，还需等待 {minutes_ceil(wait)} 分钟",
            code="session_not_started",
            details={
                "starts_at": session.start.isoformat(),
                "opens_at": opens.isoformat(),
                "opens_at_local": local_text(opens),
                "seconds_until_start": max(1, math.ceil(wait.total_seconds())),
                "minutes_until_start": minutes_ceil(wait),
            },
        )
    if now > rules.closes_at(session.start):
        raise Conflict(
            f"已超过最晚入场时间（{local_text(rules.closes_at(session.start))}），不能开始考试",
            code="start_closed",
        )
    if not questions:
        raise DomainError("试卷没有试题", code="empty_paper")
    return [
        ExamStarted(
            attempt_id=attempt_id,
            candidate_id=applicant.candidate_id,
            session_id=session.session_id,
            id_number=applicant.id_number,
            bank_id=bank_id,
            questions=list(questions),
            started_at=now,
            deadline=timing.deadline(now, session.duration_minutes),
            earliest_submission=timing.earliest_submission(now, session.duration_minutes),
        )
    ]


def validate_answers(
    questions: Sequence[PaperQuestion], answers: Mapping[str, Sequence[int]]
) -> dict[str, list[int]]:
    """Only the paper's question ids, valid option indexes, one choice for single/judge questions."""
    return sheets.validate(sheets.slots_of(questions), answers)


def _running(state: Candidate) -> ExamStarted:
    if state.started is None:
        raise Conflict("考试尚未开始", code="exam_not_started")
    if state.result is not None:
        raise Conflict("试卷已提交，不能再修改答案", code="already_submitted")
    return state.started


def time_up(state: Candidate, now: datetime) -> bool:
    """Started, not scored, and the deadline has come: the paper must be submitted automatically."""
    return state.started is not None and state.result is None and now >= state.started.deadline


def sheet_of(state: Candidate) -> sheets.AnswerSheet:
    """The attempt's answer sheet as the stream alone knows it: made when the exam starts, or later for an
    attempt that has none (started before the sheets existed: its last AnswersSaved; or a crash right after
    the start). Closed if the paper was scored."""
    if state.started is None:
        raise Conflict("考试尚未开始", code="exam_not_started")
    started = state.started
    closed_by = None
    if state.result is not None:
        closed_by = sheets.AUTOMATICALLY if state.result.automatic else sheets.BY_CANDIDATE
    return sheets.AnswerSheet(
        attempt_id=started.attempt_id,
        candidate_id=started.candidate_id,
        started_at=started.started_at,
        deadline=started.deadline,
        earliest_submission=started.earliest_submission,
        slots=sheets.slots_of(started.questions),
        answers=dict(state.answers),
        saved_at=state.saved_at,
        save_no=0,
        closed_by=closed_by,
        result=result_view(state.result) if state.result is not None else None,
    )


@dataclass(frozen=True)
class Submission:
    """A submission that happens now: the candidate's own, or the automatic one (at the deadline)."""

    automatic: bool
    submitted_at: datetime


def submission(state: Candidate, *, now: datetime, automatic: bool = False) -> Submission | None:
    """Whether the paper is submitted now: by the candidate (from `earliest_submission` on) or automatically.

    None when already scored (a repeated submit gets the same result) or when an automatic submission comes
    before the deadline. After the deadline every submission is the automatic one, at the deadline, with the
    answers saved in time.
    """
    if state.result is not None:
        return None
    started = _running(state)
    if now >= started.deadline:
        return Submission(automatic=True, submitted_at=started.deadline)
    if automatic:
        return None
    if now < started.earliest_submission:
        left = started.earliest_submission - now
        minutes = int((started.earliest_submission - started.started_at).total_seconds() // 60)
        raise DomainError(
            f"开考 {minutes} 分钟后方可交卷，还需等待 {minutes_ceil(left)} 分钟",
            code="submit_too_early",
            status=409,
            details={
                "seconds_left": max(1, int(left.total_seconds() + 0.999)),
                "minutes_left": minutes_ceil(left),
                "earliest_submission": started.earliest_submission.isoformat(),
            },
        )
    return Submission(automatic=False, submitted_at=now)


def submit(
    state: Candidate,
    *,
    applicant: Applicant,
    scorer: Scorer,
    rules: ScoringRules,
    now: datetime,
    answers: Mapping[str, Sequence[int]] | None = None,
    saved_at: datetime | None = None,
    saves: int = 0,
    automatic: bool = False,
) -> list[DomainEvent]:
    """Score the paper (see `submission` for when): PaperSubmitted with the final answers, then ExamPassed or
    ExamFailed with the score only. Nothing when already scored or when an automatic submission comes before
    the deadline.

    `answers`: the final answers, as read from the attempt's closed answer sheet (checked when they were
    saved); None: those in the stream (an attempt of the time when autosaves were events).
    """
    plan = submission(state, now=now, automatic=automatic)
    if plan is None:
        return []
    started = _running(state)
    final = {k: list(v) for k, v in (state.answers if answers is None else answers).items()}
    total = scorer(started.questions, final)
    a = applicant
    common: dict[str, Any] = {
        "attempt_id": started.attempt_id,
        "applicant_id": a.applicant_id,
        "enterprise_id": a.enterprise_id,
        "institution_id": a.institution_id,
        "id_number": a.id_number,
        "position": a.position,
        "score": total,
        "pass_mark": rules.pass_mark,
        "full_marks": rules.full_marks,
        "candidate_id": a.candidate_id,
        "session_id": started.session_id,
        "submitted_at": plan.submitted_at,
        "automatic": plan.automatic,
    }
    events: list[DomainEvent] = [
        PaperSubmitted(
            attempt_id=started.attempt_id,
            candidate_id=started.candidate_id,
            answers=final,
            saved_at=state.saved_at if answers is None else saved_at,
            saves=saves,
            submitted_at=plan.submitted_at,
            automatic=plan.automatic,
        )
    ]
    if total >= rules.pass_mark:
        events.append(
            ExamPassed(
                **common,
                name=a.name,
                gender=a.gender,
                specialisation=a.specialisation,
                head_photo_key=a.head_photo_key,
                head_photo_bucket=a.head_photo_bucket,
            )
        )
    else:
        events.append(ExamFailed(**common))
    return events


def result_view(result: Result) -> dict[str, Any]:
    return {
        "attempt_id": result.attempt_id,
        "candidate_id": result.candidate_id,
        "score": result.score,
        "pass_mark": result.pass_mark,
        "full_marks": result.full_marks,
        "passed": isinstance(result, ExamPassed),
        "result_label": "合格" if isinstance(result, ExamPassed) else "不合格",
        "automatic": result.automatic,
        "submitted_at": result.submitted_at.isoformat() if result.submitted_at else None,
    }
