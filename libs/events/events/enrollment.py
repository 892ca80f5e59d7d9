"""Enrollment context: applicants are imported, qualified, enrolled, trained and apply for the exam."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from events.base import DomainEvent
from events.registry import event

CONTEXT = "enrollment"


class ImportedApplicant(BaseModel):
    """One row of an imported summary sheet (附件4): the applicant's own data."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    applicant_id: str
    name: str
    gender: str
    id_number: str
    mobile: str = ""
    education: str = ""
    employer: str = ""
    major: str = ""
    graduated_on: date | None = None
    years_in_post: int | None = None


@event(CONTEXT, "ApplicantsImported")
class ApplicantsImported(DomainEvent):
    """An enterprise imported a batch of applicants for one position and institution."""

    batch_id: str
    enterprise_id: str
    institution_id: str
    position: str
    specialisation: str | None = None
    training_mode: str
    applicants: list[ImportedApplicant]
    continuing_education: bool = False


@event(CONTEXT, "ApplicantQualified")
class ApplicantQualified(DomainEvent):
    """An applicant passed the institution's qualification review."""

    applicant_id: str
    batch_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    training_mode: str
    continuing_education: bool = False
    reviewer_id: str = ""


@event(CONTEXT, "ApplicantRejected")
class ApplicantRejected(DomainEvent):
    """An applicant failed the qualification review."""

    applicant_id: str
    batch_id: str
    enterprise_id: str
    institution_id: str
    reason: str
    reviewer_id: str = ""


@event(CONTEXT, "Enrolled")
class Enrolled(DomainEvent):
    """A qualified applicant is enrolled once the order covering them is paid."""

    applicant_id: str
    enterprise_id: str
    institution_id: str
    order_id: str
    id_number: str
    name: str
    position: str
    specialisation: str | None = None
    training_mode: str


@event(CONTEXT, "TrainingPlanned")
class TrainingPlanned(DomainEvent):
    """The institution planned an applicant's training."""

    plan_id: str
    applicant_id: str
    institution_id: str
    enterprise_id: str
    training_mode: str
    starts_on: date
    ends_on: date
    place: str = ""


@event(CONTEXT, "ExamApplied")
class ExamApplied(DomainEvent):
    """An enrolled applicant applied for the exam."""

    applicant_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    name: str
    gender: str = ""
    position: str
    specialisation: str | None = None
    head_photo_key: str | None = None
