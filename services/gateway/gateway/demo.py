"""Demo data of a local installation (`scripts/demo_data.py`), as plain data other contexts can import.

Everything here is clearly marked as demo data: every display name ends with `DEMO_MARK`. Registration's
default list of Hangzhou training institutions uses the same institution ids (`institutions_in("杭州")`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_MARK = "（演示数据）"


@dataclass(frozen=True)
class DemoInstitution:
    id: str  # the institution's organisation id (`org_id` of its accounts, `institution_id` in events)
    name: str
    city: str
    username: str  # its demo account


@dataclass(frozen=True)
class DemoReviewer:
    username: str
    city: str
    display_name: str


_HANGZHOU_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八")

DEMO_INSTITUTIONS: tuple[DemoInstitution, ...] = (
    DemoInstitution("demo-inst-yuren", f"浙江育人专修学院{DEMO_MARK}", "杭州", "demo-yuren"),
    *(
        DemoInstitution(
            f"demo-inst-hz-{n}", f"杭州市示范培训机构{numeral}{DEMO_MARK}", "杭州", f"demo-hz-{n}"
        )
        for n, numeral in enumerate(_HANGZHOU_NUMERALS, start=1)
    ),
)

# The municipal construction authorities of the 11 cities (short city names as in `events.reference`).
CITY_PINYIN: tuple[tuple[str, str], ...] = (
    ("杭州", "hangzhou"),
    ("宁波", "ningbo"),
    ("温州", "wenzhou"),
    ("嘉兴", "jiaxing"),
    ("湖州", "huzhou"),
    ("绍兴", "shaoxing"),
    ("金华", "jinhua"),
    ("衢州", "quzhou"),
    ("舟山", "zhoushan"),
    ("台州", "taizhou"),
    ("丽水", "lishui"),
)

DEMO_REVIEWERS: tuple[DemoReviewer, ...] = tuple(
    DemoReviewer(f"reviewer-{pinyin}", city, f"{city}市住房和城乡建设局{DEMO_MARK}")
    for city, pinyin in CITY_PINYIN
)

DEMO_ADMIN_USERNAME = "demo-admin"
DEMO_ADMIN_NAME = f"平台管理员{DEMO_MARK}"
DEMO_ENTERPRISE_USERNAME = "demo-enterprise"
DEMO_ENTERPRISE_NAME = f"演示建设工程有限公司{DEMO_MARK}"


def institutions_in(city: str) -> tuple[DemoInstitution, ...]:
    """The demo institutions of a city (“杭州” or “杭州市”)."""
    short = city.strip().removesuffix("市")
    return tuple(i for i in DEMO_INSTITUTIONS if i.city == short)


def institution(institution_id: str) -> DemoInstitution | None:
    return next((i for i in DEMO_INSTITUTIONS if i.id == institution_id), None)
