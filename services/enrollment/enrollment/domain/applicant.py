"""Applicants: imported in batches, reviewed by the institution, enrolled on payment, sent to the exam.

An applicant's state is its own stream folded (`applicant-<id>`), which starts with `ApplicantRegistered`
(the record and the batch's header): no decision on an applicant needs its batch. A stream written before
ApplicantRegistered existed is folded after a registration made from the batch's chunk naming the applicant
(`registration_from_batch`, the legacy path of `application/handlers.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from events import (
    ApplicantQualified,
    ApplicantRejected,
    ApplicantsImported,
    DomainEvent,
    Enrolled,
    ExamApplied,
)
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict, DomainError, NotFound

from enrollment.domain.events import (
    ApplicantCorrected,
    ApplicantRegistered,
    BatchHeader,
    EnrollmentClosed,
    EnrollmentReopened,
    ExamResultNoted,
)

TRAINING_MODES = {"online": "线上", "offline": "线下"}


class Status(StrEnum):
    PENDING = "pending"  # 待审核
    QUALIFIED = "qualified"  # 已审核
    REJECTED = "rejected"  # 未通过
    ENROLLED = "enrolled"  # 已报名
    EXAM_APPLIED = "exam_applied"  # 已申请考试
    EXAM_FAILED = "exam_failed"  # 考试未通过（可补考）
    EXAM_PASSED = "exam_passed"  # 考试合格
    CLOSED = "closed"  # 已结束（取得证书、学时已登记、企业撤回）


STATUS_LABELS = {
    Status.PENDING: "待审核",
    Status.QUALIFIED: "已审核",
    Status.REJECTED: "未通过",
    Status.ENROLLED: "已报名",
    Status.EXAM_APPLIED: "已申请考试",
    Status.EXAM_FAILED: "考试未通过（可申请补考）",
    Status.EXAM_PASSED: "考试合格",
    Status.CLOSED: "已结束",
}

# Why an enrollment ended (EnrollmentClosed.reason). A rejected applicant stays 未通过 (it may be corrected)
# but no longer blocks a new enrollment of the same person; the others are 已结束 for good.
CLOSED_REASONS = {
    "certificate_issued": "已取得证书",
    "hours_credited": "继续教育学时已登记",
    "withdrawn": "企业已撤回报名",
    "rejected": "资格审核未通过",
}
REJECTED = "rejected"

# The enterprise may withdraw an applicant before payment (nothing paid, no training, no exam).
WITHDRAWABLE = (Status.PENDING, Status.QUALIFIED, Status.REJECTED)

# After the first application for the exam the applicant no longer goes back (a refund cannot revert it).
EXAM_STATUSES = (Status.EXAM_APPLIED, Status.EXAM_FAILED, Status.EXAM_PASSED)


@dataclass(frozen=True)
class ExamHeadPhoto:
    """The head photo an application for the exam carries (the face check's reference photo)."""

    bucket: str
    key: str


def header_of(batch: ApplicantsImported | BatchHeader) -> BatchHeader:
    """The batch's header (what every applicant of the batch shares)."""
    return BatchHeader(
        batch_id=batch.batch_id,
        enterprise_id=batch.enterprise_id,
        institution_id=batch.institution_id,
        position=batch.position,
        specialisation=batch.specialisation,
        training_mode=batch.training_mode,
        continuing_education=batch.continuing_education,
    )


def registrations(chunks: Sequence[DomainEvent]) -> list[ApplicantRegistered]:
    """The first event of each applicant's stream, for the batch's ApplicantsImported chunks (the first events
    of the batch's stream)."""
    imported = [c for c in chunks if isinstance(c, ApplicantsImported)]
    return [
        ApplicantRegistered(
            applicant_id=r.applicant_id, batch=header_of(chunk), record=r, batch_version=len(imported)
        )
        for chunk in imported
        for r in chunk.applicants
    ]


def registration_from_batch(batch: ApplicantsImported, applicant_id: str) -> ApplicantRegistered:
    """The registration of an applicant imported before ApplicantRegistered existed (legacy streams), from
    the batch's chunk naming it."""
    record = next((r for r in batch.applicants if r.applicant_id == applicant_id), None)
    if record is None:
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    return ApplicantRegistered(applicant_id=applicant_id, batch=header_of(batch), record=record)


@dataclass
class Applicant:
    record: ImportedApplicant
    batch: BatchHeader
    batch_version: int = 0  # the batch's events after this version are its materials (0: unknown, legacy)
    status: Status = Status.PENDING
    rejection_reason: str = ""
    order_id: str | None = None
    enrolled_by: frozenset[str] = frozenset()  # every order that ever enrolled the applicant
    exam_applications: int = 0
    noted_attempts: frozenset[str] = frozenset()
    last_score: int | None = None
    closed_reason: str | None = None  # EnrollmentClosed.reason while closed (None: open)

    @property
    def applicant_id(self) -> str:
        return self.record.applicant_id

    @property
    def is_open(self) -> bool:
        """Counts for the duplicate rule: one open enrollment per person, position and kind."""
        return self.closed_reason is None

    @property
    def status_label(self) -> str:
        """The status in Chinese; 已结束 with its reason (e.g. 已结束（已取得证书）)."""
        label = STATUS_LABELS[self.status]
        if self.status is Status.CLOSED and self.closed_reason:
            return f"{label}（{CLOSED_REASONS.get(self.closed_reason, self.closed_reason)}）"
        return label

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Applicant:
        """The applicant's stream folded; it starts with `ApplicantRegistered` (NotFound otherwise)."""
        first = history[0] if history else None
        if not isinstance(first, ApplicantRegistered):
            raise NotFound("未找到该学员报名记录", code="applicant_not_found")
        state = cls(record=first.record, batch=first.batch, batch_version=first.batch_version)
        for event in history[1:]:
            match event:
                case ApplicantCorrected():
                    state.record = event.record
                    state.status, state.rejection_reason = Status.PENDING, ""
                case EnrollmentClosed():
                    state.closed_reason = event.reason
                    if event.reason != REJECTED:
                        state.status = Status.CLOSED
                case EnrollmentReopened():
                    state.closed_reason = None
                case ApplicantQualified():
                    # also after Enrolled: the order was refunded, the applicant is qualified again
                    state.status, state.rejection_reason, state.order_id = Status.QUALIFIED, "", None
                case ApplicantRejected():
                    state.status, state.rejection_reason = Status.REJECTED, event.reason
                case Enrolled():
                    state.status, state.order_id = Status.ENROLLED, event.order_id
                    state.enrolled_by = state.enrolled_by | {event.order_id}
                case ExamApplied():
                    state.status = Status.EXAM_APPLIED
                    state.exam_applications += 1
                case ExamResultNoted():
                    state.status = Status.EXAM_PASSED if event.passed else Status.EXAM_FAILED
                    state.noted_attempts = state.noted_attempts | {event.attempt_id}
                    state.last_score = event.score
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


def _closing(state: Applicant, reason: str, *, ref: str = "", note: str = "") -> EnrollmentClosed:
    b = state.batch
    return EnrollmentClosed(
        applicant_id=state.applicant_id,
        batch_id=b.batch_id,
        enterprise_id=b.enterprise_id,
        institution_id=b.institution_id,
        reason=reason,
        ref=ref,
        note=note,
    )


def _reopened(state: Applicant) -> list[DomainEvent]:
    """A rejected applicant closed by its rejection opens again (the caller checked the duplicate rule)."""
    if state.closed_reason != REJECTED:
        return []
    b = state.batch
    return [
        EnrollmentReopened(
            applicant_id=state.applicant_id,
            batch_id=b.batch_id,
            enterprise_id=b.enterprise_id,
            institution_id=b.institution_id,
        )
    ]


def qualify(state: Applicant, *, reviewer_id: str) -> list[DomainEvent]:
    _require(state, Status.PENDING, Status.REJECTED, action="审核通过")
    return [*_reopened(state), _qualified(state, reviewer_id=reviewer_id)]


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
        ),
        *([] if state.closed_reason == REJECTED else [_closing(state, REJECTED, note=reason.strip())]),
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
        ),
        *_reopened(state),
    ]


def enroll(state: Applicant, *, order_id: str) -> list[DomainEvent]:
    """On payment: 已审核 → 已报名. A redelivered payment of an order that already enrolled the applicant
    changes nothing (also after that order's refund: a refunded order is never paid again)."""
    if order_id in state.enrolled_by:
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


CE_NO_EXAM = "continuing_education_no_exam"
CE_NO_EXAM_MESSAGE = "继续教育学员不参加考试：完成继续教育培训后由证书服务登记学时"


def apply_for_exam(state: Applicant, head_photo: ExamHeadPhoto) -> list[DomainEvent]:
    """已报名 → 已申请考试; after a failed exam (考试未通过) the application again is a retake (补考).

    The event carries the head photo the exam compares the live face with, and the training mode. A
    continuing-education applicant never goes to the exam (its training credits hours instead)."""
    if state.batch.continuing_education:
        raise Conflict(CE_NO_EXAM_MESSAGE, code=CE_NO_EXAM)
    _require(state, Status.ENROLLED, Status.EXAM_FAILED, action="申请考试")
    if not head_photo.key or not head_photo.bucket:
        raise DomainError("学员没有头像照片，不能申请考试", code="head_photo_missing")
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
            head_photo_bucket=head_photo.bucket,
            head_photo_key=head_photo.key,
            training_mode=b.training_mode,
            retake=state.status is Status.EXAM_FAILED,
        )
    ]


def note_exam_result(
    state: Applicant, *, attempt_id: str, passed: bool, score: int, pass_mark: int
) -> list[DomainEvent]:
    """The exam's result (ExamPassed / ExamFailed) noted on the applicant: 考试合格 closes it, 考试未通过
    lets the institution apply again (补考). A redelivered result (same attempt) changes nothing; a result
    for an applicant that is not waiting for one (never applied, already passed) is ignored."""
    if attempt_id in state.noted_attempts or state.status is not Status.EXAM_APPLIED:
        return []
    b = state.batch
    return [
        ExamResultNoted(
            applicant_id=state.applicant_id,
            enterprise_id=b.enterprise_id,
            institution_id=b.institution_id,
            attempt_id=attempt_id,
            passed=passed,
            score=score,
            pass_mark=pass_mark,
        )
    ]


def withdraw(state: Applicant, *, reason: str = "") -> list[DomainEvent]:
    """The enterprise withdraws an applicant not yet paid for (待审核, 已审核, 未通过): 已结束
    (企业已撤回报名). A qualified applicant is also published as no longer qualified (ApplicantRejected,
    reason 企业撤回报名), so that payment no longer offers it for an order."""
    if state.status not in WITHDRAWABLE or state.closed_reason not in (None, REJECTED):
        raise Conflict(
            f"学员当前状态为“{state.status_label}”，不能撤回报名：只有尚未缴费（待审核、已审核、未通过）的学员"
            "可以撤回；已缴费的学员请联系培训机构办理退款",
            code="withdraw_not_allowed",
        )
    note = reason.strip()
    events: list[DomainEvent] = []
    if state.status is Status.QUALIFIED:
        b = state.batch
        events.append(
            ApplicantRejected(
                applicant_id=state.applicant_id,
                batch_id=b.batch_id,
                enterprise_id=b.enterprise_id,
                institution_id=b.institution_id,
                reason=f"企业撤回报名{'：' + note if note else ''}"[:500],
                reviewer_id="",
            )
        )
    events.append(_closing(state, "withdrawn", note=note))
    return events


def close(state: Applicant, *, reason: str, ref: str) -> list[DomainEvent]:
    """Certification reached the enrollment's purpose (a certificate issued to this applicant, or the hours
    of its continuing-education plan credited): 已结束. Nothing if already closed for good (a redelivery)."""
    if state.status is Status.CLOSED:
        return []
    return [_closing(state, reason, ref=ref)]
