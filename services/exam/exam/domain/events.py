"""The exam context's internal events: stored in its own event store, never published to Kafka, not part
of the contract in `libs/events` (they may change freely; see `DomainEvent.public`)."""

from __future__ import annotations

from datetime import datetime

from events import DomainEvent, event
from events.base import TEXT_MAX_LENGTH, Identifier, IdNumber, ShortText
from events.exam import QuestionKind
from pydantic import BaseModel, ConfigDict, Field

CONTEXT = "exam"


class BankQuestion(BaseModel):
    """One question of a bank. `answer` holds the indexes of the correct options (one for single/judge)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    question_id: Identifier
    kind: QuestionKind
    stem: str
    options: list[str]
    answer: list[int]
    points: int | None = None  # the bank's own points; the paper rule's points win when it sets them


@event(CONTEXT, "QuestionBankImported", public=False)
class QuestionBankImported(DomainEvent):
    """A question bank (or one part of a large one) was imported for a position.

    A bank with many questions is split into several events with the same `bank_id` (`part` of `parts`),
    appended atomically, so that no Kafka message grows large.
    """

    bank_id: Identifier
    owner_id: Identifier  # the institution id, or "admin" for a bank every institution may use
    position: ShortText
    specialisation: ShortText | None = None
    title: ShortText
    demo: bool = False
    questions: list[BankQuestion]
    part: int = 1
    parts: int = 1
    imported_by: Identifier = ""


@event(CONTEXT, "QuestionBankRetired", public=False)
class QuestionBankRetired(DomainEvent):
    """A bank is no longer used for new papers (papers already drawn keep their questions)."""

    bank_id: Identifier
    owner_id: Identifier
    retired_by: Identifier = ""


class PaperQuestion(BaseModel):
    """A question as drawn for one candidate: options in the candidate's order, the answer mapped to it."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    question_id: Identifier
    kind: QuestionKind
    stem: str
    options: list[str]
    answer: list[int]
    points: int


@event(CONTEXT, "ExamStarted", public=False)
class ExamStarted(DomainEvent):
    """A verified candidate started; the paper is drawn and the server's clock runs from `started_at`."""

    attempt_id: Identifier
    candidate_id: Identifier
    session_id: Identifier
    id_number: IdNumber
    bank_id: Identifier
    questions: list[PaperQuestion]
    started_at: datetime
    deadline: datetime
    earliest_submission: datetime


@event(CONTEXT, "AnswersSaved", public=False)
class AnswersSaved(DomainEvent):
    """Legacy: an autosave as an event (all answers so far, replacing earlier saves). No longer appended (the
    saves go to the attempt's answer sheet, `domain.answers`); still read so that older streams load."""

    attempt_id: Identifier
    candidate_id: Identifier
    answers: dict[str, list[int]]
    saved_at: datetime


@event(CONTEXT, "PaperSubmitted", public=False)
class PaperSubmitted(DomainEvent):
    """The paper was submitted (by the candidate, or automatically at the deadline) with these final answers,
    read from the attempt's closed answer sheet. Appended with ExamPassed / ExamFailed (the score only)."""

    attempt_id: Identifier
    candidate_id: Identifier
    answers: dict[str, list[int]]
    saved_at: datetime | None = None  # when the answers were last saved
    saves: int = 0  # how many saves the sheet accepted (the submission's own answers included)
    submitted_at: datetime
    automatic: bool = False


# In-exam (dynamic) face verification (`domain.live`). The request itself is the public FaceCheckRequested
# (topic face.requests, keys only), its frame under `live/…`; these stay in the candidate's stream.


@event(CONTEXT, "LiveCheckConsented", public=False)
class LiveCheckConsented(DomainEvent):
    """The candidate agreed to camera frames being taken and compared during the exam (once)."""

    candidate_id: Identifier
    consented_at: datetime


@event(CONTEXT, "LiveCheckAnswered", public=False)
class LiveCheckAnswered(DomainEvent):
    """The face worker's first answer to an in-exam check, as the exam service reads it: `state` is match,
    mismatch, no_face, several_faces or unusable; `consecutive_mismatches` the candidate's count after it
    (a match resets it, an unusable frame leaves it as it was)."""

    candidate_id: Identifier
    session_id: Identifier
    check_id: Identifier
    state: ShortText
    distance: float | None = None
    threshold: float | None = None
    quality_flags: list[ShortText] = Field(default_factory=list)
    replay_suspected: bool = False
    frame_key: str
    requested_at: datetime | None = None
    answered_at: datetime
    consecutive_mismatches: int = 0


@event(CONTEXT, "LiveAlertDismissed", public=False)
class LiveAlertDismissed(DomainEvent):
    """The proctor looked at an in-exam alert and dismissed it (the count of mismatches is unchanged)."""

    candidate_id: Identifier
    session_id: Identifier
    check_id: Identifier
    dismissed_by: Identifier
    reason: str | None = None
    dismissed_at: datetime
