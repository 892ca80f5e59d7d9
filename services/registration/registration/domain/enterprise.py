"""The enterprise registration aggregate: registered once, reviewed by its city's authority, corrected and
resubmitted after a rejection (same aggregate, a new submission, the history kept)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum

from events import (
    DomainEvent,
    EnterpriseApproved,
    EnterpriseRegistered,
    EnterpriseRejected,
    EnterpriseResubmitted,
)
from events.registration import ReviewCheck, UploadedDocument
from servicekit.errors import Conflict, DomainError, NotFound

from .cities import ZHEJIANG_CITIES, normalize_city
from .credit_code import credit_code_problem, normalize_credit_code
from .documents import KINDS, missing_required

REVIEW_CHECKS = ("local_enterprise", "construction_enterprise", "documents_compliant")
CHECK_LABELS = {
    "local_enterprise": "属地企业",
    "construction_enterprise": "施工企业",
    "documents_compliant": "上传资料规范",
}
MOBILE = re.compile(r"^1\d{10}$")


class Status(StrEnum):
    SUBMITTED = "submitted"  # 待审核
    APPROVED = "approved"  # 审核通过
    REJECTED = "rejected"  # 审核不通过


STATUS_LABELS = {Status.SUBMITTED: "待审核", Status.APPROVED: "审核通过", Status.REJECTED: "审核不通过"}


@dataclass(frozen=True)
class RegistrationForm:
    """What the enterprise fills in; the documents are files already stored, named by their keys."""

    credit_code: str
    name: str
    city: str
    legal_representative: str
    contact_name: str
    contact_mobile: str
    address: str
    business_scope: str
    is_branch: bool = False
    preferred_institution_id: str | None = None
    documents: tuple[UploadedDocument, ...] = ()

    def normalized(self) -> RegistrationForm:
        return replace(
            self,
            credit_code=normalize_credit_code(self.credit_code),
            name=self.name.strip(),
            city=normalize_city(self.city),
            legal_representative=self.legal_representative.strip(),
            contact_name=self.contact_name.strip(),
            contact_mobile=self.contact_mobile.strip(),
            address=self.address.strip(),
            business_scope=self.business_scope.strip(),
            preferred_institution_id=self.preferred_institution_id or None,
        )


FORM_LABELS = {
    "credit_code": "统一社会信用代码",
    "name": "企业全称",
    "city": "所在城市",
    "legal_representative": "法定代表人",
    "contact_name": "联系人",
    "contact_mobile": "联系人手机号",
    "address": "企业地址",
    "business_scope": "经营范围",
    "is_branch": "是否分公司",
    "preferred_institution_id": "培训机构",
    "documents": "上传资料",
}


@dataclass
class Enterprise:
    enterprise_id: str = ""
    form: RegistrationForm | None = None
    status: Status | None = None
    submission: int = 0
    rejection_reason: str = ""
    account_id: str | None = None
    reviews: list[dict[str, object]] = field(default_factory=list)

    @property
    def city(self) -> str:
        return self.form.city if self.form else ""

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Enterprise:
        state = cls()
        for event in history:
            state.apply(event)
        return state

    def apply(self, event: DomainEvent) -> None:
        match event:
            case EnterpriseRegistered():
                self.enterprise_id, self.account_id = event.enterprise_id, event.account_id
                self.form = _form_of(event, event.credit_code)
                self.status, self.submission = Status.SUBMITTED, 1
            case EnterpriseResubmitted():
                assert self.form is not None
                self.form = _form_of(event, self.form.credit_code)
                self.status, self.submission, self.rejection_reason = Status.SUBMITTED, event.submission, ""
            case EnterpriseApproved() | EnterpriseRejected():
                approved = isinstance(event, EnterpriseApproved)
                self.status = Status.APPROVED if approved else Status.REJECTED
                self.rejection_reason = "" if approved else event.reason
                self.reviews.append(
                    {
                        "submission": self.submission,
                        "approved": approved,
                        "reason": self.rejection_reason,
                        "reviewer_id": event.reviewer_id,
                        "checks": [c.model_dump() for c in event.checks],
                    }
                )


def _form_of(event: EnterpriseRegistered | EnterpriseResubmitted, credit_code: str) -> RegistrationForm:
    return RegistrationForm(
        credit_code=credit_code,
        name=event.name,
        city=event.city,
        legal_representative=event.legal_representative,
        contact_name=event.contact_name,
        contact_mobile=event.contact_mobile,
        address=event.address,
        business_scope=event.business_scope,
        is_branch=event.is_branch,
        preferred_institution_id=event.preferred_institution_id,
        documents=tuple(event.documents),
    )


def validate_form(
    form: RegistrationForm, institution_choices: Mapping[str, Sequence[str]]
) -> list[dict[str, str]]:
    """Every problem of the form at once, each as field + code + Chinese message."""
    problems: list[dict[str, str]] = []

    def problem(name: str, code: str, message: str) -> None:
        problems.append({"field": name, "code": code, "message": message})

    if message := credit_code_problem(form.credit_code):
        problem("credit_code", "invalid_credit_code", message)
    for name in ("name", "legal_representative", "contact_name", "address", "business_scope"):
        if not str(getattr(form, name)).strip():
            problem(name, "required", f"请填写{FORM_LABELS[name]}")
    if len(form.name) > 100:
        problem("name", "too_long", "企业全称不能超过 100 个字")
    if not MOBILE.match(form.contact_mobile):
        problem("contact_mobile", "invalid_mobile", "联系人手机号应为 1 开头的 11 位数字")
    if form.city not in ZHEJIANG_CITIES:
        problem("city", "invalid_city", f"所在城市应为浙江省 11 个设区市之一：{'、'.join(ZHEJIANG_CITIES)}")
    choices = institution_choices.get(form.city, ())
    if form.preferred_institution_id and form.preferred_institution_id not in choices:
        listed = "该市未设置可选培训机构" if not choices else "请从该市的培训机构列表中选择"
        problem("preferred_institution_id", "invalid_institution", f"培训机构不在可选范围内：{listed}")
    kinds = [d.kind for d in form.documents]
    for kind in sorted({k for k in kinds if kinds.count(k) > 1}):
        problem(kind, "duplicate_document", f"{KINDS[kind].label}重复上传")
    problems += [p.as_detail() for p in missing_required(set(kinds))]
    return problems


def ensure_valid(form: RegistrationForm, institution_choices: Mapping[str, Sequence[str]]) -> None:
    if problems := validate_form(form, institution_choices):
        raise DomainError(
            "注册信息不完整或不正确：" + "；".join(p["message"] for p in problems[:3]),
            code="invalid_registration",
            details=problems,
        )


def register(
    history: Sequence[DomainEvent],
    *,
    enterprise_id: str,
    form: RegistrationForm,
    account_id: str | None,
    institution_choices: Mapping[str, Sequence[str]],
) -> list[DomainEvent]:
    if history:
        raise Conflict(
            "该企业已注册，无需重复注册；如审核未通过，请修改后重新提交", code="already_registered"
        )
    form = form.normalized()
    ensure_valid(form, institution_choices)
    data = {f.name: getattr(form, f.name) for f in fields(form)}
    data["documents"] = list(form.documents)
    return [EnterpriseRegistered(enterprise_id=enterprise_id, account_id=account_id, **data)]


def resubmit(
    history: Sequence[DomainEvent],
    *,
    changes: Mapping[str, object],
    new_documents: Sequence[UploadedDocument],
    institution_choices: Mapping[str, Sequence[str]],
) -> list[DomainEvent]:
    """A rejected registration, corrected: the given fields and documents replace the previous ones."""
    state = Enterprise.from_history(history)
    if state.status is None or state.form is None:
        raise NotFound("本企业尚未提交注册信息", code="enterprise_not_found")
    if state.status is not Status.REJECTED:
        raise Conflict(
            f"注册当前状态为“{STATUS_LABELS[state.status]}”，只有审核不通过的注册可以修改后重新提交",
            code="not_resubmittable",
        )
    if (
        "credit_code" in changes
        and normalize_credit_code(str(changes["credit_code"])) != state.form.credit_code
    ):
        raise DomainError(
            "统一社会信用代码不能修改；如确有错误，请联系所在市建设主管部门", code="credit_code_fixed"
        )
    replaced = {d.kind for d in new_documents}
    documents = tuple([d for d in state.form.documents if d.kind not in replaced] + list(new_documents))
    updates = {k: v for k, v in changes.items() if k != "credit_code" and v is not None}
    form = replace(state.form, **updates, documents=documents).normalized()  # type: ignore[arg-type]
    ensure_valid(form, institution_choices)
    before, after = asdict(state.form), asdict(form)
    changed = {k: str(after[k]) for k in after if k != "documents" and after[k] != before[k]}
    if replaced:
        changed["documents"] = "、".join(KINDS[k].label for k in sorted(replaced))
    if not changed:
        raise DomainError("没有任何修改：请按审核意见修改信息或重新上传资料后再提交", code="nothing_changed")
    data = {f.name: getattr(form, f.name) for f in fields(form) if f.name != "credit_code"}
    data["documents"] = list(form.documents)
    return [
        EnterpriseResubmitted(
            enterprise_id=state.enterprise_id, submission=state.submission + 1, changes=changed, **data
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
    assert state.form is not None
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
                credit_code=state.form.credit_code,
                name=state.form.name,
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
