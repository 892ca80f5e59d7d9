from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from certification.domain.hours import (
    HoursRecord,
    HoursRules,
    add_years,
    complete_cycles,
    cycle,
    cycles_until,
    lapse_decision,
    progress,
    record_problems,
    renewal_decision,
)

RULES = HoursRules()
ISSUED = date(2020, 6, 15)


def rec(day: date, hours: float, kind: str = "professional") -> HoursRecord:
    return HoursRecord(day, hours, kind, "课程")


def spread(start: date, professional: float, general: float) -> list[HoursRecord]:
    """Records of at most 8 hours on consecutive days from `start`."""
    out: list[HoursRecord] = []
    day = start
    for kind, total in (("professional", professional), ("general", general)):
        while total > 0:
            h = min(8.0, total)
            out.append(rec(day, h, kind))
            total -= h
            day += timedelta(days=1)
    return out


def test_cycles_start_the_year_after_issue_and_are_contiguous() -> None:
    first, second = cycle(ISSUED, 1, RULES), cycle(ISSUED, 2, RULES)
    assert (first.starts_on, first.ends_on) == (date(2021, 6, 15), date(2022, 6, 14))
    assert second.starts_on == first.ends_on + timedelta(days=1)
    assert cycle(ISSUED, 1, HoursRules(first_cycle_offset_years=0)).starts_on == ISSUED
    assert [c.index for c in cycles_until(ISSUED, date(2021, 6, 14), RULES)] == []
    assert [c.index for c in cycles_until(ISSUED, date(2021, 6, 15), RULES)] == [1]
    # complete only once its last day is over
    assert complete_cycles(ISSUED, date(2022, 6, 14), RULES) == []
    assert [c.index for c in complete_cycles(ISSUED, date(2022, 6, 15), RULES)] == [1]


def test_leap_day_issue_dates() -> None:
    issued = date(2024, 2, 29)
    assert add_years(issued, 1) == date(2025, 2, 28)
    assert add_years(issued, 4) == date(2028, 2, 29)
    cycles = [cycle(issued, i, RULES) for i in range(1, 5)]
    assert [(c.starts_on, c.ends_on) for c in cycles] == [
        (date(2025, 2, 28), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2027, 2, 27)),
        (date(2027, 2, 28), date(2028, 2, 28)),
        (date(2028, 2, 29), date(2029, 2, 27)),
    ]
    for a, b in itertools.pairwise(cycles):
        assert b.starts_on == a.ends_on + timedelta(days=1)


@pytest.mark.parametrize(
    ("professional", "general", "met"),
    [(22, 10, True), (21.5, 10.5, False), (22, 9.5, False), (31.5, 0, False), (32, 0, True), (40, 0, True)],
)
def test_cycle_is_met_at_32_hours_with_22_professional(
    professional: float, general: float, met: bool
) -> None:
    start = cycle(ISSUED, 1, RULES).starts_on
    (first,) = progress(ISSUED, spread(start, professional, general), date(2022, 1, 1), RULES)
    assert first.total == professional + general and first.professional == professional
    assert first.met is met and first.complete is False


def test_no_carry_forward() -> None:
    one, two = cycle(ISSUED, 1, RULES), cycle(ISSUED, 2, RULES)
    records = spread(one.starts_on, 60, 20)  # far more than needed, all in cycle 1
    records += spread(ISSUED + timedelta(days=10), 30, 10)  # before cycle 1: counts nowhere
    p1, p2, p3 = progress(ISSUED, records, two.ends_on + timedelta(days=1), RULES)
    assert p3.total == 0 and not p3.complete
    assert p1.met and p1.total == 80
    assert not p2.met and p2.total == 0 and p2.missing_total == 32 and p2.missing_professional == 22
    # the last complete cycle (2) is not met: surplus of cycle 1 does not help the renewal
    decision = renewal_decision(
        ISSUED, records, two.ends_on + timedelta(days=1), HoursRules(renewal_rule="last_cycle")
    )
    assert not decision.eligible


def test_lapse_at_63_5_but_not_at_64() -> None:
    one, two = cycle(ISSUED, 1, RULES), cycle(ISSUED, 2, RULES)
    today = two.ends_on + timedelta(days=1)
    short = spread(one.starts_on, 22, 10) + spread(two.starts_on, 22, 9.5)
    enough = spread(one.starts_on, 22, 10) + spread(two.starts_on, 22, 10)
    lapsed = lapse_decision(ISSUED, short, today, RULES)
    assert lapsed is not None and lapsed.lapsed and lapsed.hours == 63.5
    assert (lapsed.cycles_from, lapsed.cycles_to) == (one.starts_on, two.ends_on)
    kept = lapse_decision(ISSUED, enough, today, RULES)
    assert kept is not None and not kept.lapsed and kept.hours == 64
    # one day earlier the second cycle is not complete: nothing to judge yet
    assert lapse_decision(ISSUED, short, two.ends_on, RULES) is None
    # the rule judges the two most recent complete cycles only
    three = cycle(ISSUED, 3, RULES)
    later = lapse_decision(ISSUED, enough, three.ends_on + timedelta(days=1), RULES)
    assert later is not None and later.lapsed and later.hours == 32
    # configurable
    assert not lapse_decision(ISSUED, short, today, HoursRules(lapse_hours_two_cycles=60)).lapsed


def test_imported_certificates_are_judged_from_the_import() -> None:
    issued = date(2015, 3, 1)
    today = date(2026, 11, 25)
    assert lapse_decision(issued, [], today, RULES).lapsed
    assert lapse_decision(issued, [], today, RULES, judged_from=date(2026, 1, 1)) is None
    judged = lapse_decision(issued, [], date(2029, 3, 2), RULES, judged_from=date(2026, 1, 1))
    assert judged is not None and judged.lapsed and judged.cycles_from == date(2027, 3, 1)


def test_renewal_eligibility() -> None:
    issued = date(2016, 5, 20)
    today = date(2026, 11, 25)
    last_cycle = cycle(issued, 10, RULES)  # 2026-05-20 .. 2027-05-19 is in progress; 9 is the last complete
    assert last_cycle.starts_on == date(2026, 5, 20)
    ninth = cycle(issued, 9, RULES)
    in_ninth = spread(ninth.starts_on, 22, 10)
    assert renewal_decision(issued, in_ninth, today, RULES).by == "last_cycle"
    recent = spread(date(2026, 6, 1), 22, 10)  # in the last 12 months, in the cycle in progress
    decision = renewal_decision(issued, recent, today, RULES)
    assert decision.eligible and decision.by == "last_12_months"
    assert not renewal_decision(issued, recent, today, HoursRules(renewal_rule="last_cycle")).eligible
    short = spread(date(2026, 6, 1), 21.5, 10.5)
    refused = renewal_decision(issued, short, today, RULES)
    assert not refused.eligible and "21.5" in refused.reason
    old = spread(date(2025, 11, 1), 22, 10)  # more than 12 months ago and not the whole last cycle
    assert not renewal_decision(issued, old, today, HoursRules(renewal_rule="last_12_months")).eligible


def test_record_rules() -> None:
    today = date(2026, 11, 25)

    def codes(studied_on: date, hours: float, kind: str = "general", course: str = "安全生产") -> set[str]:
        found = record_problems(
            studied_on=studied_on,
            hours=hours,
            kind=kind,
            course=course,
            issued_on=ISSUED,
            today=today,
            rules=RULES,
        )
        return {c for _, c, _ in found}

    assert codes(today, 0.5) == set() and codes(ISSUED, 12) == set()
    assert codes(today + timedelta(days=1), 4) == {"date_in_future"}
    assert codes(ISSUED - timedelta(days=1), 4) == {"date_before_issue"}
    assert codes(today, 0.25) == {"invalid_hours"} and codes(today, 12.5) == {"invalid_hours"}
    assert codes(today, 1.3) == {"invalid_hours"} and codes(today, 0) == {"invalid_hours"}
    assert codes(today, 2, kind="other", course=" ") == {"invalid_kind", "required"}
