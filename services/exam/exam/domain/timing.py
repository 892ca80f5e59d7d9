"""Time rules of the exam, on the server's clock (`now` is always passed in, never read here).

- Check-in is open from `opens_before` before a session's start to `closes_after` after it.
- Starting the exam opens at the session's start (`start_opens_before` earlier, 0 by default) and closes with
  check-in (`closes_after` after the start): one room's candidates start together, late ones within the
  late limit.
- The exam clock is each candidate's own (docs/adr/0001-exam-clock.md): a started exam lasts the session's
  duration from the candidate's start; submission is allowed from `earliest_submit` after it (29:59 refused,
  30:00 allowed) until the deadline, when the paper is submitted automatically. A late starter gets the full
  duration; the late limit caps how late that is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from servicekit import clock

# Dates (a session's day, a blacklist's `until`) are business dates: China's calendar by default
# (`BUSINESS_TIMEZONE`, see servicekit.clock).


def local_date(moment: datetime) -> date:
    return clock.business_date(moment)


def local_text(moment: datetime) -> str:
    return clock.local_text(moment)


def minutes_ceil(delta: timedelta) -> int:
    """Whole minutes, rounded up (59 s left is "1 分钟")."""
    return max(0, math.ceil(delta.total_seconds() / 60))


@dataclass(frozen=True)
class CheckInRules:
    opens_before: timedelta = timedelta(minutes=60)
    closes_after: timedelta = timedelta(minutes=30)
    max_attempts: int = 3
    pending_timeout: timedelta = timedelta(seconds=60)
    start_opens_before: timedelta = timedelta(0)

    def opens_at(self, starts_at: datetime) -> datetime:
        return starts_at - self.opens_before

    def start_opens_at(self, starts_at: datetime) -> datetime:
        """From when a verified candidate may start the exam."""
        return starts_at - self.start_opens_before

    def closes_at(self, starts_at: datetime) -> datetime:
        return starts_at + self.closes_after


@dataclass(frozen=True)
class ExamTiming:
    earliest_submit: timedelta = timedelta(minutes=30)

    def deadline(self, started_at: datetime, duration_minutes: int) -> datetime:
        return started_at + timedelta(minutes=duration_minutes)

    def earliest_submission(self, started_at: datetime, duration_minutes: int) -> datetime:
        return min(started_at + self.earliest_submit, self.deadline(started_at, duration_minutes))


@dataclass(frozen=True)
class ScoringRules:
    full_marks: int = 100
    pass_mark: int = 60


def local_iso(moment: datetime) -> str:
    """A moment in ISO 8601 with business time's offset (China time: +08:00); a naive moment is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(clock.business_tz()).isoformat()
