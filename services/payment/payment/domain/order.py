"""Orders: qualified applicants of one institution, one order one payment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from events import DomainEvent, OrderCancelled, OrderCreated, OrderPaid
from events.payment import OrderLine
from servicekit.errors import Conflict, DomainError, NotFound


class Status(StrEnum):
    UNPAID = "unpaid"  # 待缴费
    PAID = "paid"  # 已缴费
    CANCELLED = "cancelled"  # 已取消


STATUS_LABELS = {Status.UNPAID: "待缴费", Status.PAID: "已缴费（已报名）", Status.CANCELLED: "已取消"}


@dataclass
class Order:
    order_id: str = ""
    order_number: str = ""
    enterprise_id: str = ""
    institution_id: str = ""
    lines: list[OrderLine] = field(default_factory=list)
    amount_fen: int = 0
    status: Status | None = None

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Order:
        state = cls()
        for event in history:
            match event:
                case OrderCreated():
                    state.order_id, state.order_number = event.order_id, event.order_number
                    state.enterprise_id, state.institution_id = event.enterprise_id, event.institution_id
                    state.lines, state.amount_fen, state.status = (
                        list(event.lines),
                        event.amount_fen,
                        Status.UNPAID,
                    )
                case OrderPaid():
                    state.status = Status.PAID
                case OrderCancelled():
                    state.status = Status.CANCELLED
        return state

    @property
    def applicant_ids(self) -> list[str]:
        return [line.applicant_id for line in self.lines]


@dataclass(frozen=True)
class QualifiedApplicant:
    applicant_id: str
    enterprise_id: str
    institution_id: str
    position: str
    training_mode: str
    specialisation: str | None = None
    continuing_education: bool = False


def fee_for(fees: Mapping[str, int], position: str, training_mode: str) -> int:
    """The fee (fen) for a position and mode: `position:mode`, then `*:mode`, then `*`."""
    for key in (f"{position}:{training_mode}", f"*:{training_mode}", "*"):
        if key in fees:
            return fees[key]
    raise DomainError(f"培训机构尚未设置“{position}”{training_mode}的收费标准", code="fee_missing")


def create(
    history: Sequence[DomainEvent],
    *,
    order_id: str,
    order_number: str,
    enterprise_id: str,
    institution_id: str,
    applicants: Sequence[QualifiedApplicant],
    fees: Mapping[str, int],
) -> list[DomainEvent]:
    if history:
        raise Conflict("订单已存在", code="order_exists")
    if not applicants:
        raise DomainError("请至少选择一名已审核的学员", code="empty_order")
    foreign = [
        a.applicant_id
        for a in applicants
        if a.enterprise_id != enterprise_id or a.institution_id != institution_id
    ]
    if foreign:
        raise DomainError(
            "只能将本企业、同一培训机构的已审核学员合并到一个订单",
            code="mixed_order",
            details={"applicant_ids": foreign},
        )
    kinds = {a.continuing_education for a in applicants}
    if len(kinds) > 1:
        raise DomainError("继续教育学员与新取证学员不能合并在一个订单中，请分别生成订单", code="mixed_order")
    lines = [
        OrderLine(
            applicant_id=a.applicant_id,
            position=a.position,
            specialisation=a.specialisation,
            training_mode=a.training_mode,
            fee_fen=fee_for(fees, a.position, a.training_mode),
        )
        for a in applicants
    ]
    return [
        OrderCreated(
            order_id=order_id,
            order_number=order_number,
            enterprise_id=enterprise_id,
            institution_id=institution_id,
            lines=lines,
            amount_fen=sum(x.fee_fen for x in lines),
            continuing_education=kinds.pop(),
        )
    ]


def _existing(history: Sequence[DomainEvent]) -> Order:
    order = Order.from_history(history)
    if order.status is None:
        raise NotFound("未找到该订单", code="order_not_found")
    return order


def confirm(history: Sequence[DomainEvent], *, institution_id: str, confirmed_by: str) -> list[DomainEvent]:
    order = _existing(history)
    if order.institution_id != institution_id:
        raise NotFound("未找到该订单", code="order_not_found")
    if order.status is not Status.UNPAID:
        assert order.status is not None
        raise Conflict(
            f"订单当前状态为“{STATUS_LABELS[order.status]}”，不能确认缴费", code="invalid_order_state"
        )
    return [
        OrderPaid(
            order_id=order.order_id,
            order_number=order.order_number,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            applicant_ids=order.applicant_ids,
            amount_fen=order.amount_fen,
            confirmed_by=confirmed_by,
        )
    ]


def cancel(history: Sequence[DomainEvent], *, enterprise_id: str, reason: str = "") -> list[DomainEvent]:
    order = _existing(history)
    if order.enterprise_id != enterprise_id:
        raise NotFound("未找到该订单", code="order_not_found")
    if order.status is not Status.UNPAID:
        assert order.status is not None
        raise Conflict(
            f"订单当前状态为“{STATUS_LABELS[order.status]}”，只有待缴费的订单可以取消",
            code="invalid_order_state",
        )
    return [
        OrderCancelled(
            order_id=order.order_id,
            enterprise_id=order.enterprise_id,
            institution_id=order.institution_id,
            applicant_ids=order.applicant_ids,
            reason=reason,
        )
    ]
