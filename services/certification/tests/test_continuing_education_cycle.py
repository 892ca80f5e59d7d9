"""Continuing education as a yearly cycle, each rule at its boundary: crediting a completed training plan
once, natural-key duplicates (one by one and in a sheet), reinstatement after a lapse, the 60/30-day
reminders and the date a short cycle lapses, and at most one valid certificate per person and position."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from certification.domain import certificate as domain
from certification.domain import hours as hours_rules
from certification.domain import sheets
from certification.domain.certificate import Certificate
from certification.domain.hours import HoursRecord, HoursRules, cycle
from events import (
    CertificateIssued,
    CertificateLapsed,
    CertificateReinstated,
    CertificateRenewed,
    ContinuingEducationCompleted,
    ContinuingEducationRecorded,
    ContinuingEducationReminderDue,
    DomainEvent,
)
from servicekit.errors import Conflict

RULES = HoursRules()
HOLDER = "330106199005170019"
ISSUED = date(2022, 3, 10)  # cycle 1: 2023-03-10 … 2024-03-09, cycle 2: 2024-03-10 … 2025-03-09, …


def issued(certificate_id: str = "c1", issued_on: date = ISSUED) -> list[DomainEvent]:
    return [
        CertificateIssued(
            certificate_id=certificate_id,
            certificate_number=f"N-{certificate_id}",
            applicant_id="ap0",
            id_number=HOLDER,
            holder_name="张三",
            gender="男",
            position="施工员",
            specialisation="土建施工",
            institution_id="inst",
            issued_on=issued_on,
        )
    ]


def completed(
    plan_id: str = "plan1",
    applicant_id: str = "ap1",
    professional: float = 24,
    general: float = 8,
    on: date = date(2025, 6, 30),
) -> ContinuingEducationCompleted:
    return ContinuingEducationCompleted(
        applicant_id=applicant_id,
        batch_id="b1",
        enterprise_id="ent",
        institution_id="inst-ce",
        plan_id=plan_id,
        plan_name="2025年施工员继续教育",
        id_number=HOLDER,
        name="张三",
        position="施工员",
        professional_hours=professional,
        general_hours=general,
        completed_on=on,
    )


def credit(history: list[DomainEvent], done: ContinuingEducationCompleted, today: date) -> list[DomainEvent]:
    ref = domain.training_ref(done)
    new = domain.credit_training(
        history, completed=done, record_id_for=lambda kind: f"{ref}:{kind}", today=today, rules=RULES
    )
    history += new
    return new


def keyed(
    history: list[DomainEvent],
    day: date,
    hours: float,
    *,
    kind: str = "professional",
    course: str = "新规范",
    record_id: str | None = None,
    today: date = date(2026, 1, 1),
) -> list[DomainEvent]:
    new = domain.record_hours(
        history,
        record_id=record_id or f"r{len(history)}",
        institution_id="inst",
        studied_on=day,
        hours=hours,
        kind=kind,
        course=course,
        recorded_by="acct",
        today=today,
        rules=RULES,
    )
    history += new
    return new


# -- crediting a completed training plan ------------------------------------------------------------------


def test_a_completed_training_plan_is_credited_once_as_declared() -> None:
    history = issued()
    first = credit(history, completed(), date(2025, 7, 1))
    assert [(e.kind, e.hours) for e in first if isinstance(e, ContinuingEducationRecorded)] == [
        ("professional", 24),
        ("general", 8),
    ]
    record = first[0]
    assert isinstance(record, ContinuingEducationRecorded)
    assert record.source == "training_plan" and record.source_ref == "plan1:ap1"
    assert record.applicant_id == "ap1" and record.studied_on == date(2025, 6, 30)
    assert record.course == "2025年施工员继续教育" and record.institution_id == "inst-ce"
    # a redelivery or a replay credits nothing more
    assert credit(history, completed(), date(2025, 7, 2)) == []
    cert = Certificate.from_history(history)
    assert sum(r.hours for r in cert.records) == 32
    # the declared hours are one record each, beyond the 12-hour limit of a keyed record
    assert max(r.hours for r in cert.records) > RULES.max_record_hours


def test_a_plan_without_general_hours_credits_one_record_and_a_revoked_certificate_none() -> None:
    history = issued()
    new = credit(history, completed(professional=10, general=0), date(2025, 7, 1))
    assert len(new) == 1 and isinstance(new[0], ContinuingEducationRecorded) and new[0].kind == "professional"
    history += domain.revoke(history, reason="违规", source="admin", revoked_by="root")
    with pytest.raises(Conflict):
        credit(history, completed(plan_id="plan2"), date(2025, 7, 1))


# -- natural keys -----------------------------------------------------------------------------------------


def test_the_same_keyed_record_twice_is_one_record() -> None:
    history = issued()
    assert keyed(history, date(2025, 5, 1), 4)
    # another request (another record id), the same natural key and hours: nothing new
    assert keyed(history, date(2025, 5, 1), 4, course=" 新规范 ") == []
    assert keyed(history, date(2025, 5, 1), 4, course="新規範") != []  # another course is another record
    existing = domain.duplicate_of(
        Certificate.from_history(history), studied_on=date(2025, 5, 1), kind="professional", course="新规范"
    )
    assert existing is not None and existing.hours == 4
    # the other kind on the same day is another record
    assert keyed(history, date(2025, 5, 1), 4, kind="general")
    # the same key with other hours: refused, naming the record that exists
    with pytest.raises(Conflict) as refused:
        keyed(history, date(2025, 5, 1), 6)
    assert refused.value.code == "hours_record_conflict"
    assert refused.value.details["record_id"] == existing.record_id


def test_natural_key_ignores_width_blanks_and_case_and_tells_sources_apart() -> None:
    def key(**kw: object) -> str:
        base: dict[str, object] = {
            "certificate_id": "c1",
            "source": "manual",
            "course": "BIM 应用",
            "studied_on": date(2025, 5, 1),
            "kind": "professional",
        }
        base.update(kw)
        return hours_rules.natural_key(**base)

    assert key() == key(course="ＢＩＭ  应用 ") == key(course="bim 应用") == key(source="import")
    assert key() != key(source="training_plan", plan_id="p1")
    assert key() != key(certificate_id="c2") != key(studied_on=date(2025, 5, 2))


HEADER = list(sheets.HOURS_COLUMNS)


def row(day: str, hours: float, course: str = "新规范", kind: str = "专业科目") -> list[object]:
    return ["N-C1", HOLDER, day, hours, kind, course]


def test_a_sheet_reports_duplicates_within_it_and_against_what_is_recorded() -> None:
    history = issued()
    keyed(history, date(2025, 5, 1), 4)
    cert = Certificate.from_history(history)
    facts = {"N-C1": sheets.CertificateFacts("c1", HOLDER, ISSUED, "valid", "有效")}
    rows = [
        row("2025-05-02", 4),  # row 2
        row("2025-05-02", 4, course="新规范 "),  # row 3: the same as row 2
        row("2025-05-01", 4),  # row 4: recorded already
        row("2025-05-03", 4),  # row 5: fine
    ]
    records, problems = sheets.hours_rows(
        HEADER, rows, facts, today=date(2026, 1, 1), rules=RULES, recorded=cert.records_by_key
    )
    found = {(p.row, p.code) for p in problems}
    assert found == {(3, "duplicate_in_sheet"), (4, "already_recorded")}
    duplicate = next(p for p in problems if p.code == "duplicate_in_sheet")
    assert "第 3 行" in duplicate.message and "第 2 行" in duplicate.message
    recorded = next(p for p in problems if p.code == "already_recorded")
    assert "N-C1" in recorded.message and "2025-05-01" in recorded.message and "新规范" in recorded.message
    assert [r.row for r in records] == [2, 5]  # the caller stores nothing: there are problems


# -- lapse and reinstatement ------------------------------------------------------------------------------

LAPSE_DAY = date(2025, 3, 10)  # cycles 1 and 2 complete, no hours: lapses


def lapsed_history() -> list[DomainEvent]:
    history = issued()
    history += domain.lapse(history, today=LAPSE_DAY, rules=RULES)
    assert isinstance(history[-1], CertificateLapsed) and history[-1].lapsed_on == LAPSE_DAY
    return history


@pytest.mark.parametrize(
    ("professional", "general", "reinstated"),
    [(22, 10, True), (32, 0, True), (22, 9.5, False), (21.5, 10.5, False)],
)
def test_retraining_reinstates_at_one_cycles_requirement(
    professional: float, general: float, reinstated: bool
) -> None:
    history = lapsed_history()
    new = credit(history, completed(professional=professional, general=general), date(2025, 7, 1))
    assert isinstance(new[-1], CertificateReinstated) is reinstated
    cert = Certificate.from_history(history)
    assert cert.state == ("valid" if reinstated else "lapsed")
    if reinstated:
        assert cert.reinstated_on == date(2025, 7, 1) and cert.judged_from() == date(2025, 7, 1)


def test_retraining_adds_up_over_plans_and_keyed_hours_do_not_count() -> None:
    history = lapsed_history()
    with pytest.raises(Conflict):  # keyed hours are refused on a lapsed certificate
        keyed(history, date(2025, 4, 1), 8)
    credit(history, completed(plan_id="p1", professional=12, general=4), date(2025, 5, 1))
    assert Certificate.from_history(history).state == "lapsed"
    new = credit(history, completed(plan_id="p2", professional=10, general=6), date(2025, 7, 1))
    reinstated = new[-1]
    assert isinstance(reinstated, CertificateReinstated)
    assert reinstated.hours == 32 and reinstated.professional_hours == 22
    assert reinstated.training_refs == ["p1:ap1", "p2:ap1"]


def test_hours_credited_before_the_lapse_are_no_retraining_and_the_rule_can_be_off() -> None:
    history = issued()
    credit(
        history, completed(plan_id="early", professional=4, general=0, on=date(2025, 3, 9)), date(2025, 3, 9)
    )
    history += domain.lapse(history, today=LAPSE_DAY, rules=RULES)
    assert Certificate.from_history(history).state == "lapsed"
    new = credit(history, completed(professional=22, general=9.5), date(2025, 7, 1))
    assert not any(isinstance(e, CertificateReinstated) for e in new)  # 31.5 since the lapse
    off = HoursRules(reinstatement_rule="off")
    history = lapsed_history()
    assert not any(
        isinstance(e, CertificateReinstated)
        for e in domain.credit_training(
            history, completed=completed(), record_id_for=lambda k: k, today=date(2025, 7, 1), rules=off
        )
    )


def test_after_reinstatement_lapse_judging_restarts_from_it() -> None:
    history = lapsed_history()
    credit(history, completed(), date(2025, 7, 1))  # reinstated on 2025-07-01
    # cycle 3 (2025-03-10 … 2026-03-09) started before the reinstatement: never judged again
    assert domain.lapse(history, today=date(2027, 3, 10), rules=RULES) == []
    # cycles 4 and 5 (2026-03-10 … 2028-03-09) are the first judged pair
    (again,) = domain.lapse(history, today=date(2028, 3, 10), rules=RULES)
    assert isinstance(again, CertificateLapsed) and again.cycles_from == date(2026, 3, 10)


# -- reminders and the lapse date ---------------------------------------------------------------------------

CYCLE3 = cycle(ISSUED, 3, RULES)  # 2025-03-10 … 2026-03-09


def reminders(history: list[DomainEvent], today: date) -> list[ContinuingEducationReminderDue]:
    new = domain.remind(history, today=today, rules=RULES)
    history += new
    return [e for e in new if isinstance(e, ContinuingEducationReminderDue)]


def test_reminders_at_exactly_60_and_30_days_before_the_cycle_ends_once_each() -> None:
    history = issued()
    keyed(history, date(2024, 6, 1), 12)  # cycle 2
    keyed(history, date(2024, 6, 2), 12)
    keyed(history, date(2024, 6, 3), 12)  # cycle 2: 36 hours (met)
    keyed(history, date(2025, 6, 1), 10)  # cycle 3: 10 hours (short)
    assert reminders(history, CYCLE3.ends_on - timedelta(days=61)) == []
    (sixty,) = reminders(history, CYCLE3.ends_on - timedelta(days=60))
    assert (sixty.cycle, sixty.days_before, sixty.hours, sixty.required_hours) == (3, 60, 10, 32)
    assert sixty.cycle_ends_on == CYCLE3.ends_on
    # cycles 2 and 3 hold 46 < 64 hours: the certificate lapses the day after cycle 3 ends
    assert sixty.lapses_on == CYCLE3.ends_on + timedelta(days=1)
    assert reminders(history, CYCLE3.ends_on - timedelta(days=59)) == []
    assert reminders(history, CYCLE3.ends_on - timedelta(days=31)) == []
    (thirty,) = reminders(history, CYCLE3.ends_on - timedelta(days=30))
    assert thirty.days_before == 30
    assert reminders(history, CYCLE3.ends_on - timedelta(days=1)) == []
    # the next cycle: reminded again
    cycle4 = cycle(ISSUED, 4, RULES)
    assert [r.cycle for r in reminders(history, cycle4.ends_on - timedelta(days=60))] == [4]


def test_a_met_cycle_gets_no_reminder_and_a_missed_60_day_window_only_the_30_day_one() -> None:
    met = issued()
    for day in range(1, 4):
        keyed(met, date(2025, 6, day), 11)  # 33 hours, all professional
    assert reminders(met, CYCLE3.ends_on - timedelta(days=60)) == []
    short = issued()
    (late,) = reminders(short, CYCLE3.ends_on - timedelta(days=20))
    assert late.days_before == 30
    assert reminders(short, CYCLE3.ends_on - timedelta(days=10)) == []


def test_lapses_on_looks_past_a_cycle_that_still_keeps_the_pair_over_64_hours() -> None:
    records = [
        HoursRecord(date(2024, 6, 1), 60, "professional"),  # cycle 2
        HoursRecord(date(2025, 6, 1), 10, "general"),  # cycle 3: short, but 2 + 3 hold 70
    ]
    today = date(2025, 12, 1)
    cycle4 = cycle(ISSUED, 4, RULES)
    assert hours_rules.lapses_on(ISSUED, records, today, RULES) == cycle4.ends_on + timedelta(days=1)
    # before the first cycle there is nothing to judge yet, from cycle 1 on the first pair is 1 + 2
    assert hours_rules.lapses_on(ISSUED, [], date(2022, 12, 1), RULES) is None
    assert hours_rules.lapses_on(ISSUED, [], date(2023, 6, 1), RULES) == cycle(ISSUED, 2, RULES).ends_on + (
        timedelta(days=1)
    )


# -- one valid certificate per person and position -------------------------------------------------------


def test_a_second_passed_exam_renews_or_is_refused_by_the_setting() -> None:
    old = Certificate.from_history(issued("old"))
    assert domain.second_certificate([], "renew") == "issue"
    assert domain.second_certificate([old], "renew") == "renew"
    assert domain.second_certificate([old], "refuse") == "refuse"
    history = issued("old")
    (renewed,) = domain.supersede(
        history, new_certificate_id="new", new_number="N-new", today=date(2026, 5, 1)
    )
    assert isinstance(renewed, CertificateRenewed) and renewed.previous_certificate_id == "old"
    history.append(renewed)
    cert = Certificate.from_history(history)
    assert cert.state == "superseded" and cert.renewed_by == "new" and cert.state_label == "已更新"
    # already superseded: nothing more
    assert domain.supersede(history, new_certificate_id="x", new_number="N-x", today=date(2026, 5, 2)) == []


# -- the test clock -----------------------------------------------------------------------------------------


def test_the_test_clock_moves_certifications_today_and_is_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from certification.application import handlers
    from certification.settings import CertificationSettings
    from pydantic import ValidationError

    offset = tmp_path / "offset"
    monkeypatch.setenv("CERTIFICATION_TEST_CLOCK_OFFSET_FILE", str(offset))
    monkeypatch.setenv("PLATFORM_ENV", "production")
    with pytest.raises(ValidationError, match="CERTIFICATION_TEST_CLOCK_OFFSET_FILE"):
        CertificationSettings()
    monkeypatch.setenv("PLATFORM_ENV", "development")
    assert CertificationSettings().test_clock_offset_file == str(offset)
    before = handlers.today_in_china()
    try:
        handlers.use_test_clock(str(offset))
        assert handlers.today_in_china() == before  # no file yet: no offset
        offset.write_text(str(400 * 86400))
        assert handlers.today_in_china() - before in (timedelta(days=400), timedelta(days=401))
    finally:
        handlers.use_test_clock(None)
    assert handlers.today_in_china() == before


def test_hours_of_a_credited_plan_keyed_again_are_a_duplicate() -> None:
    history = issued()
    credit(history, completed(), date(2025, 7, 1))
    plan_day, plan_name = date(2025, 6, 30), "2025年施工员继续教育"
    assert keyed(history, plan_day, 24, course=plan_name) == []  # the credited record, answered as such
    with pytest.raises(Conflict):
        keyed(history, plan_day, 12, course=plan_name)
    cert = Certificate.from_history(history)
    facts = {"N-C1": sheets.CertificateFacts("c1", HOLDER, ISSUED, "valid", "有效")}
    _, problems = sheets.hours_rows(
        HEADER,
        [row("2025-06-30", 8, course=plan_name, kind="公共科目")],
        facts,
        today=date(2026, 1, 1),
        rules=RULES,
        recorded=cert.records_by_key,
    )
    assert [(p.row, p.code) for p in problems] == [(2, "already_recorded")]
