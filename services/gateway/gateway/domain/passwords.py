"""Password policy (pure): what a password must be before it is hashed and stored.

- at least 10 characters (NIST SP 800-63B asks for 8 at the least; 10 keeps an 8-character word plus two
  digits out), at most 128; letters and digits both; no surrounding spaces; not the username;
- not a common password: zxcvbn's frequency list of the 30,000 most used passwords (a maintained package,
  not a list of our own), compared case-insensitively, also with the digits and symbols at its end removed
  (`abcd1234` → `abcd`), plus the few Chinese-pinyin favourites zxcvbn's English lists lack;
- and strong enough by zxcvbn's estimate (score ≥ 2: about 10^6 guesses and more, given the username and the
  ID number as words an attacker knows). Logins are throttled, so this is about online guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from .errors import WeakPassword

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 2

# Chinese favourites missing from zxcvbn's English-centred lists (zxcvbn's list is the bulk of the check).
PINYIN_FAVOURITES: frozenset[str] = frozenset({"woaini", "woaini1314", "woaini520", "5201314", "aini1314"})

_TRAILING = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"]) | PINYIN_FAVOURITES


def is_common(password: str) -> bool:
    folded = password.strip().casefold()
    stem = _TRAILING.sub("", folded)
    common = common_passwords()
    return folded in common or (len(stem) >= 3 and stem in common and stem != folded)


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


def password_violations(
    password: str, username: str = "", *, known_words: tuple[str, ...] = ()
) -> list[Violation]:
    """Every rule the password breaks (empty when it is acceptable). `known_words`: what an attacker knows
    about the account (its ID number, its display name)."""
    out: list[Violation] = []
    if len(password) < MIN_LENGTH:
        out.append(Violation("min_length", f"长度至少 {MIN_LENGTH} 位"))
    if len(password) > MAX_LENGTH:
        out.append(Violation("max_length", f"长度不能超过 {MAX_LENGTH} 位"))
    has_letter = any(c.isascii() and c.isalpha() for c in password)
    has_digit = any(c.isdigit() for c in password)
    if not (has_letter and has_digit):
        out.append(Violation("letters_and_digits", "必须同时包含字母和数字"))
    if password != password.strip():
        out.append(Violation("no_surrounding_spaces", "首尾不能是空格"))
    if username and password.strip().casefold() == username.strip().casefold():
        out.append(Violation("not_username", "不能与用户名相同"))
    if is_common(password):
        out.append(Violation("not_common", "不能使用常见的弱密码（如 abcd1234、123456、password）"))
    elif len(password) <= MAX_LENGTH and not out:
        inputs = [w for w in (username, *known_words) if w]
        if zxcvbn(password, user_inputs=inputs)["score"] < MIN_SCORE:
            out.append(
                Violation("too_guessable", "过于简单、容易被猜到，请加长或混合使用不相关的单词、数字和符号")
            )
    return out


def ensure_strong_password(password: str, username: str = "", *, old_password: str | None = None) -> None:
    """Raise `WeakPassword` naming every broken rule."""
    violations = password_violations(password, username)
    if old_password is not None and password == old_password:
        violations.append(Violation("not_previous", "新密码不能与原密码相同"))
    if violations:
        raise WeakPassword([v.as_dict() for v in violations])
