"""Applicants: imported in batches, reviewed by the institution, enrolled on payment, sent to the exam."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from events import (
    ApplicantCorrected,
    ApplicantQualified,
    ApplicantRejected,
    ApplicantsImported,
    DomainEvent,
    Enrolled,
    ExamApplied,
)
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict, DomainError, NotFound

TRAINING_MODES = {"online": "线上", "offline": "线下"}


class Status(StrEnum):
    PENDING = "pending"  # 待审核
    QUALIFIED = "qualified"  # 已审核
    REJECTED = "rejected"  # 未通过
    ENROLLED = "enrolled"  # 已报名
    EXAM_APPLIED = "exam_applied"  # 已申请考试


STATUS_LABELS = {
    Status.PENDING: "待审核",
    Status.QUALIFIED: "已审核",
    Status.REJECTED: "未通过",
    Status.ENROLLED: "已报名",
    Status.EXAM_APPLIED: "已申请考试",
}


@dataclass
class Applicant:
    record: ImportedApplicant
    batch: ApplicantsImported
    status: Status = Status.PENDING
    rejection_reason: str = ""
    order_id: str | None = None

    @property
    def applicant_id(self) -> str:
        return self.record.applicant_id

    @classmethod
    def from_history(
        cls, batch: ApplicantsImported, applicant_id: str, history: Sequence[DomainEvent]
    ) -> Applicant:
        record = next((r for r in batch.applicants if r.applicant_id == applicant_id), None)
        if record is None:
            raise NotFound("未找到该学员报名记录", code="applicant_not_found")
        state = cls(record=record, batch=batch)
        for event in history:
            match event:
                case ApplicantCorrected():
                    state.record = event.record
                    state.status, state.rejection_reason = Status.PENDING, ""
                case ApplicantQualified():
                    # also after Enrolled: the order was refunded, the applicant is qualified again
                    state.status, state.rejection_reason, state.order_id = Status.QUALIFIED, "", None
                case ApplicantRejected():
                    state.status, state.rejection_reason = Status.REJECTED, event.reason
                case Enrolled():
                    state.status, state.order_id = Status.ENROLLED, event.order_id
                case ExamApplied():
                    state.status = Status.EXAM_APPLIED
        return state


def _require(state: Applicant, *allowed: Status, action: str) -> None:
    if state.status not in allowed:
        raise Conflict(
            f"学员当前状态为“{STATUS_LABELS[state.status]}”，不能{action}", code="invalid_applicant_state"
        )


def _qualified(state: Applicant, *, reviewer_id: str) -> ApplicantQualified:
    r, b = state.record, state.batch
    return ApplicantQualified(
        applicant_id=r.applicant_id,
        batch_id=b.batch_id,
        enterprise_id=b.enterprise_id,
        institution_id=b.institution_id,
        id_number=r.id_number,
        name=r.name,
        gender=r.gender,
        position=b.position,
        specialisation=b.specialisation,
        training_mode=b.training_mode,
        continuing_education=b.continuing_education,
        reviewer_id=reviewer_id,
    )


def qualify(state: Applicant, *, reviewer_id: str) -> list[DomainEvent]:
    _require(state, Status.PENDING, Status.REJECTED, action="审核通过")
    return [_qualified(state, reviewer_id=reviewer_id)]


def reject(state: Applicant, *, reviewer_id: str, reason: str) -> list[DomainEvent]:
    _require(state, Status.PENDING, Status.QUALIFIED, action="审核不通过")
    if not reason.strip():
        raise DomainError("审核不通过时必须填写原因", code="reason_required")
    b = state.batch
    return [
        ApplicantRejected(
            applicant_id=state.applicant_id,
            batch_id=b.batch_id,
            enterprise_id=b.enterprise_id,
            institution_id=b.institution_id,
            reason=reason.strip(),
            reviewer_id=reviewer_id,
        )
    ]


CORRECTABLE_FIELDS = (
    "name",
    "gender",
    "id_number",
    "mobile",
    "education",
    "employer",
    "major",
    "graduated_on",
    "years_in_post",
)


def correct(state: Applicant, corrected: ImportedApplicant) -> list[DomainEvent]:
    """The enterprise corrects a rejected applicant (already validated as a sheet row); reviewed again."""
    _require(state, Status.REJECTED, action="修改后重新提交（只有未通过的学员可以修改）")
    before, after = state.record.model_dump(mode="json"), corrected.model_dump(mode="json")
    changes = {k: str(after[k]) for k in CORRECTABLE_FIELDS if after[k] != before[k]}
    if not changes:
        raise DomainError("没有任何修改：请按审核意见修改学员信息后再提交", code="nothing_changed")
    b = state.batch
    return [
        ApplicantCorrected(
            applicant_id=state.applicant_id,
            batch_id=b.batch_id,
            enterprise_id=b.enterprise_id,
            institution_id=b.institution_id,
            record=corrected,
            changes=changes,
        )
    ]


def enroll(state: Applicant, *, order_id: str) -> list[DomainEvent]:
    """On payment: 已审核 → 已报名. A redelivered payment for the same order changes nothing."""
    if state.order_id == order_id and state.status in (Status.ENROLLED, Status.EXAM_APPLIED):
        return []
    _require(state, Status.QUALIFIED, action="确认报名")
    r, b = state.record, state.batch
    return [
        Enrolled(
            applicant_id=r.applicant_id,
            enterprise_id=b.enterprise_id,
            institution_id=b.institution_id,
            order_id=order_id,
            id_number=r.id_number,
            name=r.name,
            position=b.position,
            specialisation=b.specialisation,
            training_mode=b.training_mode,
        )
    ]


def revert_enrollment(state: Applicant, *, order_id: str) -> list[DomainEvent]:
    """Compensation of a refunded order: 已报名 → 已审核 (ApplicantQualified again, same data).

    Nothing if the applicant is no longer enrolled by that order (already reverted, or never enrolled by it).
    """
    if state.status is not Status.ENROLLED or state.order_id != order_id:
        return []
    return [_qualified(state, reviewer_id="")]


def apply_for_exam(state: Applicant) -> list[DomainEvent]:
    _require(state, Status.ENROLLED, action="申请考试")
    r, b = state.record, state.batch
    return [
        ExamApplied(
            applicant_id=r.applicant_id,
            enterprise_id=b.enterprise_id,
            institution_id=b.institution_id,
            id_number=r.id_number,
            name=r.name,
            gender=r.gender,
            position=b.position,
            specialisation=b.specialisation,
        )
    ]
