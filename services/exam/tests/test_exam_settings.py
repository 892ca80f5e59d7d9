"""Exam settings: demo timing (EXAM_DEMO_TIMING, refused in production) and the start window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from events import ExamSessionCreated
from exam.application.context import ExamRules
from exam.domain import session as sessions
from exam.main import build_app
from exam.settings import ExamSettings
from pydantic import ValidationError

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PLATFORM_ENV",
        "EXAM_DEMO_TIMING",
        "EXAM_DURATION_MINUTES",
        "EXAM_EARLIEST_SUBMIT_MINUTES",
        "EXAM_START_OPENS_BEFORE_MINUTES",
    ):
        monkeypatch.delenv(name, raising=False)


def test_the_real_rule_by_default() -> None:
    rules = ExamRules.from_settings(ExamSettings())
    assert (rules.duration_minutes, rules.timing.earliest_submit) == (120, timedelta(minutes=30))
    assert rules.demo_timing is False
    assert rules.checkin.start_opens_before == timedelta(0)


def test_the_start_window_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAM_START_OPENS_BEFORE_MINUTES", "5")
    rules = ExamRules.from_settings(ExamSettings())
    assert rules.checkin.start_opens_at(NOW) == NOW - timedelta(minutes=5)


def test_demo_timing_a_ten_minute_exam_submittable_after_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAM_DEMO_TIMING", "1")
    monkeypatch.setenv("EXAM_DURATION_MINUTES", "120")  # demo timing wins
    rules = ExamRules.from_settings(ExamSettings())
    assert rules.demo_timing is True
    assert (rules.duration_minutes, rules.timing.earliest_submit) == (10, timedelta(minutes=1))
    # every other rule unchanged
    assert rules.checkin.opens_before == timedelta(minutes=60)
    assert rules.checkin.closes_after == timedelta(minutes=30)
    assert (rules.scoring.full_marks, rules.scoring.pass_mark) == (100, 60)
    # a session may start 2 minutes after it is created (no lead time beyond "in the future")
    [created] = sessions.create(
        [],
        session_id="s1",
        institution_id="i1",
        position="施工员",
        specialisation=None,
        starts_at=NOW + timedelta(minutes=2),
        room="演示考场",
        address="",
        seats=5,
        duration_minutes=rules.duration_minutes,
        created_by="acc-1",
        now=NOW,
    )
    assert isinstance(created, ExamSessionCreated) and created.duration_minutes == 10


def test_production_refuses_demo_timing_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_ENV", "production")
    assert ExamSettings().exam_demo_timing is False  # production without demo timing starts
    monkeypatch.setenv("EXAM_DEMO_TIMING", "1")
    with pytest.raises(ValidationError) as refused:
        ExamSettings()
    assert "EXAM_DEMO_TIMING" in str(refused.value) and "PLATFORM_ENV=production" in str(refused.value)
    with pytest.raises(ValidationError):
        build_app()
