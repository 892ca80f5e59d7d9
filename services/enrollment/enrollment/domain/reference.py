"""Reference lists of the enrollment context (positions, specialisations, education levels, genders)."""

from __future__ import annotations

SPECIALISATIONS: tuple[str, ...] = ("土建施工", "装饰装修", "设备安装", "市政工程")

# Position → its specialisations (empty: the position has none).
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

# Position groups of the eligibility rules (domain.md, 附件5).
GROUP_A = ("施工员", "质量员", "标准员", "安全员", "机械员")
GROUP_B = ("材料员", "劳务员", "资料员")


def position_group(position: str) -> str:
    return "A" if position in GROUP_A else "B"


GENDERS: tuple[str, ...] = ("男", "女")

# 学历: the levels 附件5 speaks of (研究生, 本科, 专科, 中职) plus 高中 (ours, domain.md), each with the
# level the eligibility rules use (annex5.json "levels"; 高中 counts as 中职 there). These are the template's
# drop-down and the one value stored.
EDUCATION_LEVELS: dict[str, str] = {
    "研究生": "graduate",
    "本科": "bachelor",
    "专科": "college",
    "中职": "secondary",
    "高中": "secondary",
}
# What people type for the same level: normalised to the canonical word, not refused (domain.md).
EDUCATION_SYNONYMS: dict[str, str] = {
    "大专": "专科",
    "中专": "中职",
    "职高": "中职",
    "技校": "中职",
    "硕士研究生": "研究生",
    "博士研究生": "研究生",
}
# Below 中职: refused by the sheet; the pre-check still recognises these in records stored before the list
# was the one above (they were once a drop-down value).
BELOW_SECONDARY: tuple[str, ...] = ("初中及以下", "初中", "小学")


def canonical_education(value: str) -> str | None:
    """The canonical 学历 of a value (spaces removed), a synonym normalised; None when it is not one."""
    key = "".join(value.split())
    if key in EDUCATION_LEVELS:
        return key
    return EDUCATION_SYNONYMS.get(key)


def education_level(value: str) -> str | None:
    """The eligibility level (graduate/bachelor/college/secondary/below) of a 学历 value or synonym."""
    canonical = canonical_education(value)
    if canonical is not None:
        return EDUCATION_LEVELS[canonical]
    return "below" if "".join(value.split()) in BELOW_SECONDARY else None


TRAINING_MODES: dict[str, str] = {"online": "线上", "offline": "线下"}

# Materials: one zip per batch, entries named `<ID number>$<document>.<ext>`.
MATERIAL_DOCUMENTS: tuple[str, ...] = (
    "报名表",
    "身份证正面",
    "身份证反面",
    "工作年限证明",
    "学历证书",
    "头像",
)
