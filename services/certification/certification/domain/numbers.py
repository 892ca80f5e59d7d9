"""Certificate numbers: `33` (Zhejiang) + issue year (4) + position code (2) + sequence (7) + check character.

The check character is ISO 7064 MOD 11-2 over the 15 digits before it (the scheme of ID numbers, GB 11643),
so a mistyped digit or a swap of two neighbours is detected. Example: 332026010000001 + check.
"""

from __future__ import annotations

PROVINCE_CODE = "33"
POSITION_CODES = {
    "施工员": "01",
    "质量员": "02",
    "安全员": "03",
    "标准员": "04",
    "材料员": "05",
    "机械员": "06",
    "劳务员": "07",
    "资料员": "08",
}


def mod11_2(digits: str) -> str:
    total = 0
    for ch in digits:
        total = (total + int(ch)) * 2 % 11
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def certificate_number(year: int, position: str, sequence: int) -> str:
    code = POSITION_CODES.get(position, "99")
    if not 0 < sequence < 10_000_000:
        raise ValueError("certificate sequence out of range")
    body = f"{PROVINCE_CODE}{year:04d}{code}{sequence:07d}"
    return body + mod11_2(body)


def is_valid_number(number: str) -> bool:
    number = number.strip().upper()
    return (
        len(number) == 16
        and number[:15].isdigit()
        and number.startswith(PROVINCE_CODE)
        and mod11_2(number[:15]) == number[15]
    )


def same_name(holder_name: str, given: str) -> bool:
    """The name typed on the public verification form against the holder's: spaces (also full-width) and the
    middle dot's variants (· • ・ ．) do not count, Latin letters are compared case-insensitively."""

    def norm(text: str) -> str:
        text = "".join(text.split()).replace("\u3000", "")
        for dot in ("•", "・", "．", ".", "\u00b7", "\u2027"):
            text = text.replace(dot, "·")
        return text.casefold()

    return bool(given.strip()) and norm(holder_name) == norm(given)


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_id_number(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:] if len(id_number) >= 10 else "****"
