"""Exam context: results of exam attempts."""

from __future__ import annotations

from events.base import DomainEvent
from events.registry import event

CONTEXT = "exam"


@event(CONTEXT, "ExamPassed")
class ExamPassed(DomainEvent):
    """A candidate passed the exam."""

    attempt_id: str
    applicant_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    score: int
    pass_mark: int
    full_marks: int = 100
    head_photo_key: str | None = None


@event(CONTEXT, "ExamFailed")
class ExamFailed(DomainEvent):
    """A candidate failed the exam."""

    attempt_id: str
    applicant_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    position: str
    score: int
    pass_mark: int
