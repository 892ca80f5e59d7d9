"""An enrollment batch: one institution, one training mode, one position (materials are prepared per
position and mode). A large batch is several ApplicantsImported events of the same batch, appended at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from events import ApplicantsImported, DomainEvent
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict, DomainError

from .reference import TRAINING_MODES

CHUNK = 500  # applicants per event: keeps each Kafka message well under 1 MB


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


def import_batch(history: Sequence[DomainEvent], form: BatchForm, *, chunk: int = CHUNK) -> list[DomainEvent]:
    if history:
        raise Conflict("该批次已导入", code="batch_exists")
    if form.training_mode not in TRAINING_MODES:
        raise DomainError("培训方式应为 online（线上）或 offline（线下）", code="invalid_training_mode")
    if not form.applicants:
        raise DomainError("报名名单为空", code="empty_batch")
    applicants = list(form.applicants)
    return [
        ApplicantsImported(
            batch_id=form.batch_id,
            enterprise_id=form.enterprise_id,
            institution_id=form.institution_id,
            position=form.position,
            specialisation=form.specialisation,
            training_mode=form.training_mode,
            applicants=applicants[i : i + chunk],
            continuing_education=form.continuing_education,
        )
        for i in range(0, len(applicants), chunk)
    ]
