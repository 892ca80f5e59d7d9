"""What the use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from ..domain.accounts import Account

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def by_username(self, username: str) -> Account | None: ...

    async def by_id(self, account_id: str) -> Account | None: ...

    async def save_login_state(self, before: Account, after: Account) -> bool: ...

    async def set_password(self, account_id: str, password_hash: str, changed_at: datetime) -> None: ...

    async def rehash(self, account_id: str, old_hash: str, new_hash: str) -> None: ...

    async def revoke_sessions(self, account_id: str, at: datetime) -> None: ...


class RevokedTokenStore(Protocol):
    async def revoke(
        self, jti: str, *, expires_at: datetime, account_id: str, kind: str, now: datetime
    ) -> str | None: ...

    async def is_revoked(self, jti: str) -> bool: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    async def verify_dummy(self, password: str) -> None: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


PasswordGenerator = Callable[[str], str]
