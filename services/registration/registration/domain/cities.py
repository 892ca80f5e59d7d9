"""The 11 prefecture-level cities of Zhejiang, each with its municipal construction authority."""

from events.reference import ZHEJIANG_CITIES, normalize_city

__all__ = ["ZHEJIANG_CITIES", "authority_name", "normalize_city"]


def authority_name(city: str) -> str:
    return f"{city}市住房和城乡建设局"
