"""Continuing-education steps on the real platform: certification's test clock.

The platform runs the certification service with CERTIFICATION_TEST_CLOCK_OFFSET_FILE
(tests/integration/conftest.py): the seconds written there are added to certification's clock, so that its
business date ("today": cycles, reminders, the lapse check, the dates hours may carry) can be moved forward
by months or years. Only certification's clock moves: the exam and enrollment keep the real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from servicekit.launcher import ServiceProcesses

CHINA = timezone(timedelta(hours=8))


def china_today() -> date:
    return datetime.now(CHINA).date()


def seconds_until(day: date) -> float:
    """How far certification's clock must move for its business date to be `day` (noon, China time)."""
    target = datetime(day.year, day.month, day.day, 12, tzinfo=CHINA)
    return (target - datetime.now(CHINA)).total_seconds()


@contextmanager
def certification_clock_offset(platform: ServiceProcesses, seconds: float) -> Iterator[None]:
    """Move certification's clock `seconds` forward for the block (back to 0 after it)."""
    path = Path(platform.env["CERTIFICATION_TEST_CLOCK_OFFSET_FILE"])
    path.write_text(str(seconds))
    try:
        yield
    finally:
        path.write_text("0")
