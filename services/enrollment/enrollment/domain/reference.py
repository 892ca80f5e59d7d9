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

# The 学历 drop-down of the summary sheet → the level the eligibility rules speak of.
EDUCATION_LEVELS: dict[str, str] = {
    "博士研究生": "graduate",
    "硕士研究生": "graduate",
    "本科": "bachelor",
    "大专": "college",
    "中专": "secondary",
    "职高": "secondary",
    "技校": "secondary",
    "高中": "secondary",
    "初中及以下": "below",
}

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
