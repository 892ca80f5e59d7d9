"""Continuing-education hours (继续教育学时): cycles, per-cycle totals, lapse and renewal rules (pure).

Everything is a function of (issue date, records, today, rules); `today` is always passed in.

- **Cycles** run from the anniversary of the issue date, starting `first_cycle_offset_years` (default 1)
  after issue: cycle k (k ≥ 1) is [anniversary(issued_on, k + offset - 1), next anniversary − 1 day]. An
  anniversary of 29 February is 28 February in a common year, so cycles are contiguous and one year long.
- A cycle is **complete** when its last day is before `today`.
- **No carry-forward**: a record counts only in the cycle that contains its date; surplus hours of one cycle
  never make another cycle compliant. Hours before the first cycle count in no cycle.
- A cycle is **met** with ≥ `hours_per_cycle` hours (32) of which ≥ `professional_hours_per_cycle` (22) are
  professional.
- **Lapse**: when the two most recent complete cycles together hold fewer than `lapse_hours_two_cycles`
  (64) hours, the certificate lapses. Run at least once per cycle, the check judges every pair of
  consecutive cycles once. For an imported old-style certificate (`judged_from`), only cycles that start on
  or after the import date are judged (its earlier hours could not be recorded in this system).
- **Renewal** ("the required hours", `renewal_rule`): `last_cycle` — the last complete cycle is met;
  `last_12_months` — ≥ `renewal_hours` (32) hours of which ≥ `renewal_professional_hours` (22) professional
  dated within the last `renewal_window_months` (12) months up to today; `either` (default) — one of both.
"""

from __future__ import annotations

import calendar
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

HoursKind = Literal["professional", "general"]
RenewalRule = Literal["either", "last_cycle", "last_12_months"]
ReinstatementRule = Literal["training_plan", "off"]

KIND_LABELS: dict[str, str] = {"professional": "专业科目", "general": "公共科目"}


@dataclass(frozen=True)
class HoursRules:
    hours_per_cycle: float = 32.0
    professional_hours_per_cycle: float = 22.0
    lapse_hours_two_cycles: float = 64.0
    first_cycle_offset_years: int = 1
    min_record_hours: float = 0.5
    max_record_hours: float = 12.0
    hours_step: float = 0.5
    renewal_rule: RenewalRule = "either"
    renewal_hours: float = 32.0
    renewal_professional_hours: float = 22.0
    renewal_window_months: int = 12
    # retraining after a lapse: `training_plan` — credited training-plan hours after the lapse that meet the
    # requirement below (None: one cycle's) reinstate the certificate; `off` — a lapsed certificate stays so
    reinstatement_rule: ReinstatementRule = "training_plan"
    reinstatement_hours: float | None = None
    reinstatement_professional_hours: float | None = None


@dataclass(frozen=True)
class HoursRecord:
    studied_on: date
    hours: float
    kind: HoursKind
    course: str = ""
    record_id: str = ""
    source: str = "manual"  # manual | import | training_plan
    source_ref: str | None = None  # "<plan_id>:<applicant_id>" of a training plan


def _normal(text: str) -> str:
    """A course name as compared: NFKC, no surrounding or repeated blanks, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def natural_key(
    *, certificate_id: str, source: str, course: str, studied_on: date, kind: str, plan_id: str | None = None
) -> str:
    """What makes two hours records the same record (the holder is the certificate's): the certificate, the
    source, the course (for a training plan: the plan), the date and the kind. Records keyed by hand and from
    a sheet are one source ("keyed"): a record keyed by hand and uploaded again in a sheet is a duplicate.
    The hours are not part of the key: the same key with other hours is a conflicting record."""
    if source == "training_plan":
        origin, what = "training_plan", plan_id or _normal(course)
    else:
        origin, what = "keyed", _normal(course)
    return "|".join((certificate_id, origin, what, studied_on.isoformat(), kind))


@dataclass(frozen=True)
class Cycle:
    index: int  # 1-based
    starts_on: date
    ends_on: date  # inclusive

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class CycleProgress:
    cycle: Cycle
    total: float
    professional: float
    general: float
    complete: bool
    met: bool
    missing_total: float
    missing_professional: float


@dataclass(frozen=True)
class LapseDecision:
    lapsed: bool
    cycles_from: date
    cycles_to: date
    hours: float
    required_hours: float


@dataclass(frozen=True)
class RenewalDecision:
    eligible: bool
    by: str | None  # "last_cycle" or "last_12_months" when eligible
    reason: str  # zh-CN, for the holder


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    year = day.year + years
    last = calendar.monthrange(year, day.month)[1]
    return date(year, day.month, min(day.day, last))


def add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle(issued_on: date, index: int, rules: HoursRules) -> Cycle:
    if index < 1:
        raise ValueError("cycles are numbered from 1")
    start = add_years(issued_on, index + rules.first_cycle_offset_years - 1)
    end = add_years(issued_on, index + rules.first_cycle_offset_years) - timedelta(days=1)
    return Cycle(index, start, end)


def cycles_until(issued_on: date, today: date, rules: HoursRules) -> list[Cycle]:
    """Every cycle that has started on or before `today` (the last one may be in progress)."""
    found: list[Cycle] = []
    index = 1
    while True:
        current = cycle(issued_on, index, rules)
        if current.starts_on > today:
            return found
        found.append(current)
        index += 1


def complete_cycles(issued_on: date, today: date, rules: HoursRules) -> list[Cycle]:
    return [c for c in cycles_until(issued_on, today, rules) if c.ends_on < today]


def _sum(records: Iterable[HoursRecord]) -> tuple[float, float]:
    total = professional = 0.0
    for record in records:
        total += record.hours
        if record.kind == "professional":
            professional += record.hours
    return total, professional


def progress_of(c: Cycle, records: Sequence[HoursRecord], today: date, rules: HoursRules) -> CycleProgress:
    """Totals of one cycle: only the records dated inside it (no carry-forward)."""
    total, professional = _sum(r for r in records if c.contains(r.studied_on))
    met = total >= rules.hours_per_cycle and professional >= rules.professional_hours_per_cycle
    return CycleProgress(
        cycle=c,
        total=total,
        professional=professional,
        general=total - professional,
        complete=c.ends_on < today,
        met=met,
        missing_total=max(rules.hours_per_cycle - total, 0.0),
        missing_professional=max(rules.professional_hours_per_cycle - professional, 0.0),
    )


def progress(
    issued_on: date, records: Sequence[HoursRecord], today: date, rules: HoursRules
) -> list[CycleProgress]:
    """Progress of every cycle started so far, oldest first (the holder's 学时进度)."""
    return [progress_of(c, records, today, rules) for c in cycles_until(issued_on, today, rules)]


def lapse_decision(
    issued_on: date,
    records: Sequence[HoursRecord],
    today: date,
    rules: HoursRules,
    *,
    judged_from: date | None = None,
) -> LapseDecision | None:
    """The judgement of the two most recent complete cycles, or None when there are not two to judge."""
    done = [
        c
        for c in complete_cycles(issued_on, today, rules)
        if judged_from is None or c.starts_on >= judged_from
    ]
    if len(done) < 2:
        return None
    first, second = done[-2], done[-1]
    total, _ = _sum(r for r in records if first.starts_on <= r.studied_on <= second.ends_on)
    return LapseDecision(
        lapsed=total < rules.lapse_hours_two_cycles,
        cycles_from=first.starts_on,
        cycles_to=second.ends_on,
        hours=total,
        required_hours=rules.lapse_hours_two_cycles,
    )


def renewal_decision(
    issued_on: date, records: Sequence[HoursRecord], today: date, rules: HoursRules
) -> RenewalDecision:
    """Does the holder have "the required hours" to renew (see the module's docstring)?"""
    reasons: list[str] = []
    if rules.renewal_rule in ("either", "last_cycle"):
        done = complete_cycles(issued_on, today, rules)
        if done:
            last = progress_of(done[-1], records, today, rules)
            if last.met:
                return RenewalDecision(True, "last_cycle", "上一个完整继续教育周期学时已达标")
            reasons.append(
                f"上一个完整周期（{last.cycle.starts_on}至{last.cycle.ends_on}）共 {last.total:g} 学时、"
                f"专业科目 {last.professional:g} 学时，未达到 {rules.hours_per_cycle:g} 学时"
                f"（其中专业科目 {rules.professional_hours_per_cycle:g} 学时）"
            )
        else:
            reasons.append("尚无完整的继续教育周期")
    if rules.renewal_rule in ("either", "last_12_months"):
        since = add_months(today, -rules.renewal_window_months)
        total, professional = _sum(r for r in records if since <= r.studied_on <= today)
        if total >= rules.renewal_hours and professional >= rules.renewal_professional_hours:
            return RenewalDecision(True, "last_12_months", f"近 {rules.renewal_window_months} 个月学时已达标")
        reasons.append(
            f"近 {rules.renewal_window_months} 个月（{since}起）共 {total:g} 学时、"
            f"专业科目 {professional:g} 学时，"
            f"未达到 {rules.renewal_hours:g} 学时（其中专业科目 {rules.renewal_professional_hours:g} 学时）"
        )
    return RenewalDecision(False, None, "；".join(reasons))


def record_problems(
    *, studied_on: date, hours: float, kind: str, course: str, issued_on: date, today: date, rules: HoursRules
) -> list[tuple[str, str, str]]:
    """What is wrong with one record, as (field, code, message); empty when it may be recorded."""
    problems: list[tuple[str, str, str]] = []
    if studied_on > today:
        problems.append(("studied_on", "date_in_future", "学习日期不能晚于今天"))
    if studied_on < issued_on:
        problems.append(("studied_on", "date_before_issue", f"学习日期不能早于发证日期 {issued_on}"))
    steps = hours / rules.hours_step if rules.hours_step > 0 else hours
    if not (rules.min_record_hours <= hours <= rules.max_record_hours) or abs(steps - round(steps)) > 1e-9:
        problems.append(
            (
                "hours",
                "invalid_hours",
                f"每条记录学时应在 {rules.min_record_hours:g} 至 {rules.max_record_hours:g} 之间，"
                f"且为 {rules.hours_step:g} 的整数倍",
            )
        )
    if kind not in KIND_LABELS:
        problems.append(
            ("kind", "invalid_kind", "学时类别应为 专业科目（professional）或 公共科目（general）")
        )
    if not course.strip():
        problems.append(("course", "required", "请填写课程名称"))
    elif len(course) > 100:
        problems.append(("course", "too_long", "课程名称不能超过 100 个字"))
    return problems


# -- reminders, the date a short cycle would lapse, reinstatement --------------------------------------------

REMINDER_DAYS: tuple[int, ...] = (60, 30)


def current_cycle(issued_on: date, today: date, rules: HoursRules) -> Cycle | None:
    """The cycle that contains `today` (None before the first cycle starts)."""
    started = cycles_until(issued_on, today, rules)
    return started[-1] if started else None


def lapses_on(
    issued_on: date,
    records: Sequence[HoursRecord],
    today: date,
    rules: HoursRules,
    *,
    judged_from: date | None = None,
) -> date | None:
    """The first day the certificate would lapse if no more hours were recorded: the day after the first
    cycle (from the current one on) that completes a judged pair of consecutive cycles with fewer than
    `lapse_hours_two_cycles` hours. None before the first cycle starts."""
    now = current_cycle(issued_on, today, rules)
    if now is None:
        return None
    for index in range(max(now.index, 2), now.index + 4):
        first, second = cycle(issued_on, index - 1, rules), cycle(issued_on, index, rules)
        if judged_from is not None and first.starts_on < judged_from:
            continue
        total, _ = _sum(r for r in records if first.starts_on <= r.studied_on <= second.ends_on)
        if total < rules.lapse_hours_two_cycles:
            return second.ends_on + timedelta(days=1)
    return None


@dataclass(frozen=True)
class ReminderDecision:
    cycle: CycleProgress
    days_before: int
    lapses_on: date | None


def reminder_due(
    issued_on: date,
    records: Sequence[HoursRecord],
    today: date,
    rules: HoursRules,
    *,
    sent: Iterable[tuple[int, int]],
    judged_from: date | None = None,
) -> ReminderDecision | None:
    """The reminder due today for the current cycle, if the holder is short of hours in it: `days_before`
    is the smallest threshold (60, 30) with at most that many days left until the cycle's last day (exactly
    60 days before: due; 61: not yet), unless it or a smaller one was sent (`sent`: (cycle index,
    days_before) already reminded). A check that missed the 60-day window sends only the 30-day reminder."""
    now = current_cycle(issued_on, today, rules)
    if now is None:
        return None
    days_left = (now.ends_on - today).days
    due = [d for d in REMINDER_DAYS if days_left <= d]
    if not due:
        return None
    days_before = min(due)
    already = {d for index, d in sent if index == now.index}
    if any(d <= days_before for d in already):
        return None
    cycle_progress = progress_of(now, records, today, rules)
    if cycle_progress.met:
        return None
    return ReminderDecision(
        cycle_progress, days_before, lapses_on(issued_on, records, today, rules, judged_from=judged_from)
    )


@dataclass(frozen=True)
class ReinstatementDecision:
    reinstated: bool
    hours: float
    professional: float
    required_hours: float
    required_professional: float


def reinstatement_decision(retraining: Sequence[HoursRecord], rules: HoursRules) -> ReinstatementDecision:
    """Retraining after a lapse (the training-plan records credited since the lapse) reinstates the
    certificate when it meets one cycle's requirement: ≥ `reinstatement_hours` (default: a cycle's 32) of
    which ≥ `reinstatement_professional_hours` (22) professional."""
    total, professional = _sum(retraining)
    need = rules.reinstatement_hours if rules.reinstatement_hours is not None else rules.hours_per_cycle
    need_professional = (
        rules.reinstatement_professional_hours
        if rules.reinstatement_professional_hours is not None
        else rules.professional_hours_per_cycle
    )
    return ReinstatementDecision(
        reinstated=rules.reinstatement_rule != "off" and total >= need and professional >= need_professional,
        hours=total,
        professional=professional,
        required_hours=need,
        required_professional=need_professional,
    )
