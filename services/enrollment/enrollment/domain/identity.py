"""Identity checks of the enrollment context (pure): cell text, resident ID numbers, ages, mobile numbers.

ID numbers follow GB 11643-1999: a 6-digit region code, the birth date YYYYMMDD, a 3-digit sequence (odd for
men, even for women) and a check character computed with ISO 7064 MOD 11-2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import mul

# Full-width digits and letters → ASCII; the full-width space (U+3000) and no-break spaces → a plain space;
# zero-width characters that Excel users paste from web pages and chat tools → removed.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(ord("０"), ord("９") + 1)}
_FULL_WIDTH |= {code: code - 0xFEE0 for code in range(ord("Ａ"), ord("Ｚ") + 1)}
_FULL_WIDTH |= {code: code - 0xFEE0 for code in range(ord("ａ"), ord("ｚ") + 1)}
_SPACES = {0x3000: " ", 0x00A0: " ", 0x2007: " ", 0x202F: " "}
_INVISIBLE: dict[int, None] = {0x200B: None, 0x200C: None, 0x200D: None, 0x2060: None, 0xFEFF: None}
_CELL_TABLE: dict[int, int | str | None] = {**_FULL_WIDTH, **_SPACES, **_INVISIBLE}
_STRIP = " \t\r\n\v\f"
# Every kind of space removed inside a code (ID number, mobile number).
_NO_SPACES: dict[int, int | str | None] = {**_CELL_TABLE, ord(" "): None, 0x3000: None, 0x00A0: None}
_NO_SPACES |= {ord(ch): None for ch in "\t\r\n\v\f"} | {0x2007: None, 0x202F: None}

ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"  # indexed by the weighted sum modulo 11

# First two digits of the region code: provinces, autonomous regions and municipalities; 71 Taiwan,
# 81 Hong Kong, 82 Macao; 91 the residence-permit numbers of Hong Kong, Macao and Taiwan residents.
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55))]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82", "91"]
)
EARLIEST_BIRTH = date(1900, 1, 1)
_ZERO_OFFSET = ord("0") * sum(ID_WEIGHTS)

_DIGITS = frozenset("0123456789")


def normalize_cell(value: object) -> str:
    """The text of a cell: full-width digits and letters made ASCII, surrounding spaces of every kind removed.

    `None` (an empty cell) is the empty string. Spaces inside the text are kept (as ASCII spaces).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        return text.strip(_STRIP)
    return _normalize_text(text)


@lru_cache(maxsize=8192)  # 性别, 学历 and 工作单位 repeat down a sheet
def _normalize_text(text: str) -> str:
    return text.translate(_CELL_TABLE).strip(_STRIP)


def compact(value: object) -> str:
    """`normalize_cell` with every space inside removed too: for codes such as ID and mobile numbers."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        return "".join(text.split()) if " " in text or not text.isprintable() else text
    return text.translate(_NO_SPACES)


def normalize_id_number(raw: str) -> str:
    """Spaces removed, full-width characters made ASCII, a lower-case check character `x` written `X`."""
    return compact(raw).upper()


def id_check_character(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits of an ID number."""
    if len(first17) != 17 or not _DIGITS.issuperset(first17):
        raise ValueError("the first 17 characters of an ID number are digits")
    # Byte values of ASCII digits are the digit + 48: one pass in C, then the 48s taken off.
    total = sum(map(mul, first17.encode("ascii"), ID_WEIGHTS)) - _ZERO_OFFSET
    return ID_CHECK_CHARACTERS[total % 11]


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_number_problem(raw: str, *, today: date) -> str | None:
    """None when `raw` is a valid ID number; otherwise exactly what is wrong with it, in Chinese."""
    number = normalize_id_number(raw)
    if not number:
        return "身份证号为空"
    if len(number) != 18:
        if len(number) == 15 and _DIGITS.issuperset(number):
            return "身份证号为 15 位的旧号码，请填写 18 位的居民身份证号"
        return f"身份证号应为 18 位，实际为 {len(number)} 位"
    if not _DIGITS.issuperset(number[:17]):
        position, character = next((i, ch) for i, ch in enumerate(number[:17], start=1) if ch not in _DIGITS)
        return f"身份证号第 {position} 位应为数字，实际为“{character}”（前 17 位只能是数字）"
    check = number[17]
    if check not in _DIGITS and check != "X":
        return f"身份证号第 18 位（校验位）应为数字或 X，实际为“{check}”"
    if number[:2] not in PROVINCE_CODES:
        return f"身份证号前 6 位地区码“{number[:6]}”无效：“{number[:2]}”不是有效的省级行政区划代码"
    birth = _birth_date(number)
    if birth is None:
        return f"身份证号第 7–14 位出生日期“{number[6:14]}”不是有效的日期"
    if birth > today:
        return f"身份证号中的出生日期 {birth.isoformat()} 晚于今天（{today.isoformat()}）"
    if birth < EARLIEST_BIRTH:
        return f"身份证号中的出生日期 {birth.isoformat()} 早于 1900 年"
    expected = id_check_character(number[:17])
    if check != expected:
        return f"身份证号校验位不正确：第 18 位应为 {expected}，实际为 {check}"
    return None


@dataclass(frozen=True)
class IdInfo:
    """What a valid ID number says about its holder."""

    region: str
    birth_date: date
    gender: str


def parse_id_number(raw: str) -> IdInfo:
    """Region code, birth date and gender of a valid ID number; `ValueError` (Chinese message) otherwise."""
    problem = id_number_problem(raw, today=date.max)
    if problem is not None:
        raise ValueError(problem)
    number = normalize_id_number(raw)
    birth = _birth_date(number)
    assert birth is not None
    return IdInfo(region=number[:6], birth_date=birth, gender="男" if int(number[16]) % 2 else "女")


def age_on(birth: date, today: date) -> int:
    """Age in full years on `today` (the birthday itself counts)."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def normalize_mobile(raw: str) -> str:
    """Spaces and hyphens removed, full-width digits made ASCII, a leading +86 / 0086 country code dropped."""
    number = compact(raw).replace("-", "")
    if len(number) > 11:
        for prefix in ("+86", "0086", "86"):
            if number.startswith(prefix) and len(number) == 11 + len(prefix):
                return number[len(prefix) :]
    return number


def mobile_problem(raw: str) -> str | None:
    """None for a mainland mobile number (11 digits, `1` then 3–9); otherwise what is wrong, in Chinese."""
    number = normalize_mobile(raw)
    if not number:
        return "手机号为空"
    bad = [ch for ch in number if ch not in _DIGITS]
    if bad:
        return f"手机号只能包含数字，含有“{bad[0]}”"
    if len(number) != 11:
        return f"手机号应为 11 位数字，实际为 {len(number)} 位"
    if number[0] != "1":
        return f"手机号应以 1 开头，实际以 {number[0]} 开头"
    if number[1] in "012":
        return f"手机号第 2 位应为 3–9，实际为 {number[1]}"
    return None
