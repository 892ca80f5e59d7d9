"""Reference data that the contexts must agree on, because events carry it."""

from __future__ import annotations

# The 11 prefecture-level cities of Zhejiang, in the short form every event's `city` field uses.
ZHEJIANG_CITIES: tuple[str, ...] = (
    "杭州",
    "宁波",
    "温州",
    "嘉兴",
    "湖州",
    "绍兴",
    "金华",
    "衢州",
    "舟山",
    "台州",
    "丽水",
)


def normalize_city(raw: str) -> str:
    """`杭州市` → `杭州`; anything else is returned stripped (and then fails validation where it must)."""
    city = raw.strip()
    return city[:-1] if city.endswith("市") and city[:-1] in ZHEJIANG_CITIES else city
