"""New exam sessions of an institution under a suspension of exam sessions: refused on every day of the
period (inclusive, China dates), allowed the day before and the day after, when lifted, and for the other
kinds of sanction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from exam.domain.sanctions import ensure_sessions_allowed
from servicekit.errors import DomainError

START, END = date(2026, 12, 10), date(2026, 12, 12)


def doc(**overrides: Any) -> dict[str, Any]:
    return {
        "_id": "s1",
        "institution_id": "inst-1",
        "institution_name": "育人学院",
        "kind": "suspend_exam_sessions",
        "reason": "放松考试纪律",
        "starts_on": START.isoformat(),
        "ends_on": END.isoformat(),
        "lifted": False,
        **overrides,
    }


@pytest.mark.parametrize("day", [START, START + timedelta(days=1), END])
def test_refused_on_every_day_of_the_period(day: date) -> None:
    with pytest.raises(DomainError) as caught:
        ensure_sessions_allowed([doc()], today=day)
    error = caught.value
    assert error.code == "institution_suspended" and error.status == 409
    assert "育人学院" in error.message and "暂停考试安排" in error.message and "放松考试纪律" in error.message
    assert f"{START.isoformat()} 至 {END.isoformat()}" in error.message
    assert isinstance(error.details, dict) and error.details["sanction_id"] == "s1"


@pytest.mark.parametrize("day", [START - timedelta(days=1), END + timedelta(days=1)])
def test_allowed_outside_the_period(day: date) -> None:
    ensure_sessions_allowed([doc()], today=day)


def test_a_lifted_suspension_or_another_kind_blocks_nothing() -> None:
    ensure_sessions_allowed([doc(lifted=True)], today=START)
    ensure_sessions_allowed([doc(kind="suspend_enrollment")], today=START)
    ensure_sessions_allowed([doc(kind="warning", ends_on=None)], today=START)
    ensure_sessions_allowed([], today=START)


def test_overlapping_suspensions_name_the_one_ending_last() -> None:
    later = doc(_id="s2", ends_on=(END + timedelta(days=30)).isoformat(), reason="再次放松考试")
    with pytest.raises(DomainError) as caught:
        ensure_sessions_allowed([doc(), later], today=END)
    assert isinstance(caught.value.details, dict) and caught.value.details["sanction_id"] == "s2"
    assert "再次放松考试" in caught.value.message
