"""One-time activation codes (pure): how long a code lives and how many wrong guesses it survives.

A code is 8 random digits handed to the trainee by the enterprise or institution (and sent to their mobile);
only its argon2 hash is stored. It is void once it expired, once `max_attempts` wrong codes were tried, and
once it was used. A new code replaces the previous one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

CODE_LENGTH = 8
DEFAULT_TTL_SECONDS = 72 * 3600
DEFAULT_MAX_ATTEMPTS = 5


class CodeState(StrEnum):
    USABLE = "usable"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong codes


@dataclass(frozen=True)
class ActivationCode:
    id_number: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0  # codes tried against this one (wrong ones, and the right one while it is used)
    issued_by: str = ""  # account id
    issued_by_role: str = ""
    issued_by_org: str | None = None

    def __repr__(self) -> str:  # never show the hash
        return f"ActivationCode(expires_at={self.expires_at.isoformat()}, attempts={self.attempts})"


def expiry(now: datetime, ttl_seconds: int) -> datetime:
    return now + timedelta(seconds=ttl_seconds)


def is_expired(code: ActivationCode, now: datetime) -> bool:
    return now >= code.expires_at


def is_exhausted(code: ActivationCode, max_attempts: int) -> bool:
    return code.attempts >= max_attempts


def code_state(code: ActivationCode, now: datetime, max_attempts: int) -> CodeState:
    """Exhausted wins over expired: a code that was guessed at is void for good."""
    if is_exhausted(code, max_attempts):
        return CodeState.EXHAUSTED
    if is_expired(code, now):
        return CodeState.EXPIRED
    return CodeState.USABLE


def after_attempt(code: ActivationCode) -> ActivationCode:
    """The code once one more guess was counted against it."""
    return replace(code, attempts=code.attempts + 1)


def remaining_attempts(code: ActivationCode, max_attempts: int) -> int:
    return max(0, max_attempts - code.attempts)


def hours_valid(ttl_seconds: int) -> int:
    """The lifetime in whole hours, rounded up (for messages)."""
    return max(1, math.ceil(ttl_seconds / 3600))


def normalize_code(raw: str) -> str:
    """What the trainee typed, without the spaces or dashes used to read it out."""
    return "".join(c for c in raw if c not in " -\t")


def is_well_formed_code(raw: str) -> bool:
    code = normalize_code(raw)
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit()
