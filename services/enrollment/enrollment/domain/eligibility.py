"""Eligibility pre-check: education level × major class (附件5, by position group) × years in the post.

The pre-check *informs* the institution's reviewer; it never decides. Its verdict is a hint shown beside the
applicant in the review queue, and the institution may recognise a major differently (``overrides``) or
decide otherwise altogether. The tables live in ``enrollment/data/annex5.json`` (majors of 附件5, the alias
table of common majors of the "…类" categories, and the minimum years), so the numbers are configuration.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from enrollment.domain.reference import (
    EDUCATION_LEVELS,
    GROUP_A,
    GROUP_B,
    POSITIONS,
    education_level,
    position_group,
)

MajorClass = Literal["own", "related", "other", "unknown"]
Verdict = Literal["eligible", "not_eligible", "needs_review"]

CLASS_LABELS: dict[str, str] = {
    "own": "土建类本专业",
    "related": "土建类相关专业",
    "other": "非土建类专业（附件5未列明）",
    "unknown": "未知（未填写所学专业）",
}
_GROUP_LABELS = {"A": "、".join(GROUP_A), "B": "、".join(GROUP_B)}
_COLLEGE_PLUS = ("graduate", "bachelor", "college")
_SECONDARY_VALUES = "、".join(value for value, level in EDUCATION_LEVELS.items() if level == "secondary")
_EDUCATION_VALUES = "、".join(EDUCATION_LEVELS)


@dataclass(frozen=True)
class Eligibility:
    """The pre-check's answer. ``rule`` is a stable id of the years-table row (or check) that applied."""

    verdict: Verdict
    reason: str
    rule: str
    major_class: str


@dataclass(frozen=True)
class YearsRule:
    id: str
    label: str
    levels: tuple[str, ...]
    major_class: str
    groups: tuple[str, ...]
    min_years: int


@dataclass(frozen=True)
class _Tables:
    version: str
    level_labels: dict[str, str]
    # level → group → class → [(normalised key, printed name)]
    majors: dict[str, dict[str, dict[str, tuple[tuple[str, str], ...]]]]
    # normalised major → normalised table entries it belongs to (categories, 一级学科)
    aliases: dict[str, frozenset[str]]
    rules: tuple[YearsRule, ...]


_PARENTHESISED_SUFFIX = re.compile(r"\([^()]*\)$")


def normalise_major(major: str) -> str:
    """The comparison key of a major: NFKC (full-width → half-width), no spaces, no trailing 专业 or (…)."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", major or ""))
    while True:
        stripped = _PARENTHESISED_SUFFIX.sub("", key).removesuffix("专业")
        if stripped == key or not stripped:
            return key
        key = stripped


def _load_json() -> dict[str, Any]:
    text = resources.files("enrollment.data").joinpath("annex5.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def tables() -> _Tables:
    """The 附件5 tables and the years table, loaded once from the package data."""
    data = _load_json()
    majors: dict[str, dict[str, dict[str, tuple[tuple[str, str], ...]]]] = {}
    for level, by_group in data["majors"].items():
        majors[level] = {
            group: {
                cls: tuple((normalise_major(name), name.strip()) for name in names)
                for cls, names in by_class.items()
            }
            for group, by_class in by_group.items()
        }
    aliases: dict[str, set[str]] = {}
    for entry, members in data["aliases"]["members"].items():
        for member in members:
            aliases.setdefault(normalise_major(member), set()).add(normalise_major(entry))
    rules = tuple(
        YearsRule(
            id=r["id"],
            label=r["label"],
            levels=tuple(r["levels"]),
            major_class=r["major_class"],
            groups=tuple(r["groups"]),
            min_years=int(r["min_years"]),
        )
        for r in data["years"]["rules"]
    )
    return _Tables(
        version=str(data["version"]),
        level_labels=dict(data["levels"]),
        majors=majors,
        aliases={k: frozenset(v) for k, v in aliases.items()},
        rules=rules,
    )


def years_rule(level: str, major_class: str, group: str) -> YearsRule | None:
    """The first years-table row for this education level, major class and position group."""
    for rule in tables().rules:
        if level in rule.levels and major_class == rule.major_class and group in rule.groups:
            return rule
    return None


def _matching_entry(key: str, entries: tuple[tuple[str, str], ...]) -> str | None:
    """The printed table entry that the normalised major ``key`` matches, if any."""
    for entry_key, printed in entries:
        if key == entry_key:
            return printed
    aliases = tables().aliases.get(key, frozenset())
    for entry_key, printed in entries:
        if entry_key in aliases:
            return printed
        # A category (…类) is matched by a major that names it, e.g. "土建施工" → 土建施工类.
        if entry_key.endswith("类") and key + "类" == entry_key:
            return printed
    return None


def _classify(major: str, level: str, group: str) -> tuple[MajorClass, str | None]:
    key = normalise_major(major)
    if not key:
        return "unknown", None
    by_class = tables().majors.get(level, {}).get(group)
    if by_class is None:
        return "other", None
    for cls in ("own", "related"):
        entry = _matching_entry(key, by_class.get(cls, ()))
        if entry is not None:
            return ("own" if cls == "own" else "related"), entry
    return "other", None


def classify_major(major: str, level: str, group: str) -> MajorClass:
    """Class of ``major`` in 附件5 for an education ``level`` (graduate/bachelor/college/secondary) and
    position ``group`` ("A"/"B"): exact match first, then the alias table for "…类" / "（一级学科）" entries.
    A major the table does not name is "other"; an empty major is "unknown"."""
    return _classify(major, level, group)[0]


def _fmt_years(years: int) -> str:
    return f"{years}年"


def precheck(
    *,
    position: str,
    education: str,
    major: str,
    years_in_post: int | None,
    overrides: Mapping[str, str] | None = None,
) -> Eligibility:
    """Pre-check one applicant against domain.md's table and 附件5.

    ``education`` is the sheet's 学历 value (``reference.EDUCATION_LEVELS``; a synonym such as 大专 is the
    same level, a value below 中职 stored before the sheet refused it is "below"); ``overrides`` is the
    institution's decision for particular majors (major → "own" / "related" / "other") and takes precedence
    over the table. The result informs the reviewer; the institution's review decides.
    """
    t = tables()
    position = (position or "").strip()
    education_value = (education or "").strip()
    major_value = (major or "").strip()

    if position not in POSITIONS:
        return Eligibility(
            "needs_review",
            f"报考岗位“{position}”不在岗位列表中，无法对照附件5与年限表预审，请人工审核。",
            "position.unknown",
            "unknown",
        )
    group = position_group(position)
    head = f"报考岗位{position}（附件5“{_GROUP_LABELS[group]}”一栏）"

    level = education_level(education_value)
    if level is None:
        shown = f"“{education_value}”" if education_value else "（未填写）"
        return Eligibility(
            "needs_review",
            f"{head}；学历{shown}不是报名表学历列表中的值（{_EDUCATION_VALUES}），"
            "无法确定学历层次，请人工审核。",
            "education.unknown",
            "unknown",
        )
    if level == "below":
        return Eligibility(
            "not_eligible",
            f"{head}；学历“{education_value}”低于中职（{_SECONDARY_VALUES}），"
            "年限表各行均要求中职及以上学历，不符合报考条件。",
            "education.below",
            "unknown",
        )
    level_label = t.level_labels.get(level, level)
    head += f"；学历“{education_value}”（{level_label}层次）"

    # Major class: the institution's decision first, then the table.
    overridden = None
    if overrides:
        key = normalise_major(major_value)
        for name, decided in overrides.items():
            if key and normalise_major(name) == key:
                if decided not in ("own", "related", "other"):
                    raise ValueError(f"override for {name!r} must be own, related or other, not {decided!r}")
                overridden = decided
                break
    if overridden is not None:
        major_class: MajorClass = (
            "own" if overridden == "own" else "related" if overridden == "related" else "other"
        )
        major_text = f"所学专业“{major_value}”经培训机构认定为{CLASS_LABELS[major_class]}"
    else:
        major_class, entry = _classify(major_value, level, group)
        if major_class == "unknown":
            major_text = "未填写所学专业"
        elif major_class == "other":
            major_text = (
                f"所学专业“{major_value}”不在附件5{level_label}层次本专业、相关专业之列，按非土建类专业对待"
            )
        else:
            via = "" if normalise_major(entry or "") == normalise_major(major_value) else f"（属“{entry}”）"
            major_text = f"所学专业“{major_value}”{via}为附件5{level_label}层次{CLASS_LABELS[major_class]}"
    head += f"；{major_text}"

    if years_in_post is None:
        return Eligibility(
            "needs_review",
            f"{head}；未填写岗位工作年限，无法对照年限表，请补充后人工审核。",
            "years.missing",
            major_class,
        )
    if years_in_post < 0:
        return Eligibility(
            "needs_review",
            f"{head}；岗位工作年限“{years_in_post}”无效，请核实后人工审核。",
            "years.invalid",
            major_class,
        )
    have = f"现为{_fmt_years(years_in_post)}"

    if major_class == "unknown":
        other = years_rule(level, "other", group)
        if other is not None and years_in_post >= other.min_years:
            return Eligibility(
                "eligible",
                f"{head}；但按“{other.label}”须满{_fmt_years(other.min_years)}，{have}，"
                "无论所学专业为何均符合报考条件。",
                other.id,
                major_class,
            )
        return Eligibility(
            "needs_review",
            f"{head}，无法确定专业类别和所需年限（{have}），请补充所学专业后人工审核。",
            "major.missing",
            major_class,
        )

    rule = years_rule(level, major_class, group)
    if rule is not None:
        ok = years_in_post >= rule.min_years
        return Eligibility(
            "eligible" if ok else "not_eligible",
            f"{head}；按“{rule.label}”须岗位工作满{_fmt_years(rule.min_years)}，{have}，"
            + ("符合报考条件。" if ok else "年限不足，不符合报考条件。"),
            rule.id,
            major_class,
        )

    # No row: a non-土建类 major for 施工员 质量员 标准员 安全员 机械员.
    related = years_rule(level, "related", group)
    if (
        overridden is None
        and related is not None
        and level in _COLLEGE_PLUS
        and years_in_post >= related.min_years
    ):
        return Eligibility(
            "needs_review",
            f"{head}；年限表对{_GROUP_LABELS[group]}不接受非土建类专业，但培训机构可在审核中将该专业认定为"
            f"相关专业：按“{related.label}”须满{_fmt_years(related.min_years)}，{have}，"
            "年限满足，请培训机构审核认定。",
            "other.group_a.review",
            major_class,
        )
    return Eligibility(
        "not_eligible",
        f"{head}；年限表中非土建类专业仅适用于{_GROUP_LABELS['B']}，"
        f"报考{_GROUP_LABELS[group]}须为土建类本专业或相关专业（{have}），不符合报考条件。",
        "other.group_a",
        major_class,
    )
