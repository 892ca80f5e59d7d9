"""argon2id password hashing, off the event loop, and random initial passwords."""

from __future__ import annotations

import asyncio
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..domain.activation import CODE_LENGTH
from ..domain.passwords import password_violations

_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


class Argon2PasswordHasher:
    """argon2id with argon2-cffi's recommended (RFC 9106 low-memory) parameters unless told otherwise."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of a real verification (unknown usernames must not answer faster)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True


def generate_password(length: int = 16, username: str = "") -> str:
    """A random password that satisfies the policy (letters and digits, unambiguous characters)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if not password_violations(candidate, username):
            return candidate


def generate_activation_code() -> str:
    """8 random digits from the operating system's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
