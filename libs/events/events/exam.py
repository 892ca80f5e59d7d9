"""Exam context: question banks, sessions, check-in, attempts, results, violations and the blacklist.

The face worker is part of this context but keeps no state: it answers `FaceCheckRequested` with
`FaceChecked`, which lives in the `face` context (topic `face.events`) so that the worker never consumes its
own answers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from events.base import DomainEvent, Identifier, IdNumber, PersonName, Reason, ShortText
from events.registry import event

CONTEXT = "exam"
FACE_CONTEXT = "face"

QuestionKind = Literal["single", "multiple", "judge"]


@event(CONTEXT, "ExamSessionCreated")
class ExamSessionCreated(DomainEvent):
    """An institution scheduled an exam session in a test room."""

    session_id: Identifier
    institution_id: Identifier
    position: ShortText
    specialisation: ShortText | None = None
    starts_at: datetime
    room: ShortText
    address: ShortText = ""
    seats: int
    duration_minutes: int = 120
    created_by: Identifier = ""


@event(CONTEXT, "ExamSessionCancelled")
class ExamSessionCancelled(DomainEvent):
    session_id: Identifier
    institution_id: Identifier
    reason: Reason
    cancelled_by: Identifier = ""


@event(CONTEXT, "ExamScheduled")
class ExamScheduled(DomainEvent):
    """A candidate was given a seat in a session; the person and the enterprise are notified by this event."""

    candidate_id: Identifier
    session_id: Identifier
    applicant_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    id_number: IdNumber
    name: PersonName
    position: ShortText
    specialisation: ShortText | None = None
    starts_at: datetime
    room: ShortText
    address: ShortText = ""
    seat: int


@event(CONTEXT, "ExamUnscheduled")
class ExamUnscheduled(DomainEvent):
    """A candidate's seat was taken back (session cancelled, or the candidate removed before check-in)."""

    candidate_id: Identifier
    session_id: Identifier
    applicant_id: Identifier
    id_number: IdNumber
    reason: Reason


@event(CONTEXT, "FaceCheckRequested", topic="face.requests")
class FaceCheckRequested(DomainEvent):
    """A live camera frame was stored at check-in and must be compared with the enrollment head photo.

    Both images are named by bucket and key; the face worker reads them and keeps nothing.
    """

    check_id: Identifier
    candidate_id: Identifier
    session_id: Identifier
    attempt_no: int  # 1..max tries
    frame_bucket: ShortText
    frame_key: str
    reference_bucket: ShortText
    reference_key: str
    requested_at: datetime | None = None  # the exam server's clock when the frame was taken


@event(FACE_CONTEXT, "FaceChecked")
class FaceChecked(DomainEvent):
    """The face worker's answer to one `FaceCheckRequested` (at least once; the exam service keeps the first).

    `distance` is the Euclidean distance of the two 128-d embeddings (None when a face was missing).
    `quality_flags` name what was wrong with the frame: no_face, multiple_faces, face_too_small,
    not_frontal, too_dark, too_bright, blurred, reference_unusable, image_unreadable.
    `replay_suspected`: the frame is almost identical to the reference photo (a photo held up to the camera
    or a replayed file), which is refused whatever the distance.
    """

    check_id: Identifier
    candidate_id: Identifier
    session_id: Identifier
    match: bool
    distance: float | None = None
    threshold: float
    replay_suspected: bool = False
    quality_flags: list[ShortText] = Field(default_factory=list)
    worker: Identifier = ""
    elapsed_ms: float | None = None


@event(CONTEXT, "CheckInFailed")
class CheckInFailed(DomainEvent):
    """A face check did not verify the candidate; `attempts_left` more tries, then only a proctor override."""

    candidate_id: Identifier
    session_id: Identifier
    check_id: Identifier
    attempt_no: int
    attempts_left: int
    reasons: list[str]
    distance: float | None = None


@event(CONTEXT, "CandidateVerified")
class CandidateVerified(DomainEvent):
    """The candidate may start the exam: by a matching face check, or by a proctor's written override."""

    candidate_id: Identifier
    session_id: Identifier
    id_number: IdNumber
    check_id: Identifier | None = None
    distance: float | None = None
    override: bool = False
    proctor_id: Identifier | None = None
    reason: Reason | None = None


@event(CONTEXT, "ViolationRecorded")
class ViolationRecorded(DomainEvent):
    """A proctor recorded a violation, with evidence stored in the exam bucket."""

    violation_id: Identifier
    candidate_id: Identifier
    session_id: Identifier
    institution_id: Identifier
    id_number: IdNumber
    name: PersonName
    description: str
    evidence_keys: list[str] = Field(default_factory=list)
    recorded_by: Identifier


@event(CONTEXT, "PersonBlacklisted")
class PersonBlacklisted(DomainEvent):
    """The administrator barred a person from exams until `until` (inclusive); certificates are revoked."""

    blacklist_id: Identifier
    id_number: IdNumber
    name: PersonName = ""
    reason: Reason
    violation_id: Identifier | None = None
    until: date
    blacklisted_by: Identifier


@event(CONTEXT, "PersonBlacklistLifted")
class PersonBlacklistLifted(DomainEvent):
    blacklist_id: Identifier
    id_number: IdNumber
    reason: Reason
    lifted_by: Identifier


@event(CONTEXT, "ExamPassed")
class ExamPassed(DomainEvent):
    """A candidate passed the exam (scored at submission)."""

    attempt_id: Identifier
    applicant_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    id_number: IdNumber
    name: PersonName
    gender: ShortText = ""
    position: ShortText
    specialisation: ShortText | None = None
    score: int
    pass_mark: int
    full_marks: int = 100
    head_photo_key: str | None = None
    head_photo_bucket: ShortText | None = None
    candidate_id: Identifier | None = None
    session_id: Identifier | None = None
    answers: dict[str, list[int]] = Field(default_factory=dict)
    submitted_at: datetime | None = None
    automatic: bool = False  # submitted by the server when the time ran out


@event(CONTEXT, "ExamFailed")
class ExamFailed(DomainEvent):
    """A candidate failed the exam; the institution may apply again for them (补考)."""

    attempt_id: Identifier
    applicant_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    id_number: IdNumber
    position: ShortText
    score: int
    pass_mark: int
    full_marks: int = 100
    candidate_id: Identifier | None = None
    session_id: Identifier | None = None
    answers: dict[str, list[int]] = Field(default_factory=dict)
    submitted_at: datetime | None = None
    automatic: bool = False
