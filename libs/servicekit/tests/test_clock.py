"""Business dates are China's dates, whatever the server's clock says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from servicekit import clock


def test_a_business_date_turns_at_china_midnight_not_utc_midnight() -> None:
    assert clock.today(datetime(2026, 3, 1, 15, 59, tzinfo=UTC)).isoformat() == "2026-03-01"
    assert clock.today(datetime(2026, 3, 1, 16, 0, tzinfo=UTC)).isoformat() == "2026-03-02"
    assert clock.business_date(datetime(2026, 3, 1, 16, 0)).isoformat() == "2026-03-02"  # naive = UTC
    assert clock.local_text(datetime(2026, 3, 1, 16, 5, tzinfo=UTC)) == "2026-03-02 00:05"


def test_the_time_zone_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS_TIMEZONE", "UTC")
    clock.business_tz.cache_clear()
    try:
        assert clock.today(datetime(2026, 3, 1, 16, 0, tzinfo=UTC)).isoformat() == "2026-03-01"
    finally:
        monkeypatch.delenv("BUSINESS_TIMEZONE")
        clock.business_tz.cache_clear()
