from __future__ import annotations

import pytest
from events import OrderCancelled, OrderCreated, OrderPaid
from payment.domain import order as domain
from servicekit.errors import Conflict, DomainError, NotFound

FEES = {"施工员:online": 50000, "*:online": 60000, "*:offline": 90000}


def applicant(
    i: int, mode: str = "online", position: str = "施工员", institution: str = "i1"
) -> domain.QualifiedApplicant:
    return domain.QualifiedApplicant(
        applicant_id=f"a{i}",
        enterprise_id="e1",
        institution_id=institution,
        position=position,
        training_mode=mode,
    )


def created() -> list[OrderCreated]:
    events = domain.create(
        [],
        order_id="o1",
        order_number="DD1",
        enterprise_id="e1",
        institution_id="i1",
        applicants=[applicant(1), applicant(2, "offline"), applicant(3, position="安全员")],
        fees=FEES,
    )
    assert isinstance(events[0], OrderCreated)
    return [events[0]]


def test_amount_is_the_sum_of_fees_by_position_and_mode() -> None:
    order = created()[0]
    assert [line.fee_fen for line in order.lines] == [50000, 90000, 60000]
    assert order.amount_fen == 200000


def test_an_order_holds_one_institution_of_one_enterprise() -> None:
    with pytest.raises(DomainError) as mixed:
        domain.create(
            [],
            order_id="o",
            order_number="n",
            enterprise_id="e1",
            institution_id="i1",
            applicants=[applicant(1), applicant(2, institution="i2")],
            fees=FEES,
        )
    assert mixed.value.code == "mixed_order"
    with pytest.raises(DomainError):
        domain.create(
            [],
            order_id="o",
            order_number="n",
            enterprise_id="e1",
            institution_id="i1",
            applicants=[],
            fees=FEES,
        )
    with pytest.raises(DomainError) as missing:
        domain.create(
            [],
            order_id="o",
            order_number="n",
            enterprise_id="e1",
            institution_id="i1",
            applicants=[applicant(1)],
            fees={},
        )
    assert missing.value.code == "fee_missing"


def test_confirm_and_cancel_rules() -> None:
    history = created()
    with pytest.raises(NotFound):  # another institution cannot see it
        domain.confirm(history, institution_id="i2", confirmed_by="x")
    paid = domain.confirm(history, institution_id="i1", confirmed_by="staff")
    assert isinstance(paid[0], OrderPaid) and paid[0].applicant_ids == ["a1", "a2", "a3"]
    with pytest.raises(Conflict):
        domain.confirm([*history, *paid], institution_id="i1", confirmed_by="staff")
    with pytest.raises(Conflict):  # a paid order cannot be cancelled
        domain.cancel([*history, *paid], enterprise_id="e1")
    cancelled = domain.cancel(history, enterprise_id="e1", reason="选错学员")
    assert isinstance(cancelled[0], OrderCancelled)
    with pytest.raises(Conflict):
        domain.confirm([*history, *cancelled], institution_id="i1", confirmed_by="staff")


def test_continuing_education_is_marked_and_not_mixed() -> None:
    ce = domain.QualifiedApplicant(
        applicant_id="c1",
        enterprise_id="e1",
        institution_id="i1",
        position="施工员",
        training_mode="online",
        continuing_education=True,
    )
    with pytest.raises(DomainError) as mixed:
        domain.create(
            [],
            order_id="o",
            order_number="n",
            enterprise_id="e1",
            institution_id="i1",
            applicants=[applicant(1), ce],
            fees=FEES,
        )
    assert mixed.value.code == "mixed_order"
    events = domain.create(
        [],
        order_id="o",
        order_number="n",
        enterprise_id="e1",
        institution_id="i1",
        applicants=[ce],
        fees=FEES,
    )
    assert isinstance(events[0], OrderCreated) and events[0].continuing_education is True
