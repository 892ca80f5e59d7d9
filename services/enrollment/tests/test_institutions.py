"""Institution offers: validation (each bad field), no-op republish, derived modes and fees, list, compare."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from enrollment.application.institutions import fee_for
from enrollment.domain import institution as domain
from enrollment.domain.institution import OfferForm
from enrollment.domain.reference import POSITIONS
from enrollment.projections.institutions import institution_document, version
from events import DomainEvent, OfferPublished
from events.enrollment import OfferLine
from servicekit.errors import DomainError

CJK = re.compile(r"[\u4e00-\u9fff]")


def line(
    position: str,
    specialisation: str | None = None,
    online: int | None = None,
    offline: int | None = None,
) -> OfferLine:
    return OfferLine(
        position=position, specialisation=specialisation, fee_online_fen=online, fee_offline_fen=offline
    )


def form(**overrides: Any) -> OfferForm:
    base = OfferForm(
        name="浙江育人专修学院",
        city="杭州",
        offers=(
            line("施工员", "土建施工", online=120_000, offline=180_000),
            line("安全员", offline=150_000),
            line("质量员", "市政工程", online=110_000),
        ),
        features="考点就近，周末班",
        exam_locations=("杭州市西湖区文三路 1 号",),
        payment_methods=("online", "offline"),
    )
    return replace(base, **overrides)


def published(history: list[DomainEvent] | None = None, **overrides: Any) -> list[DomainEvent]:
    return domain.publish(history or [], institution_id="inst-1", form=form(**overrides))


def problems_of(bad: OfferForm) -> list[dict[str, str]]:
    with pytest.raises(DomainError) as caught:
        domain.publish([], institution_id="inst-1", form=bad)
    assert caught.value.code == "invalid_offer" and caught.value.status == 422
    assert CJK.search(caught.value.message)
    details = caught.value.details
    assert isinstance(details, list)
    for detail in details:
        assert set(detail) == {"field", "code", "message"} and CJK.search(detail["message"]), detail
    return details


def with_line(index: int, **changes: Any) -> Callable[[OfferForm], OfferForm]:
    def change(f: OfferForm) -> OfferForm:
        lines = list(f.offers)
        lines[index] = lines[index].model_copy(update=changes)
        return replace(f, offers=tuple(lines))

    return change


def with_(**changes: Any) -> Callable[[OfferForm], OfferForm]:
    return lambda f: replace(f, **changes)


# One bad field per case: what to change, the field and the code the problem must carry.
BAD: list[tuple[str, Callable[[OfferForm], OfferForm], str, str]] = [
    ("empty name", with_(name="  "), "name", "required"),
    ("long name", with_(name="院" * 101), "name", "too_long"),
    ("unknown city", with_(city="上海"), "city", "invalid_city"),
    ("empty city", with_(city=""), "city", "invalid_city"),
    ("no lines", with_(offers=()), "offers", "no_offers"),
    ("unknown position", with_line(1, position="焊工"), "offers[1].position", "invalid_position"),
    ("empty position", with_line(1, position=" "), "offers[1].position", "invalid_position"),
    (
        "施工员 without specialisation",
        with_line(0, specialisation=None),
        "offers[0].specialisation",
        "specialisation_required",
    ),
    (
        "质量员 with blank specialisation",
        with_line(2, specialisation="  "),
        "offers[2].specialisation",
        "specialisation_required",
    ),
    (
        "unknown specialisation",
        with_line(0, specialisation="园林绿化"),
        "offers[0].specialisation",
        "invalid_specialisation",
    ),
    (
        "specialisation on 安全员",
        with_line(1, specialisation="土建施工"),
        "offers[1].specialisation",
        "specialisation_not_allowed",
    ),
    (
        "no mode",
        with_line(1, fee_online_fen=None, fee_offline_fen=None),
        "offers[1]",
        "no_training_mode",
    ),
    ("negative fee", with_line(0, fee_online_fen=-1), "offers[0].fee_online_fen", "invalid_fee"),
    ("fee too high", with_line(1, fee_offline_fen=10_000_001), "offers[1].fee_offline_fen", "invalid_fee"),
    (
        "duplicate line",
        lambda f: replace(f, offers=(*f.offers, line("施工员", "土建施工", offline=1))),
        "offers[3]",
        "duplicate_offer",
    ),
    ("long features", with_(features="特" * 2001), "features", "too_long"),
    (
        "too many exam locations",
        with_(exam_locations=[f"考点{i}" for i in range(21)]),
        "exam_locations",
        "too_many",
    ),
    ("long exam location", with_(exam_locations=["地" * 101]), "exam_locations[0]", "too_long"),
    ("no payment method", with_(payment_methods=()), "payment_methods", "payment_method_required"),
    ("blank payment method", with_(payment_methods=(" ",)), "payment_methods", "payment_method_required"),
    ("unknown payment method", with_(payment_methods=("cash",)), "payment_methods", "invalid_payment_method"),
]


@pytest.mark.parametrize(("change", "field", "code"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_each_bad_field_is_reported(change: Callable[[OfferForm], OfferForm], field: str, code: str) -> None:
    problems = problems_of(change(form()))
    assert [(p["field"], p["code"]) for p in problems] == [(field, code)]


def test_every_problem_at_once() -> None:
    bad = form(
        name="",
        city="北京",
        offers=(line("施工员", online=-5), line("电工", offline=1), line("安全员")),
        payment_methods=(),
    )
    found = {(p["field"], p["code"]) for p in problems_of(bad)}
    assert found == {
        ("name", "required"),
        ("city", "invalid_city"),
        ("offers[0].specialisation", "specialisation_required"),
        ("offers[0].fee_online_fen", "invalid_fee"),
        ("offers[1].position", "invalid_position"),
        ("offers[2]", "no_training_mode"),
        ("payment_methods", "payment_method_required"),
    }


def test_boundaries_are_accepted() -> None:
    events = published(
        offers=(line("安全员", online=0, offline=domain.FEE_MAX_FEN),),
        exam_locations=["地" * 100] * 1,
        features="特" * 2000,
        payment_methods=("offline",),
    )
    assert isinstance(events[0], OfferPublished)


def test_publish_normalizes_and_orders_lines() -> None:
    events = published(
        name="  浙江育人专修学院 ",
        city="杭州市",
        offers=(
            line("资料员", offline=90_000),
            line("质量员", "装饰装修", online=1),
            line(" 施工员", "市政工程 ", offline=2),
            line("施工员", "土建施工", online=3),
            line("安全员", "", offline=4),
        ),
        exam_locations=(" 考点甲 ", "", "考点甲", "考点乙"),
        payment_methods=("offline", "online", "offline"),
    )
    event = events[0]
    assert isinstance(event, OfferPublished)
    assert event.name == "浙江育人专修学院" and event.city == "杭州"
    assert [(x.position, x.specialisation) for x in event.offers] == [
        ("施工员", "土建施工"),
        ("施工员", "市政工程"),
        ("质量员", "装饰装修"),
        ("安全员", None),
        ("资料员", None),
    ]
    assert event.exam_locations == ["考点甲", "考点乙"]
    assert event.payment_methods == ["online", "offline"]
    assert event.institution_id == "inst-1" and event.demo is False


def test_republishing_the_same_offer_records_nothing() -> None:
    history = published()
    assert len(history) == 1
    assert published(history) == []
    # the same offer written differently (order of lines, spaces, city suffix) is still the same offer
    same = form(
        offers=tuple(reversed(form().offers)),
        city="杭州市",
        name=" 浙江育人专修学院",
        payment_methods=("offline", "online"),
    )
    assert domain.publish(history, institution_id="inst-1", form=same) == []
    # a change is recorded, and so is going back to the earlier offer after it
    changed = published(history, features="新增夜校班")
    assert len(changed) == 1
    assert len(published([*history, *changed])) == 1
    # the demo mark is part of the offer
    assert len(domain.publish(history, institution_id="inst-1", form=form(), demo=True)) == 1


def test_derived_modes_fees_and_positions() -> None:
    event = published()[0]
    assert isinstance(event, OfferPublished)
    summary = domain.offer_summary(event)
    assert summary["modes"] == ["online", "offline"]
    assert summary["fee_ranges"] == {
        "online": {"min_fen": 110_000, "max_fen": 120_000},
        "offline": {"min_fen": 150_000, "max_fen": 180_000},
    }
    assert summary["positions"] == ["施工员", "质量员", "安全员"]
    assert [x["modes"] for x in summary["offers"]] == [["online", "offline"], ["online"], ["offline"]]
    assert summary["offers"][0]["label"] == "施工员（土建施工）"

    only_offline = published(offers=(line("安全员", offline=100), line("材料员", offline=300)))[0]
    assert isinstance(only_offline, OfferPublished)
    derived = domain.offer_summary(only_offline)
    assert derived["modes"] == ["offline"]
    assert derived["fee_ranges"] == {"online": None, "offline": {"min_fen": 100, "max_fen": 300}}


def doc(institution_id: str, **overrides: Any) -> dict[str, Any]:
    event = domain.publish([], institution_id=institution_id, form=form(**overrides))[0]
    assert isinstance(event, OfferPublished)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return {"_id": institution_id, **institution_document(event, at), "as_of": version(at, "e")}


def test_fee_for_and_not_offered() -> None:
    d = doc("inst-1")
    assert fee_for(d, "施工员", "土建施工", "online") == 120_000
    assert fee_for(d, "施工员", "土建施工", "offline") == 180_000
    assert fee_for(d, "安全员", None, "offline") == 150_000
    assert fee_for(d, "安全员", "", "offline") == 150_000
    assert fee_for(d, "安全员", None, "online") is None
    assert fee_for(d, "施工员", None, "online") is None
    assert fee_for(d, "施工员", "装饰装修", "online") is None
    assert fee_for(d, "资料员", None, "offline") is None
    assert fee_for(d, "施工员", "土建施工", "by-post") is None

    assert domain.not_offered_reason(d, "施工员", "土建施工", "online") is None
    reason = domain.not_offered_reason(d, "安全员", None, "online")
    assert reason is not None and "安全员" in reason and "线上" in reason and "仅提供：线下" in reason
    reason = domain.not_offered_reason(d, "资料员", None, "offline")
    assert reason is not None and "未开设资料员" in reason
    reason = domain.not_offered_reason(d, "施工员", "装饰装修", "online")
    assert reason is not None and "施工员（装饰装修）" in reason and "施工员（土建施工）" in reason
    reason = domain.not_offered_reason(d, "施工员", None, "online")
    assert reason is not None and "专业方向" in reason


def test_listing_filters_and_sorts_by_name() -> None:
    docs = [
        doc("b", name="乙机构"),
        doc(
            "a",
            name="甲机构",
            offers=(line("施工员", "土建施工", offline=200_000), line("安全员", online=50)),
        ),
        doc("c", name="丙机构", city="宁波"),
    ]

    def ids(**query: str | None) -> list[str]:
        params: dict[str, str | None] = {"city": None, "position": None, "specialisation": None, "mode": None}
        params.update(query)
        return [i["institution_id"] for i in domain.listing(docs, domain.parse_filter(**params))]

    assert ids() == sorted(["a", "b", "c"], key=lambda i: next(d["name"] for d in docs if d["_id"] == i))
    assert ids(city="杭州市") == ["b", "a"]  # 乙 (U+4E59) sorts before 甲 (U+7532)
    assert ids(city="杭州", position="施工员", specialisation="土建施工", mode="online") == ["b"]
    assert ids(city="杭州", position="施工员", mode="offline") == ["b", "a"]
    assert ids(position="资料员") == []
    assert ids(position="安全员", mode="online") == ["a"]

    query = domain.parse_filter(city="杭州", position="施工员", specialisation="土建施工", mode=None)
    items = {i["institution_id"]: i for i in domain.listing(docs, query)}
    assert items["a"]["fees"] == {"online": None, "offline": 200_000}
    assert items["b"]["fees"] == {"online": 120_000, "offline": 180_000}
    assert items["b"]["matching_offers"][0]["label"] == "施工员（土建施工）"


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"city": "苏州"}, "city", "invalid_city"),
        ({"position": "电工"}, "position", "invalid_position"),
        ({"specialisation": "土建施工"}, "specialisation", "position_required"),
        ({"position": "施工员", "specialisation": "园林"}, "specialisation", "invalid_specialisation"),
        ({"position": "安全员", "specialisation": "土建施工"}, "specialisation", "invalid_specialisation"),
        ({"mode": "mail"}, "mode", "invalid_training_mode"),
    ],
)
def test_bad_list_queries(query: dict[str, str], field: str, code: str) -> None:
    params: dict[str, str | None] = {"city": None, "position": None, "specialisation": None, "mode": None}
    params.update(query)
    with pytest.raises(DomainError) as caught:
        domain.parse_filter(**params)
    assert caught.value.code == "invalid_query" and CJK.search(caught.value.message)
    assert caught.value.details == [
        {"field": field, "code": code, "message": caught.value.details[0]["message"]}
    ]


def test_compare_side_by_side() -> None:
    a = doc("a", name="甲", offers=(line("安全员", online=50), line("资料员", offline=70)), features="甲特色")
    b = doc("b", name="乙")
    table = domain.compare_table([a, b])
    assert [i["institution_id"] for i in table["institutions"]] == ["a", "b"]
    assert table["institutions"][0]["features"] == "甲特色"
    assert table["institutions"][1]["exam_locations"] == ["杭州市西湖区文三路 1 号"]
    assert table["institutions"][0]["modes"] == ["online", "offline"]
    rows = {r["label"]: r["fees"] for r in table["positions"]}
    assert list(rows) == ["施工员（土建施工）", "质量员（市政工程）", "安全员", "资料员"]
    assert rows["安全员"] == [
        {"institution_id": "a", "online": 50, "offline": None},
        {"institution_id": "b", "online": None, "offline": 150_000},
    ]
    assert rows["施工员（土建施工）"][0] == {"institution_id": "a", "online": None, "offline": None}
    assert rows["资料员"][1] == {"institution_id": "b", "online": None, "offline": None}


def test_compare_ids() -> None:
    assert domain.parse_compare_ids("a, b，c") == ["a", "b", "c"]
    assert domain.parse_compare_ids("a,b,a") == ["a", "b"]
    for raw in ("", "a", "a,a", "a,b,c,d,e,f"):
        with pytest.raises(DomainError) as caught:
            domain.parse_compare_ids(raw)
        assert caught.value.code == "invalid_compare_count" and caught.value.status == 422


def test_version_orders_by_time_then_id() -> None:
    early = version(datetime(2026, 1, 1, 8, 0, 0, 5000, tzinfo=UTC), "zz")
    late = version(datetime(2026, 1, 1, 8, 0, 0, 6000, tzinfo=UTC), "aa")
    assert early < late
    assert version(datetime(2026, 1, 1, tzinfo=UTC), "a") < version(datetime(2026, 1, 1, tzinfo=UTC), "b")


def test_reference_positions_are_all_publishable() -> None:
    lines = tuple(line(p, s, online=100) for p, specs in POSITIONS.items() for s in (specs or (None,)))
    event = published(offers=lines)[0]
    assert isinstance(event, OfferPublished) and len(event.offers) == 2 * 4 + 6
