"""Sessions: creation rules, seat capacity (numbers 1..seats, freed seats reused), all-or-nothing assignment
with a reason per candidate, cancellation, and the blacklist's dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from events import DomainEvent, ExamScheduled, ExamSessionCancelled, ExamUnscheduled, PersonBlacklisted
from exam.domain import discipline
from exam.domain import session as domain
from exam.domain.session import Applicant, Schedulability
from exam.domain.timing import local_date
from servicekit.errors import DomainError

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
STARTS = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def person(n: int, **kw: object) -> Applicant:
    values: dict[str, object] = {
        "candidate_id": f"c{n}",
        "applicant_id": f"a{n}",
        "enterprise_id": "e1",
        "institution_id": "i1",
        "id_number": f"33010619900517{n:04d}",
        "name": f"考生{n}",
        "position": "施工员",
        "specialisation": "土建施工",
    }
    values.update(kw)
    return Applicant(**values)


def created(seats: int = 2, **kw: object) -> list[DomainEvent]:
    values: dict[str, object] = {
        "session_id": "s1",
        "institution_id": "i1",
        "position": "施工员",
        "specialisation": None,
        "starts_at": STARTS,
        "room": "第一考场",
        "address": "杭州市西湖区文三路 90 号",
        "seats": seats,
        "duration_minutes": 120,
        "created_by": "u1",
        "now": NOW,
    }
    values.update(kw)
    return domain.create([], **values)


def assign(history: list[DomainEvent], *items: Schedulability, now: datetime = NOW) -> list[DomainEvent]:
    return domain.assign(
        domain.Session.from_history(history), institution_id="i1", requested=list(items), now=now
    )


def ok(n: int, **kw: object) -> Schedulability:
    return Schedulability(candidate_id=f"c{n}", applicant=person(n, **kw))


def test_create_checks_every_field() -> None:
    with pytest.raises(DomainError) as bad:
        created(seats=0, starts_at=NOW - timedelta(minutes=1), room=" ", position="木工")
    assert bad.value.code == "invalid_session"
    assert {(p["field"], p["code"]) for p in bad.value.details} == {
        ("starts_at", "starts_in_past"),
        ("room", "required"),
        ("seats", "invalid_seats"),
        ("position", "unknown_position"),
    }
    with pytest.raises(DomainError):
        created(seats=501)
    assert created(seats=500)[0].seats == 500


def test_seats_numbered_from_one_and_capacity_enforced() -> None:
    history = created(seats=2)
    first = assign(history, ok(1))
    assert [e.seat for e in first] == [1]
    history += first
    with pytest.raises(DomainError) as full:
        assign(history, ok(2), ok(3))
    assert full.value.code == "session_full" and full.value.status == 409
    assert full.value.details == {"seats": 2, "free": 1, "requested": 2}
    second = assign(history, ok(2))
    assert [e.seat for e in second] == [2]
    history += second
    with pytest.raises(DomainError) as no_seat:
        assign(history, ok(3))
    assert no_seat.value.code == "session_full"
    # a seat taken back is given again
    history += domain.unschedule(
        domain.Session.from_history(history),
        institution_id="i1",
        candidate_id="c1",
        reason="",
        checked_in=False,
        now=NOW,
    )
    again = assign(history, ok(3))
    assert [(e.candidate_id, e.seat) for e in again] == [("c3", 1)]
    state = domain.Session.from_history([*history, *again])
    assert state.free_seats() == [] and set(state.holders) == {"c2", "c3"}


def test_assignment_is_all_or_nothing_with_a_reason_per_candidate() -> None:
    history = created(seats=10) + assign(created(seats=10), ok(1))
    with pytest.raises(DomainError) as refused:
        assign(
            history,
            ok(1),
            ok(2),
            ok(2),
            ok(3, position="安全员", specialisation=None),
            ok(4, institution_id="other"),
            Schedulability(candidate_id="c5", applicant=None),
            replace(ok(6), scheduled_elsewhere=STARTS + timedelta(days=1)),
            replace(ok(7), blacklisted_until=date(2027, 6, 30)),
            replace(ok(8), finished=True),
        )
    assert refused.value.code == "schedule_refused"
    assert [(e["candidate_id"], e["code"]) for e in refused.value.details] == [
        ("c1", "already_in_session"),
        ("c2", "duplicate"),
        ("c3", "position_mismatch"),
        ("c4", "candidate_not_found"),
        ("c5", "candidate_not_found"),
        ("c6", "already_scheduled"),
        ("c7", "blacklisted"),
        ("c8", "candidate_finished"),
    ]
    assert "2027-06-30" in refused.value.details[6]["message"]
    assert "本次未安排任何考生" in refused.value.message


def test_specialisation_of_the_session() -> None:
    history = created(specialisation="装饰装修")
    with pytest.raises(DomainError) as refused:
        assign(history, ok(1))
    assert refused.value.details[0]["code"] == "position_mismatch"
    assert assign(history, ok(2, specialisation="装饰装修"))


def test_scheduled_event_tells_the_person_where_and_when() -> None:
    [event] = assign(created(), ok(1))
    assert isinstance(event, ExamScheduled)
    assert (event.starts_at, event.room, event.address, event.seat) == (
        STARTS,
        "第一考场",
        "杭州市西湖区文三路 90 号",
        1,
    )
    assert (event.enterprise_id, event.id_number, event.name) == ("e1", person(1).id_number, "考生1")


def test_no_assignment_once_started_or_cancelled() -> None:
    with pytest.raises(DomainError) as started:
        assign(created(), ok(1), now=STARTS)
    assert started.value.code == "session_started"
    history = created() + assign(created(), ok(1), ok(2))
    cancelled = domain.cancel(
        domain.Session.from_history(history),
        institution_id="i1",
        reason="考点停电",
        cancelled_by="u1",
        now=NOW,
    )
    assert [type(e) for e in cancelled] == [ExamUnscheduled, ExamUnscheduled, ExamSessionCancelled]
    assert cancelled[0].reason == "考场取消：考点停电"
    history += cancelled
    with pytest.raises(DomainError) as gone:
        assign(history, ok(3))
    assert gone.value.code == "session_cancelled"
    with pytest.raises(DomainError) as foreign:
        domain.cancel(
            domain.Session.from_history(created()),
            institution_id="other",
            reason="x",
            cancelled_by="u",
            now=NOW,
        )
    assert foreign.value.code == "session_not_found"


def test_unschedule_refused_after_check_in() -> None:
    history = created() + assign(created(), ok(1))
    with pytest.raises(DomainError) as checked:
        domain.unschedule(
            domain.Session.from_history(history),
            institution_id="i1",
            candidate_id="c1",
            reason="",
            checked_in=True,
            now=NOW,
        )
    assert checked.value.code == "candidate_checked_in"


def test_blacklist_until_defaults_to_the_configured_days() -> None:
    today = date(2026, 11, 20)
    [event] = discipline.blacklist(
        [],
        blacklist_id="b1",
        id_number="x",
        name="张三",
        reason="替考",
        violation_id=None,
        until=None,
        today=today,
        default_days=365,
        blacklisted_by="admin",
    )
    assert isinstance(event, PersonBlacklisted) and event.until == date(2027, 11, 20)
    with pytest.raises(DomainError) as past:
        discipline.blacklist(
            [],
            blacklist_id="b2",
            id_number="x",
            reason="替考",
            name="",
            violation_id=None,
            until=date(2026, 11, 19),
            today=today,
            default_days=365,
            blacklisted_by="admin",
        )
    assert past.value.code == "until_in_past"


def test_blacklisted_on_a_date_inclusive_and_lifted() -> None:
    entry = discipline.BlacklistEntry(blacklist_id="b1", since=date(2026, 11, 20), until=date(2027, 1, 31))
    assert discipline.blacklisted_on([entry], date(2026, 11, 20)) == date(2027, 1, 31)
    assert discipline.blacklisted_on([entry], date(2027, 1, 31)) == date(2027, 1, 31)
    assert discipline.blacklisted_on([entry], date(2027, 2, 1)) is None
    assert discipline.blacklisted_on([entry], date(2026, 11, 19)) is None
    longer = replace(entry, blacklist_id="b2", until=date(2027, 6, 30))
    assert discipline.blacklisted_on([entry, longer], date(2027, 1, 1)) == date(2027, 6, 30)
    assert discipline.blacklisted_on([replace(entry, lifted=True)], date(2026, 12, 1)) is None
    history = discipline.blacklist(
        [],
        blacklist_id="b1",
        id_number="x",
        name="",
        reason="替考",
        violation_id=None,
        until=None,
        today=date(2026, 11, 20),
        default_days=30,
        blacklisted_by="admin",
    )
    history += discipline.lift(history, reason="复核撤销", lifted_by="admin")
    assert discipline.BlacklistEntry.from_history(history).lifted
    with pytest.raises(DomainError) as twice:
        discipline.lift(history, reason="复核撤销", lifted_by="admin")
    assert twice.value.code == "blacklist_lifted"


def test_session_day_is_chinas_calendar_day() -> None:
    late_evening_utc = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 December in Hangzhou
    assert local_date(late_evening_utc) == date(2026, 12, 1)


def test_a_session_snapshot_is_the_state_it_was_taken_of() -> None:
    history = created() + assign(created(), ok(1), ok(2))
    state = domain.Session.from_history(history)
    again = domain.Session.load(domain.Session.dump(state))
    assert again == state and again.free_seats() == state.free_seats()
    assert domain.Session.from_history(history[:1]).apply(history[1:]) == state
