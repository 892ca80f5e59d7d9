"""Eligibility pre-check: 附件5 majors × the years table of domain.md × the education levels of the sheet."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from enrollment.domain.eligibility import Eligibility, classify_major, normalise_major, precheck, tables
from enrollment.domain.reference import (
    EDUCATION_LEVELS,
    EDUCATION_SYNONYMS,
    GROUP_A,
    GROUP_B,
    canonical_education,
    education_level,
)

DATA = json.loads(resources.files("enrollment.data").joinpath("annex5.json").read_text(encoding="utf-8"))
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# A sheet value (学历) for each level.
EDUCATION_OF = {"graduate": "研究生", "bachelor": "本科", "college": "专科", "secondary": "中职"}
POSITION_OF = {"A": "施工员", "B": "资料员"}
OTHER_MAJOR = "汉语言文学"


def check(result: Eligibility) -> Eligibility:
    assert result.reason and CHINESE.search(result.reason), result
    assert result.rule
    return result


def first_major(level: str, group: str, cls: str) -> str:
    return str(DATA["majors"][level][group][cls][0])


def test_data_file_shape() -> None:
    assert DATA["source"] and DATA["version"]
    assert "扩充" in DATA["aliases"]["note"]
    for level in ("graduate", "bachelor", "college", "secondary"):
        for group in ("A", "B"):
            for cls in ("own", "related"):
                names = DATA["majors"][level][group][cls]
                assert names and all(n == n.strip() and "、" not in n for n in names)
    assert DATA["groups"] == {"A": list(GROUP_A), "B": list(GROUP_B)}
    assert set(EDUCATION_OF.values()) <= set(EDUCATION_LEVELS)
    # Spot checks against the seed's 附件5.
    assert "土木工程（一级学科）" in DATA["majors"]["graduate"]["A"]["own"]
    assert "管理科学与工程" in DATA["majors"]["graduate"]["A"]["related"]
    assert "管理科学与工程" in DATA["majors"]["graduate"]["B"]["own"]
    assert "电气工程及其自动化" in DATA["majors"]["bachelor"]["B"]["related"]
    assert "房地产类" in DATA["majors"]["college"]["B"]["own"]
    assert "港口工程技术" in DATA["majors"]["college"]["A"]["related"]
    assert "工程造价" in DATA["majors"]["secondary"]["B"]["own"]
    assert "楼宇智能化设备安装与运行" in DATA["majors"]["secondary"]["A"]["own"]


# Every row of the years table, for every group it applies to, at the boundary.
ROWS = [
    (level, cls, group, rule["id"], rule["min_years"])
    for rule in DATA["years"]["rules"]
    for level in rule["levels"]
    for group in rule["groups"]
    for cls in [rule["major_class"]]
]


@pytest.mark.parametrize(("level", "cls", "group", "rule_id", "minimum"), ROWS)
def test_years_table_boundaries(level: str, cls: str, group: str, rule_id: str, minimum: int) -> None:
    major = OTHER_MAJOR if cls == "other" else first_major(level, group, cls)
    kwargs = {"position": POSITION_OF[group], "education": EDUCATION_OF[level], "major": major}
    at = check(precheck(**kwargs, years_in_post=minimum))
    assert (at.verdict, at.rule, at.major_class) == ("eligible", rule_id, cls)
    below = check(precheck(**kwargs, years_in_post=minimum - 1))
    assert (below.verdict, below.rule) == ("not_eligible", rule_id)
    assert str(minimum) in below.reason


def test_years_table_numbers_match_domain_md() -> None:
    minimum = {r["id"]: r["min_years"] for r in DATA["years"]["rules"]}
    assert minimum == {
        "college_plus.own": 1,
        "college_plus.related": 2,
        "secondary.own": 3,
        "secondary.related": 4,
        "secondary_plus.other": 4,
    }
    other = next(r for r in DATA["years"]["rules"] if r["major_class"] == "other")
    assert other["groups"] == ["B"]


@pytest.mark.parametrize("level", ["graduate", "bachelor", "college", "secondary"])
@pytest.mark.parametrize("group", ["A", "B"])
@pytest.mark.parametrize("cls", ["own", "related"])
def test_every_listed_major_is_classified(level: str, group: str, cls: str) -> None:
    own = DATA["majors"][level][group]["own"]
    for major in DATA["majors"][level][group][cls]:
        if cls == "related" and major in own:
            continue  # 房地产类 is printed in both columns for 材料员 劳务员 资料员 (专科): own wins.
        assert classify_major(major, level, group) == cls, major
        # The sheet's spellings: a "专业" suffix, full-width/half-width parentheses, spaces.
        assert classify_major(f" {major}专业 ", level, group) == cls
        assert classify_major(major.replace("（", "(").replace("）", ")"), level, group) == cls


def test_each_education_value_of_the_sheet() -> None:
    for value, level in EDUCATION_LEVELS.items():
        if level == "below":
            continue
        own = first_major(level, "A", "own")
        assert (
            check(precheck(position="质量员", education=value, major=own, years_in_post=3)).verdict
            == "eligible"
        )


def test_normalisation() -> None:
    assert normalise_major(" 土木工程（一级学科） ") == "土木工程"
    assert normalise_major("建筑与土木工程(工程硕士)") == "建筑与土木工程"
    assert normalise_major("建筑工程技术专业") == "建筑工程技术"
    assert normalise_major("") == ""
    assert classify_major("", "college", "A") == "unknown"
    assert classify_major("   ", "bachelor", "B") == "unknown"


def test_category_matches_via_alias_table() -> None:
    assert classify_major("建筑工程技术", "college", "A") == "own"  # 土建施工类
    assert classify_major("建筑装饰工程技术专业", "college", "A") == "own"  # 建筑设计类
    assert classify_major("工程造价", "college", "A") == "own"  # 工程管理类
    assert classify_major("市政工程技术", "college", "B") == "own"  # 市政工程类
    assert classify_major("建筑设备工程技术", "college", "A") == "own"  # 建筑设备类
    assert classify_major("物业管理", "college", "A") == "related"  # 房地产类: related for A …
    assert classify_major("物业管理", "college", "B") == "own"  # … own for B
    assert classify_major("水利水电建筑工程", "college", "A") == "related"  # 水利工程与管理类
    assert classify_major("土建施工", "college", "A") == "own"  # names the category
    assert classify_major("结构工程", "graduate", "A") == "own"  # 土木工程（一级学科）
    # Aliases only help where the level's list has the category: a bachelor's 工程造价 is not listed.
    assert classify_major("工程造价", "bachelor", "A") == "other"
    result = check(precheck(position="施工员", education="大专", major="建筑工程技术", years_in_post=1))
    assert (result.verdict, result.rule, result.major_class) == ("eligible", "college_plus.own", "own")
    assert "土建施工类" in result.reason


def test_unknown_major_group_a() -> None:
    # College or above and years that would satisfy the related rule: the institution may recognise it.
    review = check(precheck(position="施工员", education="本科", major=OTHER_MAJOR, years_in_post=2))
    assert (review.verdict, review.major_class, review.rule) == (
        "needs_review",
        "other",
        "other.group_a.review",
    )
    assert "相关专业" in review.reason and "认定" in review.reason
    short = check(precheck(position="安全员", education="本科", major=OTHER_MAJOR, years_in_post=1))
    assert short.verdict == "not_eligible"
    secondary = check(precheck(position="机械员", education="中专", major=OTHER_MAJOR, years_in_post=10))
    assert (secondary.verdict, secondary.rule) == ("not_eligible", "other.group_a")


def test_unknown_major_group_b() -> None:
    ok = check(precheck(position="劳务员", education="高中", major=OTHER_MAJOR, years_in_post=4))
    assert (ok.verdict, ok.rule, ok.major_class) == ("eligible", "secondary_plus.other", "other")
    short = check(precheck(position="材料员", education="本科", major=OTHER_MAJOR, years_in_post=3))
    assert (short.verdict, short.rule) == ("not_eligible", "secondary_plus.other")


def test_empty_major() -> None:
    a = check(precheck(position="施工员", education="本科", major="", years_in_post=10))
    assert (a.verdict, a.major_class) == ("needs_review", "unknown")
    assert "所学专业" in a.reason
    b = check(precheck(position="资料员", education="本科", major="", years_in_post=4))
    assert b.verdict == "eligible"  # any major qualifies for 资料员 after 4 years
    c = check(precheck(position="资料员", education="本科", major="", years_in_post=2))
    assert c.verdict == "needs_review"


def test_education_levels_agree_with_annex5() -> None:
    """The sheet's words are the levels 附件5 speaks of (annex5.json "levels"), plus 高中 counted as 中职."""
    labels = DATA["levels"]
    for word, level in EDUCATION_LEVELS.items():
        assert word == labels[level] or (word, labels[level]) == ("高中", "中职"), word
    assert set(EDUCATION_LEVELS.values()) == {"graduate", "bachelor", "college", "secondary"}
    for synonym, word in EDUCATION_SYNONYMS.items():
        assert canonical_education(synonym) == word and education_level(synonym) == EDUCATION_LEVELS[word]
    assert canonical_education("初中") is None and education_level("初中") == "below"


@pytest.mark.parametrize("synonym", sorted(EDUCATION_SYNONYMS))
def test_a_synonym_is_judged_as_its_level(synonym: str) -> None:
    word = EDUCATION_SYNONYMS[synonym]
    own = first_major(EDUCATION_LEVELS[word], "A", "own")
    same = check(precheck(position="施工员", education=synonym, major=own, years_in_post=3))
    canonical = precheck(position="施工员", education=word, major=own, years_in_post=3)
    assert (same.verdict, same.rule) == (canonical.verdict, canonical.rule) == ("eligible", same.rule)


def test_education() -> None:
    below = check(precheck(position="施工员", education="初中及以下", major="土木工程", years_in_post=20))
    assert (below.verdict, below.rule) == ("not_eligible", "education.below")
    primary = check(precheck(position="施工员", education="小学", major="土木工程", years_in_post=20))
    assert (primary.verdict, primary.rule) == ("not_eligible", "education.below")
    college = check(precheck(position="施工员", education="专科", major="建筑工程技术", years_in_post=1))
    assert college.verdict == "eligible" and "专科层次" in college.reason
    for value in ("", "大学", "Bachelor"):
        unknown = check(precheck(position="施工员", education=value, major="土木工程", years_in_post=5))
        assert (unknown.verdict, unknown.rule) == ("needs_review", "education.unknown")
    spaced = check(precheck(position="施工员", education=" 本科 ", major="土木工程", years_in_post=1))
    assert spaced.verdict == "eligible"


def test_missing_or_invalid_years() -> None:
    missing = check(precheck(position="施工员", education="本科", major="土木工程", years_in_post=None))
    assert (missing.verdict, missing.rule) == ("needs_review", "years.missing")
    assert "未填写岗位工作年限" in missing.reason
    negative = check(precheck(position="施工员", education="本科", major="土木工程", years_in_post=-1))
    assert negative.verdict == "needs_review"


def test_unknown_position() -> None:
    result = check(precheck(position="造价员", education="本科", major="土木工程", years_in_post=5))
    assert (result.verdict, result.rule) == ("needs_review", "position.unknown")


def test_overrides_take_precedence() -> None:
    base = {"position": "施工员", "education": "大专", "years_in_post": 2}
    assert precheck(**base, major="会计").verdict == "needs_review"
    related = check(precheck(**base, major="会计", overrides={"会计专业": "related"}))
    assert (related.verdict, related.rule, related.major_class) == (
        "eligible",
        "college_plus.related",
        "related",
    )
    assert "培训机构认定" in related.reason
    # The institution can also downgrade a listed major, and its "other" for group A is final.
    other = check(precheck(**base, major="建筑工程技术", overrides={"建筑工程技术": "other"}))
    assert (other.verdict, other.major_class) == ("not_eligible", "other")
    # An override of another major changes nothing.
    own = check(precheck(**base, major="建筑工程技术", overrides={"会计": "own"}))
    assert (own.verdict, own.major_class) == ("eligible", "own")
    with pytest.raises(ValueError):
        precheck(**base, major="会计", overrides={"会计": "maybe"})


def test_tables_are_loaded_once() -> None:
    assert tables() is tables()
    assert tables().version == DATA["version"]
