"""In-exam (dynamic) face verification, 动态人脸核验 (decisions, free of I/O; `now` is always passed in).

While the exam runs, the exam page sends a camera frame every `interval` seconds (± `jitter`, random) once the
candidate has consented. Each frame is a `FaceCheckRequested` on the candidate's stream, its frame under
`live/<candidate>/<check>.jpg` (`candidate.is_live`), answered by the face workers exactly as at check-in
(`FaceChecked`); the exam service turns the first answer into `LiveCheckAnswered`:

- match: the same person (the face worker's match, no replay suspected);
- several_faces: more than one face in the frame; no_face: nobody in front of the camera;
- mismatch: another person (distance above the threshold) or a photo held up to the camera (replay);
- unusable: the frame could not be judged (too dark, blurred, not frontal, face too small, unreadable).

mismatch, no_face and several_faces raise an alert for the proctor and count as consecutive mismatches; a
match resets the count; an unusable frame neither counts nor resets. From `violation_threshold` consecutive
mismatches on, the proctor may record a violation with such a frame as its evidence.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from events import DomainEvent, FaceChecked, FaceCheckRequested
from servicekit.errors import Conflict, DomainError, NotFound

from .candidate import LIVE_PREFIX, Candidate
from .events import ExamStarted, LiveAlertDismissed, LiveCheckAnswered, LiveCheckConsented
from .session import Applicant
from .timing import local_iso

MATCH = "match"
MISMATCH = "mismatch"
NO_FACE = "no_face"
SEVERAL_FACES = "several_faces"
UNUSABLE = "unusable"
PENDING = "pending"
ALERTS = (MISMATCH, NO_FACE, SEVERAL_FACES)  # what the proctor is alerted to; each counts as a mismatch
STATE_LABELS = {
    PENDING: "比对中",
    MATCH: "本人",
    MISMATCH: "人脸不一致",
    NO_FACE: "未检测到人脸",
    SEVERAL_FACES: "画面中有多张人脸",
    UNUSABLE: "画面无法判断",
}
MAX_DISMISS_REASON = 500


@dataclass(frozen=True)
class LiveCheckRules:
    interval: timedelta = timedelta(seconds=60)
    jitter: timedelta = timedelta(seconds=15)
    violation_threshold: int = 3
    retention: timedelta = timedelta(days=30)

    @property
    def min_gap(self) -> timedelta:
        """The shortest time between two frames of one candidate (a third of the interval)."""
        return self.interval / 3

    def next_in_seconds(self, rng: random.Random) -> int:
        """When the page sends the next frame: the interval ± the jitter, never sooner than the min. gap."""
        interval, jitter = int(self.interval.total_seconds()), int(self.jitter.total_seconds())
        return max(math.ceil(self.min_gap.total_seconds()), rng.randint(interval - jitter, interval + jitter))


def frame_key(candidate_id: str, check_id: str) -> str:
    return f"{LIVE_PREFIX}{candidate_id}/{check_id}.jpg"


def check_id_of_key(key: str) -> str | None:
    """The check id of an in-exam frame's key (`live/<candidate>/<check>.jpg`), None for any other key."""
    if not key.startswith(LIVE_PREFIX) or not key.endswith(".jpg"):
        return None
    parts = key[len(LIVE_PREFIX) : -len(".jpg")].split("/")
    return parts[1] if len(parts) == 2 and parts[1] else None


def consent(state: Candidate, *, candidate_id: str, now: datetime) -> list[DomainEvent]:
    """The candidate's consent, recorded once (a repeated consent changes nothing)."""
    if state.consented_at is not None:
        return []
    return [LiveCheckConsented(candidate_id=candidate_id, consented_at=now)]


def running(state: Candidate, now: datetime) -> ExamStarted:
    """The exam in progress (started, not submitted, before the deadline), or 409 exam_not_in_progress."""
    started = state.started
    if started is None or state.result is not None or now >= started.deadline:
        if started is None:
            why = "考试尚未开始"
        elif state.result is not None:
            why = "试卷已提交"
        else:
            why = "考试时间已到"
        raise Conflict(f"{why}，不在考试中，无需人脸核验", code="exam_not_in_progress")
    return started


def last_requested_at(state: Candidate) -> datetime | None:
    times = [r.requested_at for r in state.live.values() if r.requested_at is not None]
    return max(times) if times else None


def request(
    state: Candidate,
    *,
    applicant: Applicant,
    check_id: str,
    frame_bucket: str,
    rules: LiveCheckRules,
    now: datetime,
) -> list[DomainEvent]:
    """A frame taken during the exam (stored, or about to be, at `frame_key`): ask the face worker to
    compare it with the head photo. Refused without consent, outside the exam, or sooner than the minimum
    gap after the previous frame."""
    if state.consented_at is None:
        raise Conflict("请先阅读并同意考试中的人脸核验说明", code="consent_required")
    started = running(state, now)
    last = last_requested_at(state)
    if last is not None and now - last < rules.min_gap:
        allowed = last + rules.min_gap
        wait = max(1, math.ceil((allowed - now).total_seconds()))
        raise DomainError(
            f"上传过于频繁：距上一张照片不足 {math.ceil(rules.min_gap.total_seconds())} 秒，"
            f"请 {wait} 秒后再试",
            code="live_check_too_soon",
            status=429,
            details={"next_allowed_at": local_iso(allowed), "retry_after_seconds": wait},
        )
    if not applicant.head_photo_key or not applicant.head_photo_bucket:
        raise DomainError(
            "该考生报名材料中没有头像，无法进行考试中的人脸核验；请监考人员现场核对身份",
            code="no_head_photo",
            status=409,
        )
    return [
        FaceCheckRequested(
            check_id=check_id,
            candidate_id=applicant.candidate_id,
            session_id=started.session_id,
            attempt_no=len(state.live) + 1,  # the in-exam check's number
            frame_bucket=frame_bucket,
            frame_key=frame_key(applicant.candidate_id, check_id),
            reference_bucket=applicant.head_photo_bucket,
            reference_key=applicant.head_photo_key,
            requested_at=now,
        )
    ]


def state_of(checked: FaceChecked) -> str:
    """What the face worker's answer means during the exam (see the module's docstring)."""
    if checked.match and not checked.replay_suspected:
        return MATCH
    if "multiple_faces" in checked.quality_flags:
        return SEVERAL_FACES
    if "no_face" in checked.quality_flags:
        return NO_FACE
    if checked.replay_suspected:
        return MISMATCH
    if checked.distance is not None and checked.distance > checked.threshold:
        return MISMATCH
    return UNUSABLE


def next_count(count: int, state: str) -> int:
    if state == MATCH:
        return 0
    if state in ALERTS:
        return count + 1
    return count


def answered(state: Candidate, checked: FaceChecked, *, now: datetime) -> list[DomainEvent]:
    """The first answer to a known in-exam check; nothing for another one or a repeated answer."""
    asked = state.live.get(checked.check_id)
    if asked is None or checked.check_id in state.live_answers:
        return []
    verdict = state_of(checked)
    return [
        LiveCheckAnswered(
            candidate_id=asked.candidate_id,
            session_id=asked.session_id,
            check_id=asked.check_id,
            state=verdict,
            distance=checked.distance,
            threshold=checked.threshold,
            quality_flags=list(checked.quality_flags),
            replay_suspected=checked.replay_suspected,
            frame_key=asked.frame_key,
            requested_at=asked.requested_at,
            answered_at=now,
            consecutive_mismatches=next_count(state.consecutive_mismatches, verdict),
        )
    ]


def alert(state: Candidate, check_id: str) -> LiveCheckAnswered:
    """The answered in-exam check that raised an alert (404 live_alert_not_found otherwise)."""
    answer = state.live_answers.get(check_id)
    if answer is None or answer.state not in ALERTS:
        raise NotFound("未找到该人脸核验提醒", code="live_alert_not_found")
    return answer


def dismiss(
    state: Candidate, check_id: str, *, dismissed_by: str, reason: str | None, now: datetime
) -> list[DomainEvent]:
    """The proctor dismisses an alert (once; again: nothing). The count of mismatches stays."""
    answer = alert(state, check_id)
    if check_id in state.dismissed:
        return []
    text = (reason or "").strip() or None
    if text is not None and len(text) > MAX_DISMISS_REASON:
        raise DomainError(f"原因不能超过 {MAX_DISMISS_REASON} 个字", code="reason_too_long")
    return [
        LiveAlertDismissed(
            candidate_id=answer.candidate_id,
            session_id=answer.session_id,
            check_id=check_id,
            dismissed_by=dismissed_by,
            reason=text,
            dismissed_at=now,
        )
    ]


def violation_allowed(state: Candidate, rules: LiveCheckRules) -> bool:
    return state.consecutive_mismatches >= rules.violation_threshold


def violation_evidence(state: Candidate, check_id: str, rules: LiveCheckRules) -> str:
    """The frame key of an alert's check that a violation may name as its evidence: only once the candidate
    has had `violation_threshold` consecutive mismatches (409 violation_not_allowed before)."""
    answer = alert(state, check_id)
    if not violation_allowed(state, rules):
        raise Conflict(
            f"连续 {rules.violation_threshold} 次人脸核验不一致后才可据此记录违纪"
            f"（目前连续 {state.consecutive_mismatches} 次）",
            code="violation_not_allowed",
            details={
                "consecutive_mismatches": state.consecutive_mismatches,
                "threshold": rules.violation_threshold,
            },
        )
    return answer.frame_key


def checks_view(state: Candidate) -> list[dict[str, object]]:
    """The candidate's in-exam checks, newest first."""
    items: list[dict[str, object]] = []
    for check_id, asked in state.live.items():
        answer = state.live_answers.get(check_id)
        verdict = answer.state if answer is not None else PENDING
        items.append(
            {
                "check_id": check_id,
                "requested_at": local_iso(asked.requested_at) if asked.requested_at else None,
                "state": verdict,
                "state_label": STATE_LABELS.get(verdict, verdict),
                "distance": answer.distance if answer is not None else None,
                "answered_at": local_iso(answer.answered_at) if answer is not None else None,
            }
        )
    items.reverse()
    return items
