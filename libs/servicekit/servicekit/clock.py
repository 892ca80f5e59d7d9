"""Business time: every business date (ages, exam days, issue dates, continuing-education cycles, "today")
is a date in the platform's time zone, China time by default (`BUSINESS_TIMEZONE`, an IANA name), never the
server's UTC date — a sheet's verdict must not change at 16:00 UTC.

Pure functions of a moment; `now()` and `today()` read the system clock only where a caller did not pass one.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


@cache
def business_tz() -> tzinfo:
    return ZoneInfo(os.environ.get("BUSINESS_TIMEZONE") or DEFAULT_TIMEZONE)


def now() -> datetime:
    return datetime.now(UTC)


def business_date(moment: datetime) -> date:
    """The business date of a moment (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(business_tz()).date()


def today(moment: datetime | None = None) -> date:
    """Today in business time (at `moment`, default now)."""
    return business_date(moment or now())


def local_text(moment: datetime) -> str:
    """A moment as people read it: `YYYY-MM-DD HH:MM` in business time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(business_tz()).strftime("%Y-%m-%d %H:%M")
