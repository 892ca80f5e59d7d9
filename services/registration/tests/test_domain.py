from __future__ import annotations

import pytest
from events import EnterpriseApproved, EnterpriseRegistered, EnterpriseRejected
from events.registration import ReviewCheck
from registration.domain import enterprise as domain
from registration.domain.credit_code import check_character, credit_code_problem
from servicekit.errors import Conflict, DomainError, NotFound

VALID = "91330106" + "MA2B3C4D5"


def valid_code(body17: str = VALID) -> str:
    return body17 + check_character(body17)


def test_check_character_of_a_published_code() -> None:
    # 91350100M000100Y43 is a code printed in GB 32100-2015's own example
    assert credit_code_problem("91350100M000100Y43") is None


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("9133010", "18 位"),
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


def form(**overrides: object) -> domain.RegistrationForm:
    values: dict[str, object] = {
        "enterprise_id": "e1",
        "credit_code": valid_code(),
        "name": "杭州建工",
        "city": "杭州",
    }
    values.update(overrides)
    return domain.RegistrationForm(**values)


CHECKS = [ReviewCheck(check=c, passed=True) for c in domain.REVIEW_CHECKS]


def test_register_then_review() -> None:
    registered = domain.register([], form())
    assert isinstance(registered[0], EnterpriseRegistered)
    with pytest.raises(Conflict):
        domain.register(registered, form())
    approved = domain.decide_review(
        registered, reviewer_id="r", reviewer_city="杭州", checks=CHECKS, approve=True
    )
    assert isinstance(approved[0], EnterpriseApproved)
    with pytest.raises(Conflict):  # approval is final
        domain.decide_review(
            [*registered, *approved],
            reviewer_id="r",
            reviewer_city="杭州",
            checks=CHECKS,
            approve=False,
            reason="x",
        )


def test_review_rules() -> None:
    registered = domain.register([], form())
    with pytest.raises(NotFound):  # another city's reviewer does not even see it
        domain.decide_review(registered, reviewer_id="r", reviewer_city="宁波", checks=CHECKS, approve=True)
    failing = [*CHECKS[:2], ReviewCheck(check="documents_compliant", passed=False, note="无公章")]
    with pytest.raises(DomainError) as refused:
        domain.decide_review(registered, reviewer_id="r", reviewer_city="杭州", checks=failing, approve=True)
    assert refused.value.code == "checks_not_passed" and "上传资料规范" in refused.value.message
    with pytest.raises(DomainError) as no_reason:
        domain.decide_review(registered, reviewer_id="r", reviewer_city="杭州", checks=failing, approve=False)
    assert no_reason.value.code == "reason_required"
    rejected = domain.decide_review(
        registered,
        reviewer_id="r",
        reviewer_city="杭州",
        checks=failing,
        approve=False,
        reason="承诺书未盖章",
    )
    assert isinstance(rejected[0], EnterpriseRejected)
    assert domain.Enterprise.from_history([*registered, *rejected]).rejection_reason == "承诺书未盖章"


def test_form_reports_every_problem() -> None:
    with pytest.raises(DomainError) as bad:
        domain.register([], form(credit_code="123", name=" ", city="上海"))
    assert [p["field"] for p in bad.value.details or []] == ["credit_code", "name", "city"]
