"""Password policy (pure): what a password must be before it is hashed and stored."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 128

# The passwords every guesser tries first (compared case-insensitively). The seed's 111111 is here on purpose.
COMMON_PASSWORDS: frozenset[str] = frozenset(
    {
        "111111",
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "000000",
        "00000000",
        "11111111",
        "88888888",
        "66666666",
        "666666",
        "888888",
        "654321",
        "987654321",
        "123123",
        "password",
        "password1",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "qwerty",
        "qwerty123",
        "qwe123456",
        "abc123",
        "abc12345",
        "abc123456",
        "a1234567",
        "a12345678",
        "a123456789",
        "1qaz2wsx",
        "1q2w3e4r",
        "admin",
        "admin123",
        "admin888",
        "root123",
        "test1234",
        "iloveyou",
        "iloveyou1",
        "woaini1314",
        "woaini520",
        "5201314",
        "zxcvbnm",
        "zxcvbnm123",
        "aa123456",
        "aa12345678",
        "qq123456",
        "welcome1",
        "changeme",
        "changeme1",
        "letmein1",
    }
)


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


def password_violations(password: str, username: str = "") -> list[Violation]:
    """Every rule the password breaks (empty when it is acceptable)."""
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
    if password.strip().casefold() in COMMON_PASSWORDS:
        out.append(Violation("not_common", "不能使用常见的弱密码（如 111111、123456、password）"))
    return out


def ensure_strong_password(password: str, username: str = "", *, old_password: str | None = None) -> None:
    """Raise `WeakPassword` naming every broken rule."""
    violations = password_violations(password, username)
    if old_password is not None and password == old_password:
        violations.append(Violation("not_previous", "新密码不能与原密码相同"))
    if violations:
        raise WeakPassword([v.as_dict() for v in violations])
