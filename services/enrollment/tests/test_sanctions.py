"""Institution sanctions (pure rules): recording each kind, every problem of the form, the period in force on
both sides of its boundaries (inclusive China dates), overlaps, lifting, and the refusal's text."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from enrollment.domain import sanctions as domain
from enrollment.domain.sanctions import InstitutionSanctions, Kind
from events import DomainEvent, InstitutionSanctioned, InstitutionSanctionLifted
from servicekit.errors import DomainError

CJK = re.compile(r"[\u4e00-\u9fff]")
TODAY = date(2026, 12, 3)


def record(
    history: list[DomainEvent] | None = None,
    *,
    sanction_id: str = "s1",
    kind: str = Kind.SUSPEND_ENROLLMENT,
    starts_on: date | None = TODAY,
    ends_on: date | None = TODAY + timedelta(days=9),
    reason: str = "放松考试纪律，替考未制止",
    today: date = TODAY,
    max_days: int = 365,
) -> list[DomainEvent]:
    return domain.sanction(
        history or [],
        sanction_id=sanction_id,
        institution_id="inst-1",
        institution_name="育人学院",
        kind=kind,
        reason=reason,
        starts_on=starts_on,
        ends_on=ends_on,
        today=today,
        max_days=max_days,
        recorded_by="admin-1",
    )


def problems(**kwargs: object) -> set[tuple[str, str]]:
    with pytest.raises(DomainError) as caught:
        record(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_sanction" and caught.value.status == 422
    assert CJK.search(caught.value.message)
    assert isinstance(caught.value.details, list)
    return {(p["field"], p["code"]) for p in caught.value.details}


def test_a_suspension_is_recorded_with_its_period_and_reason() -> None:
    [event] = record(reason="  放松考试纪律  ")
    assert isinstance(event, InstitutionSanctioned)
    assert (event.kind, event.starts_on, event.ends_on) == ("suspend_enrollment", TODAY, TODAY + timedelta(9))
    assert (
        event.reason == "放松考试纪律" and event.institution_id == "inst-1" and event.recorded_by == "admin-1"
    )


def test_the_start_defaults_to_today() -> None:
    [event] = record(starts_on=None)
    assert isinstance(event, InstitutionSanctioned) and event.starts_on == TODAY


def test_a_warning_has_no_period_and_blocks_nothing() -> None:
    [event] = record(kind=Kind.WARNING, starts_on=None, ends_on=None)
    assert isinstance(event, InstitutionSanctioned) and event.ends_on is None and event.starts_on == TODAY
    state = InstitutionSanctions.from_history([event])
    for kind in (Kind.SUSPEND_ENROLLMENT, Kind.SUSPEND_EXAM_SESSIONS, Kind.WARNING):
        assert state.in_force(kind, TODAY) == []
    assert state.sanctions["s1"].state(TODAY) == "recorded"
    domain.ensure_not_suspended([event], kind=Kind.SUSPEND_ENROLLMENT, today=TODAY, institution_label="x")


def test_every_problem_of_the_form_at_once() -> None:
    assert problems(kind="ban", reason="") == {("kind", "invalid_kind"), ("reason", "reason_required")}
    assert problems(starts_on=TODAY - timedelta(days=1)) == {("starts_on", "starts_in_past")}
    assert problems(ends_on=None) == {("ends_on", "ends_on_required")}
    assert problems(ends_on=TODAY - timedelta(days=1)) == {("ends_on", "period_reversed")}
    assert problems(kind=Kind.WARNING, ends_on=TODAY) == {("ends_on", "warning_has_no_period")}
    assert problems(kind=Kind.WARNING, ends_on=None, starts_on=TODAY + timedelta(1)) == {
        ("starts_on", "warning_starts_today")
    }


def test_the_longest_period_is_configurable_and_inclusive() -> None:
    assert record(ends_on=TODAY + timedelta(days=29), max_days=30)  # 30 days, both ends included
    assert problems(ends_on=TODAY + timedelta(days=30), max_days=30) == {("ends_on", "period_too_long")}
    assert record(starts_on=TODAY, ends_on=TODAY, max_days=1)  # one day


def test_in_force_on_both_sides_of_the_boundaries() -> None:
    start, end = TODAY + timedelta(days=2), TODAY + timedelta(days=5)
    history = record(starts_on=start, ends_on=end)
    state = InstitutionSanctions.from_history(history)
    kind = Kind.SUSPEND_ENROLLMENT
    assert state.in_force(kind, start - timedelta(days=1)) == []
    assert [s.sanction_id for s in state.in_force(kind, start)] == ["s1"]
    assert [s.sanction_id for s in state.in_force(kind, end)] == ["s1"]
    assert state.in_force(kind, end + timedelta(days=1)) == []  # ends by itself: no event needed
    assert state.in_force(Kind.SUSPEND_EXAM_SESSIONS, start) == []  # only its own kind
    sanction = state.sanctions["s1"]
    assert [sanction.state(d) for d in (start - timedelta(1), start, end, end + timedelta(1))] == [
        "scheduled",
        "in_force",
        "in_force",
        "ended",
    ]


def test_sanctions_may_overlap_and_the_one_ending_last_is_named() -> None:
    history = record(ends_on=TODAY + timedelta(days=3))
    history += record(history, sanction_id="s2", ends_on=TODAY + timedelta(days=20), reason="再次放松考试")
    state = InstitutionSanctions.from_history(history)
    assert [s.sanction_id for s in state.in_force(Kind.SUSPEND_ENROLLMENT, TODAY)] == ["s2", "s1"]
    with pytest.raises(DomainError) as caught:
        domain.ensure_not_suspended(
            history, kind=Kind.SUSPEND_ENROLLMENT, today=TODAY, institution_label="培训机构“育人学院”"
        )
    error = caught.value
    assert error.code == "institution_suspended" and error.status == 409
    assert (TODAY + timedelta(days=20)).isoformat() in error.message and "再次放松考试" in error.message
    assert "育人学院" in error.message and "暂停招生" in error.message
    assert isinstance(error.details, dict) and error.details["sanction_id"] == "s2"
    with pytest.raises(DomainError, match="已存在"):
        record(history, sanction_id="s2")


def test_lifting_ends_it_at_once_and_is_recorded_once() -> None:
    history = record(kind=Kind.SUSPEND_EXAM_SESSIONS)
    [lifted] = domain.lift(history, sanction_id="s1", reason="已整改到位", today=TODAY, lifted_by="admin-2")
    assert isinstance(lifted, InstitutionSanctionLifted)
    assert (lifted.institution_id, lifted.reason, lifted.lifted_by) == ("inst-1", "已整改到位", "admin-2")
    history.append(lifted)
    state = InstitutionSanctions.from_history(history)
    assert state.in_force(Kind.SUSPEND_EXAM_SESSIONS, TODAY) == []
    assert state.sanctions["s1"].state(TODAY) == "lifted"
    domain.ensure_not_suspended(history, kind=Kind.SUSPEND_EXAM_SESSIONS, today=TODAY, institution_label="x")
    with pytest.raises(DomainError) as again:
        domain.lift(history, sanction_id="s1", reason="再次解除", today=TODAY, lifted_by="admin-2")
    assert again.value.code == "sanction_lifted" and again.value.status == 409


def test_what_cannot_be_lifted() -> None:
    history = record(ends_on=TODAY + timedelta(days=1))
    with pytest.raises(DomainError) as unknown:
        domain.lift(history, sanction_id="nope", reason="已整改到位", today=TODAY, lifted_by="a")
    assert unknown.value.code == "sanction_not_found" and unknown.value.status == 404
    with pytest.raises(DomainError) as no_reason:
        domain.lift(history, sanction_id="s1", reason=" ", today=TODAY, lifted_by="a")
    assert no_reason.value.code == "reason_required"
    with pytest.raises(DomainError) as ended:
        domain.lift(history, sanction_id="s1", reason="已整改到位", today=TODAY + timedelta(2), lifted_by="a")
    assert ended.value.code == "sanction_ended"
    # on its last day it can still be lifted; a warning can be withdrawn
    assert domain.lift(
        history, sanction_id="s1", reason="已整改到位", today=TODAY + timedelta(1), lifted_by="a"
    )
    warning = record(kind=Kind.WARNING, ends_on=None)
    assert domain.lift(
        warning, sanction_id="s1", reason="记录有误撤销", today=TODAY + timedelta(400), lifted_by="a"
    )


def test_the_view_says_the_state_in_chinese() -> None:
    history = record(starts_on=TODAY + timedelta(days=1))
    view = domain.sanction_view(InstitutionSanctions.from_history(history).sanctions["s1"], today=TODAY)
    assert view["status"] == "scheduled" and view["status_label"] == "未开始" and view["in_force"] is False
    assert view["kind_label"] == "暂停招生（新报名）"
    assert view["period"] == f"{(TODAY + timedelta(1)).isoformat()} 至 {(TODAY + timedelta(9)).isoformat()}"
