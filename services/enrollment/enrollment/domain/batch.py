"""An enrollment batch: one institution, one training mode, one position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from events import ApplicantsImported, DomainEvent
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict, DomainError

from .applicant import TRAINING_MODES


@dataclass(frozen=True)
class BatchForm:
    batch_id: str
    enterprise_id: str
    institution_id: str
    position: str
    training_mode: str
    applicants: Sequence[ImportedApplicant]
    specialisation: str | None = None
    continuing_education: bool = False


def import_batch(history: Sequence[DomainEvent], form: BatchForm) -> list[DomainEvent]:
    if history:
        raise Conflict("该批次已导入", code="batch_exists")
    if form.training_mode not in TRAINING_MODES:
        raise DomainError("培训方式应为 online（线上）或 offline（线下）", code="invalid_training_mode")
    if not form.applicants:
        raise DomainError("报名名单为空", code="empty_batch")
    return [
        ApplicantsImported(
            batch_id=form.batch_id,
            enterprise_id=form.enterprise_id,
            institution_id=form.institution_id,
            position=form.position,
            specialisation=form.specialisation,
            training_mode=form.training_mode,
            applicants=list(form.applicants),
            continuing_education=form.continuing_education,
        )
    ]
