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


# The positions (岗位) events name, each with its specialisations (专业方向; empty: the position has none).
# The same list enrollment offers and validates (enrollment.domain.reference.POSITIONS).
SPECIALISATIONS: tuple[str, ...] = ("土建施工", "装饰装修", "设备安装", "市政工程")
POSITIONS: dict[str, tuple[str, ...]] = {
    "施工员": SPECIALISATIONS,
    "质量员": SPECIALISATIONS,
    "安全员": (),
    "标准员": (),
    "材料员": (),
    "机械员": (),
    "劳务员": (),
    "资料员": (),
}
