"""The 11 prefecture-level cities of Zhejiang, each with its municipal construction authority."""

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


def authority_name(city: str) -> str:
    return f"{city}市住房和城乡建设局"
