"""What the use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from servicekit.auth import Role

from ..domain.accounts import Account
from ..domain.activation import ActivationCode
from ..domain.lockout import ThrottleState
from ..domain.persons import Person

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def by_username(self, username: str) -> Account | None: ...

    async def by_id(self, account_id: str) -> Account | None: ...

    async def save_login_state(self, before: Account, after: Account) -> bool: ...

    async def set_password(self, account_id: str, password_hash: str, changed_at: datetime) -> int:
        """Replace the hash and raise the token version; the new version."""
        ...

    async def rehash(self, account_id: str, old_hash: str, new_hash: str) -> None: ...

    async def revoke_sessions(self, account_id: str, at: datetime) -> int:
        """Raise the token version (every token issued so far is void); the new version."""
        ...

    async def set_disabled(self, account_id: str, disabled: bool, at: datetime) -> int:
        """Disable (raising the token version) or enable the account; the token version afterwards."""
        ...

    async def person_account(self, id_number: str) -> Account | None:
        """The person account of this ID number (there is at most one)."""
        ...

    async def search(self, query: AccountQuery) -> tuple[list[Account], int]:
        """One page of accounts matching the query, and how many match in all."""
        ...


@dataclass(frozen=True)
class AccountQuery:
    role: Role | None = None
    city: str | None = None
    username_prefix: str | None = None
    skip: int = 0
    limit: int = 50


class RevokedTokenStore(Protocol):
    async def revoke(
        self, jti: str, *, expires_at: datetime, account_id: str, kind: str, now: datetime
    ) -> str | None: ...

    async def is_revoked(self, jti: str) -> bool: ...


class RevocationLog(Protocol):
    """Tells every service which tokens were revoked (the identity events, published by the relay)."""

    async def sessions_revoked(
        self, account_id: str, token_version: int, at: datetime, reason: str
    ) -> None: ...

    async def access_token_revoked(self, jti: str, account_id: str, expires_at: datetime) -> None: ...


class LoginAttempts(Protocol):
    """Failed logins counted per (client, username) and per username, and the clients known to the account."""

    async def load(self, username: str, client: str, now: datetime) -> ThrottleState: ...

    async def failed(self, username: str, client: str, known_client: bool, now: datetime) -> ThrottleState:
        """Count a failure (for the pair, and for the username when the client is not known); the state
        afterwards."""
        ...

    async def succeeded(self, username: str, client: str, now: datetime) -> None:
        """Forget the pair's failures and remember the client as known to the account."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    async def verify_dummy(self, password: str) -> None: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


PasswordGenerator = Callable[[str], str]


class PersonDirectory(Protocol):
    """The trainees enrollment told the gateway about (the `persons` read model)."""

    async def get(self, id_number: str) -> Person | None: ...


class ActivationCodeStore(Protocol):
    """At most one code per ID number; only its hash is stored."""

    async def replace(self, code: ActivationCode) -> None:
        """Store the code, replacing the previous one of the same ID number."""
        ...

    async def get(self, id_number: str) -> ActivationCode | None: ...

    async def count_attempt(self, id_number: str, code_hash: str, max_attempts: int) -> ActivationCode | None:
        """Count one guess against this very code (atomically, only below `max_attempts`): the code as
        stored afterwards, or None when it is gone, was replaced or has no attempt left."""
        ...

    async def release_attempt(self, id_number: str, code_hash: str) -> None:
        """Give back an attempt counted for the right code when the account could not be created."""
        ...

    async def delete(self, id_number: str) -> None: ...


@dataclass(frozen=True)
class Notification:
    """A message to a person's mobile (an SMS in production)."""

    kind: str
    mobile: str
    text: str
    id_number: str = ""
    expires_at: datetime | None = None  # after this the message is of no use (and may be purged)

    def __repr__(self) -> str:  # the text may hold a code
        return f"Notification(kind={self.kind!r})"


class Notifier(Protocol):
    async def send(self, notification: Notification) -> None: ...


CodeGenerator = Callable[[], str]
