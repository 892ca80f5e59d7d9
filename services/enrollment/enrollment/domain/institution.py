"""A training institution's offer (stream `institution-<id>`): the positions it trains for, the fee of each
position per training mode, its features, exam locations, city and the payment methods it accepts.

The institution publishes its whole offer at once (`OfferPublished` replaces the previous one). Everything is
validated together and every problem is reported at once as field + code + Chinese message. Publishing the
same offer again changes nothing and records no event. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from events import DomainEvent, OfferPublished
from events.enrollment import OfferLine
from events.reference import ZHEJIANG_CITIES, normalize_city
from servicekit.errors import DomainError

from .reference import POSITIONS, TRAINING_MODES

FEE_MAX_FEN = 10_000_000  # 10 万元
NAME_MAX = 100
FEATURES_MAX = 2000
EXAM_LOCATIONS_MAX = 20
EXAM_LOCATION_MAX = 100
MODES: tuple[str, ...] = tuple(TRAINING_MODES)  # ("online", "offline")
FEE_FIELDS: dict[str, str] = {"online": "fee_online_fen", "offline": "fee_offline_fen"}
PAYMENT_METHODS: dict[str, str] = {"online": "线上支付", "offline": "线下转账"}


@dataclass(frozen=True)
class OfferForm:
    """What the institution fills in (the whole offer)."""

    name: str
    city: str
    offers: Sequence[OfferLine]
    features: str = ""
    exam_locations: Sequence[str] = ()
    payment_methods: Sequence[str] = ()

    def normalized(self) -> OfferForm:
        """Spaces trimmed, `杭州市` → `杭州`, blank or repeated exam locations and payment methods dropped,
        an empty specialisation read as none, the lines in the reference order of positions."""
        lines = [normalize_line(line) for line in self.offers]
        return replace(
            self,
            name=self.name.strip(),
            city=normalize_city(self.city),
            offers=tuple(lines),
            features=self.features.strip(),
            exam_locations=tuple(_unique(loc.strip() for loc in self.exam_locations if loc.strip())),
            payment_methods=tuple(
                sorted(
                    _unique(m.strip() for m in self.payment_methods if m.strip()),
                    key=lambda m: (list(PAYMENT_METHODS).index(m) if m in PAYMENT_METHODS else 99, m),
                )
            ),
        )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def normalize_specialisation(specialisation: str | None) -> str | None:
    return (specialisation or "").strip() or None


def normalize_line(line: OfferLine) -> OfferLine:
    return line.model_copy(
        update={
            "position": line.position.strip(),
            "specialisation": normalize_specialisation(line.specialisation),
        }
    )


def line_label(position: str, specialisation: str | None) -> str:
    """`施工员（土建施工）`, or just `安全员`."""
    return f"{position}（{specialisation}）" if specialisation else position


def line_order(position: str, specialisation: str | None) -> tuple[int, int, str, str]:
    """The reference order: positions as in `POSITIONS`, then specialisations as listed for the position."""
    positions = list(POSITIONS)
    specs = POSITIONS.get(position, ())
    p = positions.index(position) if position in POSITIONS else len(positions)
    s = specs.index(specialisation) if specialisation in specs else (-1 if specialisation is None else 99)
    return (p, s, position, specialisation or "")


def fee_of(line: OfferLine, mode: str) -> int | None:
    value = getattr(line, FEE_FIELDS[mode]) if mode in FEE_FIELDS else None
    return value if isinstance(value, int) else None


def _valid_fee(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= FEE_MAX_FEN


def validate_offer(form: OfferForm) -> list[dict[str, str]]:
    """Every problem of a (normalized) offer at once, each as field + code + Chinese message."""
    problems: list[dict[str, str]] = []

    def problem(field: str, code: str, message: str) -> None:
        problems.append({"field": field, "code": code, "message": message})

    if not form.name:
        problem("name", "required", "请填写培训机构名称")
    elif len(form.name) > NAME_MAX:
        problem("name", "too_long", f"培训机构名称不能超过 {NAME_MAX} 个字")
    if form.city not in ZHEJIANG_CITIES:
        problem("city", "invalid_city", f"所在城市应为浙江省 11 个设区市之一：{'、'.join(ZHEJIANG_CITIES)}")
    if not form.offers:
        problem("offers", "no_offers", "请至少填写一个培训岗位及其收费")
    seen: dict[tuple[str, str | None], int] = {}
    for index, line in enumerate(form.offers):
        row, at = index + 1, f"offers[{index}]"
        position, specialisation = line.position, line.specialisation
        if position not in POSITIONS:
            problem(
                f"{at}.position",
                "invalid_position",
                f"第 {row} 行：岗位“{position}”不在可选范围内（{'、'.join(POSITIONS)}）"
                if position
                else f"第 {row} 行：请选择岗位",
            )
        else:
            choices = POSITIONS[position]
            if choices and specialisation is None:
                problem(
                    f"{at}.specialisation",
                    "specialisation_required",
                    f"第 {row} 行：{position}须选择专业方向（{'、'.join(choices)}）",
                )
            elif choices and specialisation not in choices:
                problem(
                    f"{at}.specialisation",
                    "invalid_specialisation",
                    f"第 {row} 行：{position}的专业方向“{specialisation}”不在可选范围内"
                    f"（{'、'.join(choices)}）",
                )
            elif not choices and specialisation is not None:
                problem(
                    f"{at}.specialisation",
                    "specialisation_not_allowed",
                    f"第 {row} 行：{position}不分专业方向，请不要填写专业方向",
                )
        label = line_label(position, specialisation)
        if line.fee_online_fen is None and line.fee_offline_fen is None:
            problem(
                at,
                "no_training_mode",
                f"第 {row} 行（{label}）：请至少填写线上或线下一种培训方式的收费",
            )
        for mode, field in FEE_FIELDS.items():
            value = getattr(line, field)
            if value is not None and not _valid_fee(value):
                problem(
                    f"{at}.{field}",
                    "invalid_fee",
                    f"第 {row} 行（{label}）：{TRAINING_MODES[mode]}培训收费应为 0 至 {FEE_MAX_FEN:,} "
                    f"之间的整数（单位：分，即不超过 {FEE_MAX_FEN // 100:,} 元）",
                )
        key = (position, specialisation)
        if key in seen:
            problem(at, "duplicate_offer", f"第 {row} 行：{label}与第 {seen[key] + 1} 行重复")
        else:
            seen[key] = index
    if len(form.features) > FEATURES_MAX:
        problem("features", "too_long", f"机构特色不能超过 {FEATURES_MAX} 个字")
    if len(form.exam_locations) > EXAM_LOCATIONS_MAX:
        problem("exam_locations", "too_many", f"考试地点最多填写 {EXAM_LOCATIONS_MAX} 个")
    for index, location in enumerate(form.exam_locations):
        if len(location) > EXAM_LOCATION_MAX:
            problem(
                f"exam_locations[{index}]",
                "too_long",
                f"考试地点“{location[:10]}…”不能超过 {EXAM_LOCATION_MAX} 个字",
            )
    if not form.payment_methods:
        problem("payment_methods", "payment_method_required", "请至少选择一种缴费方式（线上支付或线下转账）")
    for method in form.payment_methods:
        if method not in PAYMENT_METHODS:
            problem(
                "payment_methods",
                "invalid_payment_method",
                f"缴费方式“{method}”不在可选范围内：online（线上支付）、offline（线下转账）",
            )
    return problems


def current_offer(history: Sequence[DomainEvent]) -> OfferPublished | None:
    """The offer in force: the last one published on the stream."""
    latest: OfferPublished | None = None
    for event in history:
        if isinstance(event, OfferPublished):
            latest = event
    return latest


def publish(
    history: Sequence[DomainEvent], *, institution_id: str, form: OfferForm, demo: bool = False
) -> list[DomainEvent]:
    """Validate the whole offer and publish it; nothing is recorded when it equals the offer in force."""
    form = form.normalized()
    if problems := validate_offer(form):
        raise DomainError(
            "招生信息不完整或不正确：" + "；".join(p["message"] for p in problems[:3]),
            code="invalid_offer",
            details=problems,
        )
    lines = sorted(form.offers, key=lambda line: line_order(line.position, line.specialisation))
    event = OfferPublished(
        institution_id=institution_id,
        name=form.name,
        city=form.city,
        offers=lines,
        features=form.features,
        exam_locations=list(form.exam_locations),
        payment_methods=list(form.payment_methods),
        demo=demo,
    )
    current = current_offer(history)
    if current is not None and current.model_dump() == event.model_dump():
        return []
    return [event]


# Derived views (the read model and the API answers are built from these) --------------------------------


def _line_view(line: OfferLine) -> dict[str, Any]:
    return {
        "position": line.position,
        "specialisation": line.specialisation,
        "label": line_label(line.position, line.specialisation),
        "fee_online_fen": line.fee_online_fen,
        "fee_offline_fen": line.fee_offline_fen,
        "modes": [m for m in MODES if fee_of(line, m) is not None],
    }


def fee_ranges(lines: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int] | None]:
    """Per mode, the lowest and highest fee over the lines (None: the mode is not offered)."""
    out: dict[str, dict[str, int] | None] = {}
    for mode in MODES:
        fees = [line[FEE_FIELDS[mode]] for line in lines if line.get(FEE_FIELDS[mode]) is not None]
        out[mode] = {"min_fen": min(fees), "max_fen": max(fees)} if fees else None
    return out


def offer_summary(event: OfferPublished) -> dict[str, Any]:
    """The offer with what is derived from it: the modes offered, min/max fee per mode, the positions."""
    lines = [_line_view(line) for line in event.offers]
    return {
        "name": event.name,
        "city": event.city,
        "offers": lines,
        "features": event.features,
        "exam_locations": list(event.exam_locations),
        "payment_methods": list(event.payment_methods),
        "demo": event.demo,
        "modes": [m for m in MODES if any(m in line["modes"] for line in lines)],
        "fee_ranges": fee_ranges(lines),
        "positions": _unique(line["position"] for line in lines),
    }


def matching_lines(
    doc: Mapping[str, Any], position: str | None, specialisation: str | None = None, mode: str | None = None
) -> list[dict[str, Any]]:
    """The offer lines of an institution document for a position (and specialisation) offered in a mode."""
    specialisation = normalize_specialisation(specialisation)
    out = []
    for line in doc.get("offers", []):
        if position is not None and line["position"] != position:
            continue
        if specialisation is not None and line.get("specialisation") != specialisation:
            continue
        if mode is not None and line.get(FEE_FIELDS.get(mode, ""), None) is None:
            continue
        out.append(dict(line))
    return out


def fee_for(doc: Mapping[str, Any], position: str, specialisation: str | None, mode: str) -> int | None:
    """The fee (fen) of exactly that position, specialisation and mode; None when not offered."""
    if mode not in FEE_FIELDS:
        return None
    specialisation = normalize_specialisation(specialisation)
    for line in doc.get("offers", []):
        if line["position"] == position and line.get("specialisation") == specialisation:
            fee = line.get(FEE_FIELDS[mode])
            return int(fee) if fee is not None else None
    return None


def not_offered_reason(
    doc: Mapping[str, Any], position: str, specialisation: str | None, mode: str
) -> str | None:
    """Why the institution does not offer that (Chinese, naming what is missing); None when it does."""
    specialisation = normalize_specialisation(specialisation)
    name = doc.get("name") or "该培训机构"
    label = line_label(position, specialisation)
    if mode not in TRAINING_MODES:
        return "培训方式应为 online（线上）或 offline（线下）"
    if fee_for(doc, position, specialisation, mode) is not None:
        return None
    same_position = matching_lines(doc, position)
    if not same_position:
        offered = "、".join(line["label"] for line in doc.get("offers", [])) or "无"
        return f"{name}未开设{position}培训（该机构开设：{offered}）"
    exact = [line for line in same_position if line.get("specialisation") == specialisation]
    if not exact:
        if specialisation is None:
            choices = "、".join(str(line["specialisation"]) for line in same_position)
            return f"{name}的{position}培训须指明专业方向（该机构开设：{choices}）"
        offered = "、".join(line["label"] for line in same_position)
        return f"{name}未开设{label}培训（该机构开设：{offered}）"
    modes = "、".join(TRAINING_MODES[m] for m in exact[0]["modes"]) or "无"
    return f"{name}的{label}培训不提供{TRAINING_MODES[mode]}培训方式（仅提供：{modes}）"


# Listing and comparison --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstitutionFilter:
    city: str | None = None
    position: str | None = None
    specialisation: str | None = None
    mode: str | None = None


def parse_filter(
    *, city: str | None, position: str | None, specialisation: str | None, mode: str | None
) -> InstitutionFilter:
    """The list's query parameters, normalized and checked (all problems at once)."""
    city = normalize_city(city) if city and city.strip() else None
    position = position.strip() if position and position.strip() else None
    specialisation = normalize_specialisation(specialisation)
    mode = mode.strip() if mode and mode.strip() else None
    problems: list[dict[str, str]] = []
    if city is not None and city not in ZHEJIANG_CITIES:
        problems.append(
            {
                "field": "city",
                "code": "invalid_city",
                "message": f"城市应为浙江省 11 个设区市之一：{'、'.join(ZHEJIANG_CITIES)}",
            }
        )
    if position is not None and position not in POSITIONS:
        problems.append(
            {
                "field": "position",
                "code": "invalid_position",
                "message": f"岗位“{position}”不在可选范围内（{'、'.join(POSITIONS)}）",
            }
        )
    if specialisation is not None:
        if position is None:
            problems.append(
                {
                    "field": "specialisation",
                    "code": "position_required",
                    "message": "按专业方向筛选时须同时选择岗位",
                }
            )
        elif position in POSITIONS and specialisation not in POSITIONS[position]:
            choices = POSITIONS[position]
            problems.append(
                {
                    "field": "specialisation",
                    "code": "invalid_specialisation",
                    "message": f"{position}的专业方向应为：{'、'.join(choices)}"
                    if choices
                    else f"{position}不分专业方向",
                }
            )
    if mode is not None and mode not in TRAINING_MODES:
        problems.append(
            {
                "field": "mode",
                "code": "invalid_training_mode",
                "message": "培训方式应为 online（线上）或 offline（线下）",
            }
        )
    if problems:
        raise DomainError(
            "查询条件不正确：" + "；".join(p["message"] for p in problems),
            code="invalid_query",
            details=problems,
        )
    return InstitutionFilter(city, position, specialisation, mode)


def listing(docs: Iterable[Mapping[str, Any]], query: InstitutionFilter) -> list[dict[str, Any]]:
    """The institutions that offer the position (and mode), sorted by name, each with the fee per mode for
    that position (the lowest over its specialisations when none is given, over every position when no
    position is given)."""
    items = []
    for doc in docs:
        if query.city is not None and doc.get("city") != query.city:
            continue
        position_lines = matching_lines(doc, query.position, query.specialisation)
        matching = matching_lines(doc, query.position, query.specialisation, query.mode)
        if not matching:
            continue
        ranges = fee_ranges(position_lines)
        items.append(
            {
                "institution_id": doc["_id"],
                "name": doc["name"],
                "city": doc["city"],
                "fees": {mode: (r["min_fen"] if (r := ranges[mode]) else None) for mode in MODES},
                "matching_offers": matching,
                "modes": doc["modes"],
                "fee_ranges": doc["fee_ranges"],
                "positions": doc["positions"],
                "features": doc["features"],
                "exam_locations": doc["exam_locations"],
                "payment_methods": doc["payment_methods"],
                "demo": doc.get("demo", False),
            }
        )
    return sorted(items, key=lambda item: (item["name"], item["institution_id"]))


COMPARE_MIN, COMPARE_MAX = 2, 5


def parse_compare_ids(raw: str) -> list[str]:
    """`a,b,c` → the distinct ids in order; 2 to 5 of them."""
    ids = _unique(part.strip() for part in raw.replace("，", ",").split(",") if part.strip())
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        raise DomainError(
            f"请选择 {COMPARE_MIN} 至 {COMPARE_MAX} 家培训机构进行比较（当前 {len(ids)} 家）",
            code="invalid_compare_count",
            details=[
                {
                    "field": "ids",
                    "code": "invalid_compare_count",
                    "message": f"比较的培训机构数量应为 {COMPARE_MIN} 至 {COMPARE_MAX} 家",
                }
            ],
        )
    return ids


def compare_table(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Side by side: per institution its modes, features, exam locations, payment methods and fee ranges;
    per position of the union of their offers, the fee per mode of each institution (None: not offered)."""
    keys: dict[tuple[str, str | None], None] = {}
    for doc in docs:
        for line in doc.get("offers", []):
            keys[(line["position"], line.get("specialisation"))] = None
    rows = []
    for position, specialisation in sorted(keys, key=lambda k: line_order(*k)):
        fees = []
        for doc in docs:
            fees.append(
                {
                    "institution_id": doc["_id"],
                    **{mode: fee_for(doc, position, specialisation, mode) for mode in MODES},
                }
            )
        rows.append(
            {
                "position": position,
                "specialisation": specialisation,
                "label": line_label(position, specialisation),
                "fees": fees,
            }
        )
    return {
        "institutions": [
            {
                "institution_id": doc["_id"],
                "name": doc["name"],
                "city": doc["city"],
                "modes": doc["modes"],
                "features": doc["features"],
                "exam_locations": doc["exam_locations"],
                "payment_methods": doc["payment_methods"],
                "fee_ranges": doc["fee_ranges"],
                "positions": doc["positions"],
                "demo": doc.get("demo", False),
            }
            for doc in docs
        ],
        "positions": rows,
    }
