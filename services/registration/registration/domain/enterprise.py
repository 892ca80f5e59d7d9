"""The enterprise registration aggregate: registered once, reviewed by its city's authority."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from events import (
    DomainEvent,
    EnterpriseApproved,
    EnterpriseRegistered,
    EnterpriseRejected,
    EnterpriseResubmitted,
)
from events.registration import ReviewCheck
from servicekit.errors import Conflict, DomainError, NotFound

from .cities import ZHEJIANG_CITIES, normalize_city
from .credit_code import credit_code_problem, normalize_credit_code

REVIEW_CHECKS = ("local_enterprise", "construction_enterprise", "documents_compliant")
CHECK_LABELS = {
    "local_enterprise": "属地企业",
    "construction_enterprise": "施工企业",
    "documents_compliant": "上传资料规范",
}


class Status(StrEnum):
    SUBMITTED = "submitted"  # 待审核
    APPROVED = "approved"  # 审核通过
    REJECTED = "rejected"  # 审核不通过


STATUS_LABELS = {Status.SUBMITTED: "待审核", Status.APPROVED: "审核通过", Status.REJECTED: "审核不通过"}


@dataclass
class Enterprise:
    enterprise_id: str = ""
    credit_code: str = ""
    name: str = ""
    city: str = ""
    status: Status | None = None
    submission: int = 0
    rejection_reason: str = ""

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Enterprise:
        state = cls()
        for event in history:
            state.apply(event)
        return state

    def apply(self, event: DomainEvent) -> None:
        match event:
            case EnterpriseRegistered():
                self.enterprise_id, self.credit_code = event.enterprise_id, event.credit_code
                self.name, self.city = event.name, event.city
                self.status, self.submission = Status.SUBMITTED, 1
            case EnterpriseResubmitted():
                self.name, self.city = event.name, event.city
                self.status, self.submission, self.rejection_reason = Status.SUBMITTED, event.submission, ""
            case EnterpriseApproved():
                self.status = Status.APPROVED
            case EnterpriseRejected():
                self.status, self.rejection_reason = Status.REJECTED, event.reason


@dataclass(frozen=True)
class RegistrationForm:
    enterprise_id: str
    credit_code: str
    name: str
    city: str
    is_branch: bool = False
    legal_representative: str = ""
    contact_name: str = ""
    contact_mobile: str = ""
    address: str = ""
    business_scope: str = ""
    account_id: str | None = None
    preferred_institution_id: str | None = None


def validate_form(form: RegistrationForm) -> list[dict[str, str]]:
    """Every problem of the form at once, each as field + Chinese message."""
    problems = []
    if problem := credit_code_problem(form.credit_code):
        problems.append({"field": "credit_code", "message": problem})
    if not form.name.strip():
        problems.append({"field": "name", "message": "请填写企业全称"})
    if normalize_city(form.city) not in ZHEJIANG_CITIES:
        problems.append(
            {"field": "city", "message": f"所在城市应为浙江省 11 个地市之一：{'、'.join(ZHEJIANG_CITIES)}"}
        )
    return problems


def ensure_valid(form: RegistrationForm) -> None:
    if problems := validate_form(form):
        raise DomainError("注册信息不完整或不正确", code="invalid_registration", details=problems)


def register(history: Sequence[DomainEvent], form: RegistrationForm) -> list[DomainEvent]:
    if history:
        raise Conflict(
            "该企业已注册，无需重复注册；如审核未通过，请修改后重新提交", code="already_registered"
        )
    ensure_valid(form)
    return [
        EnterpriseRegistered(
            enterprise_id=form.enterprise_id,
            credit_code=normalize_credit_code(form.credit_code),
            name=form.name.strip(),
            is_branch=form.is_branch,
            legal_representative=form.legal_representative,
            contact_name=form.contact_name,
            contact_mobile=form.contact_mobile,
            address=form.address,
            city=normalize_city(form.city),
            business_scope=form.business_scope,
            account_id=form.account_id,
            preferred_institution_id=form.preferred_institution_id,
        )
    ]


def _reviewable(history: Sequence[DomainEvent], reviewer_city: str | None) -> Enterprise:
    state = Enterprise.from_history(history)
    if state.status is None:
        raise NotFound("未找到该企业的注册信息", code="enterprise_not_found")
    if reviewer_city is not None and state.city != reviewer_city:
        raise NotFound("未找到该企业的注册信息", code="enterprise_not_found")
    if state.status is not Status.SUBMITTED:
        raise Conflict(
            f"该企业注册当前状态为“{STATUS_LABELS[state.status]}”，不能审核", code="not_reviewable"
        )
    return state


def decide_review(
    history: Sequence[DomainEvent],
    *,
    reviewer_id: str,
    reviewer_city: str | None,
    checks: Sequence[ReviewCheck],
    approve: bool,
    reason: str = "",
) -> list[DomainEvent]:
    """Approval needs all three checks to pass; a rejection needs a reason."""
    state = _reviewable(history, reviewer_city)
    by_name = {c.check: c for c in checks}
    unknown = sorted(set(by_name) - set(REVIEW_CHECKS))
    if unknown:
        raise DomainError(f"未知的审核项：{'、'.join(unknown)}", code="unknown_check")
    if approve:
        missing = [
            CHECK_LABELS[name] for name in REVIEW_CHECKS if name not in by_name or not by_name[name].passed
        ]
        if missing:
            raise DomainError(
                f"以下审核项未通过，不能审核通过：{'、'.join(missing)}", code="checks_not_passed"
            )
        return [
            EnterpriseApproved(
                enterprise_id=state.enterprise_id,
                credit_code=state.credit_code,
                name=state.name,
                city=state.city,
                reviewer_id=reviewer_id,
                checks=list(checks),
            )
        ]
    if not reason.strip():
        raise DomainError("审核不通过时必须填写原因", code="reason_required")
    return [
        EnterpriseRejected(
            enterprise_id=state.enterprise_id,
            reviewer_id=reviewer_id,
            reason=reason.strip(),
            checks=list(checks),
        )
    ]
