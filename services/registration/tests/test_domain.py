from __future__ import annotations

from dataclasses import replace

import pytest
from events import (
    DomainEvent,
    EnterpriseApproved,
    EnterpriseRegistered,
    EnterpriseRejected,
    EnterpriseResubmitted,
)
from events.registration import ReviewCheck, UploadedDocument
from registration.domain import enterprise as domain
from registration.domain.credit_code import check_character, credit_code_problem
from registration.domain.documents import scope_hint
from registration.settings import DEFAULT_SCOPE_KEYWORDS
from servicekit.errors import Conflict, DomainError, NotFound

VALID = "91330106" + "MA2B3C4D5"
CHOICES = {"杭州": ["demo-inst-yuren"]}


def valid_code(body17: str = VALID) -> str:
    return body17 + check_character(body17)


def test_check_character_of_a_published_code() -> None:
    # 91350100M000100Y43 is a code printed in GB 32100-2015's own example
    assert credit_code_problem("91350100M000100Y43") is None
    assert credit_code_problem(" 91350100m000100y43 ") is None, "spaces and lower case are forgiven"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("9133010", "18 位"),
        ("", "18 位"),
        ("91330106MA2B3C4D5" + "I", "不允许的字符"),
        ("91330106MA2B3C4DO" + "1", "不允许的字符"),
        ("91330106MA2B3C4D5" + ("0" if check_character(VALID) != "0" else "1"), "校验位不正确"),
    ],
)
def test_bad_credit_codes_say_what_is_wrong(raw: str, fragment: str) -> None:
    problem = credit_code_problem(raw)
    assert problem is not None and fragment in problem


def test_every_single_character_change_is_detected() -> None:
    code = valid_code()
    for i in range(17):
        for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if ch != code[i]:
                assert credit_code_problem(code[:i] + ch + code[i + 1 :]) is not None


def document(kind: str, n: int = 1) -> UploadedDocument:
    return UploadedDocument(kind=kind, object_key=f"k/{kind}/{n}", content_type="image/jpeg", size=10)


DOCS = (document("business_licence"), document("commitment_letter"))


def form(**overrides: object) -> domain.RegistrationForm:
    values: dict[str, object] = {
        "credit_code": valid_code(),
        "name": "杭州建工集团有限公司",
        "city": "杭州市",
        "legal_representative": "王五",
        "contact_name": "李四",
        "contact_mobile": "13800001111",
        "address": "杭州市西湖区文三路 1 号",
        "business_scope": "房屋建筑工程施工总承包",
        "documents": DOCS,
    }
    values.update(overrides)
    return domain.RegistrationForm(**values)


def register(**overrides: object) -> list[EnterpriseRegistered]:
    events = domain.register(
        [], enterprise_id="e1", form=form(**overrides), account_id="a1", institution_choices=CHOICES
    )
    assert isinstance(events[0], EnterpriseRegistered)
    return [events[0]]


CHECKS = [ReviewCheck(check=c, passed=True) for c in domain.REVIEW_CHECKS]


def test_register_normalizes_and_refuses_a_second_time() -> None:
    registered = register()
    assert registered[0].city == "杭州" and registered[0].credit_code == valid_code()
    with pytest.raises(Conflict):
        domain.register(
            registered, enterprise_id="e1", form=form(), account_id="a1", institution_choices=CHOICES
        )


def test_form_reports_every_problem_at_once() -> None:
    bad = form(
        credit_code="123",
        name=" ",
        city="上海",
        contact_mobile="2380000111",
        legal_representative="",
        preferred_institution_id="nowhere",
        documents=(document("business_licence"),) * 2,
    )
    problems = domain.validate_form(bad.normalized(), CHOICES)
    fields = [p["field"] for p in problems]
    assert fields == [
        "credit_code",
        "name",
        "legal_representative",
        "contact_mobile",
        "city",
        "preferred_institution_id",
        "business_licence",
        "commitment_letter",
    ]
    codes = {p["code"] for p in problems}
    assert {
        "invalid_credit_code",
        "required",
        "invalid_mobile",
        "invalid_city",
        "invalid_institution",
        "duplicate_document",
        "document_required",
    } <= codes


def test_qualification_certificate_is_optional_and_institution_must_be_of_the_city() -> None:
    assert domain.validate_form(form().normalized(), CHOICES) == []
    assert domain.validate_form(form(preferred_institution_id="demo-inst-yuren").normalized(), CHOICES) == []
    elsewhere = form(city="宁波", preferred_institution_id="demo-inst-yuren").normalized()
    assert [p["code"] for p in domain.validate_form(elsewhere, CHOICES)] == ["invalid_institution"]


def test_review_rules() -> None:
    registered = register()
    with pytest.raises(NotFound):  # another city's reviewer does not even see it
        domain.decide_review(registered, reviewer_id="r", reviewer_city="宁波", checks=CHECKS, approve=True)
    failing = [*CHECKS[:2], ReviewCheck(check="documents_compliant", passed=False, note="无公章")]
    with pytest.raises(DomainError) as refused:
        domain.decide_review(registered, reviewer_id="r", reviewer_city="杭州", checks=failing, approve=True)
    assert refused.value.code == "checks_not_passed" and "上传资料规范" in refused.value.message
    with pytest.raises(DomainError) as no_reason:
        domain.decide_review(registered, reviewer_id="r", reviewer_city="杭州", checks=failing, approve=False)
    assert no_reason.value.code == "reason_required"
    with pytest.raises(DomainError) as unknown:
        domain.decide_review(
            registered,
            reviewer_id="r",
            reviewer_city="杭州",
            approve=True,
            checks=[*CHECKS, ReviewCheck(check="vibes", passed=True)],
        )
    assert unknown.value.code == "unknown_check"


def test_reject_resubmit_approve_keeps_the_history() -> None:
    history: list[DomainEvent] = list(register())
    failing = [*CHECKS[:2], ReviewCheck(check="documents_compliant", passed=False, note="无公章")]
    history += domain.decide_review(
        history,
        reviewer_id="r",
        reviewer_city="杭州",
        checks=failing,
        approve=False,
        reason="承诺书未盖章",
    )
    assert isinstance(history[-1], EnterpriseRejected)
    with pytest.raises(DomainError) as unchanged:
        domain.resubmit(history, changes={}, new_documents=[], institution_choices=CHOICES)
    assert unchanged.value.code == "nothing_changed"
    with pytest.raises(DomainError) as code_changed:
        domain.resubmit(
            history,
            changes={"credit_code": valid_code("91330106MA2B3C4D6")},
            new_documents=[],
            institution_choices=CHOICES,
        )
    assert code_changed.value.code == "credit_code_fixed"
    new_letter = document("commitment_letter", 2)
    history += domain.resubmit(
        history,
        changes={"address": "杭州市滨江区 2 号"},
        new_documents=[new_letter],
        institution_choices=CHOICES,
    )
    resubmitted = history[-1]
    assert isinstance(resubmitted, EnterpriseResubmitted) and resubmitted.submission == 2
    assert set(resubmitted.changes) == {"address", "documents"}
    assert {d.object_key for d in resubmitted.documents} == {"k/business_licence/1", "k/commitment_letter/2"}
    with pytest.raises(Conflict):  # only a rejected registration can be resubmitted
        domain.resubmit(history, changes={"address": "x"}, new_documents=[], institution_choices=CHOICES)
    history += domain.decide_review(
        history, reviewer_id="r", reviewer_city="杭州", checks=CHECKS, approve=True
    )
    assert isinstance(history[-1], EnterpriseApproved)
    state = domain.Enterprise.from_history(history)
    assert state.status is domain.Status.APPROVED and state.submission == 2
    assert (
        state.form is not None
        and state.form.address == "杭州市滨江区 2 号"
        and state.form.credit_code == valid_code()
    )
    assert [r["approved"] for r in state.reviews] == [False, True]
    assert state.reviews[0]["reason"] == "承诺书未盖章" and state.reviews[0]["submission"] == 1
    with pytest.raises(Conflict):  # approval is final
        domain.decide_review(
            history,
            reviewer_id="r",
            reviewer_city="杭州",
            checks=CHECKS,
            approve=False,
            reason="x",
        )


def test_scope_hint() -> None:
    assert scope_hint("房屋建筑工程施工总承包；市政公用工程", DEFAULT_SCOPE_KEYWORDS) is None
    assert scope_hint("餐饮服务；日用百货销售", DEFAULT_SCOPE_KEYWORDS) is not None


def test_normalized_form_is_stable() -> None:
    once = form(credit_code=" " + valid_code().lower() + " ", name=" 杭州建工 ").normalized()
    assert once == replace(once).normalized()
