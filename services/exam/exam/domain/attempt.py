"""An exam attempt of one candidate: scored once, passed at the pass mark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from events import DomainEvent, ExamFailed, ExamPassed
from servicekit.errors import Conflict, DomainError


@dataclass(frozen=True)
class Candidate:
    applicant_id: str
    enterprise_id: str
    institution_id: str
    id_number: str
    name: str
    gender: str
    position: str
    specialisation: str | None = None
    head_photo_key: str | None = None


@dataclass(frozen=True)
class ScoringRules:
    full_marks: int = 100
    pass_mark: int = 60


def record_result(
    history: Sequence[DomainEvent], *, attempt_id: str, candidate: Candidate, score: int, rules: ScoringRules
) -> list[DomainEvent]:
    if history:
        raise Conflict("该场考试成绩已记录，不能重复提交", code="already_scored")
    if not 0 <= score <= rules.full_marks:
        raise DomainError(f"成绩应在 0 到 {rules.full_marks} 分之间", code="invalid_score")
    c = candidate
    if score >= rules.pass_mark:
        return [
            ExamPassed(
                attempt_id=attempt_id,
                applicant_id=c.applicant_id,
                enterprise_id=c.enterprise_id,
                institution_id=c.institution_id,
                id_number=c.id_number,
                name=c.name,
                gender=c.gender,
                position=c.position,
                specialisation=c.specialisation,
                score=score,
                pass_mark=rules.pass_mark,
                full_marks=rules.full_marks,
                head_photo_key=c.head_photo_key,
            )
        ]
    return [
        ExamFailed(
            attempt_id=attempt_id,
            applicant_id=c.applicant_id,
            enterprise_id=c.enterprise_id,
            institution_id=c.institution_id,
            id_number=c.id_number,
            position=c.position,
            score=score,
            pass_mark=rules.pass_mark,
        )
    ]
