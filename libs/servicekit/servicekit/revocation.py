"""Revoked access tokens, as every service sees them.

The gateway is the authority on sessions: it publishes `identity.AccountSessionsRevoked` (a password change,
a refresh token used twice, an account disabled: every token of the account below `token_version` is void)
and `identity.AccessTokenRevoked` (a logout: one token id). Every service's runtime consumes both into the
collection `token_revocations` of its own database (a policy, `<service>.policy.token-revocation`):

- `account:<account id>` → `min_version`: the lowest token version still accepted;
- `jti:<token id>` → `expires_at`: refused until then (a TTL index removes it afterwards).

`current_identity` (servicekit.auth) asks `RevocationView.ensure_valid` on every request. What it read is
kept `REVOCATION_CACHE_SECONDS` (default 1 s) per account and per token id, so a revocation takes effect at
most that long after the event reached the service (docs/security-auth.md gives the measured delay).
Tokens issued before versions existed carry no `ver` claim: they count as version 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from events.identity import AccessTokenRevoked, AccountSessionsRevoked
from pymongo.errors import OperationFailure

from .consumer import EventHandlers, ReceivedEvent
from .errors import Unauthorized
from .logging import get_logger
from .mongo import Database

log = get_logger(__name__)

COLLECTION = "token_revocations"
POLICY_NAME = "token-revocation"
MAX_CACHED = 10_000


class TokenRevoked(Unauthorized):
    code = "token_revoked"

    def __init__(
        self, message: str = "登录状态已失效（已退出登录、密码已修改或账号已停用），请重新登录"
    ) -> None:
        super().__init__(message)


def token_version(claims: dict[str, Any]) -> int:
    """The token's `ver` claim (0 when absent: tokens issued before versions existed)."""
    value = claims.get("ver", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def account_key(account_id: str) -> str:
    return f"account:{account_id}"


def jti_key(jti: str) -> str:
    return f"jti:{jti}"


class RevocationView:
    """The consumer side (`handlers`, applied into the service's database) and the check (`ensure_valid`)."""

    def __init__(
        self,
        database_name: str,
        *,
        cache_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database_name = database_name
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, Any]] = {}
        self.handlers = EventHandlers()
        self.handlers.on(AccountSessionsRevoked)(self._sessions_revoked)
        self.handlers.on(AccessTokenRevoked)(self._token_revoked)

    # ------------------------------------------------------------------ applying the gateway's events

    async def _sessions_revoked(self, received: ReceivedEvent, session: Any) -> None:
        event = received.event
        assert isinstance(event, AccountSessionsRevoked)
        collection = session.client[self.database_name][COLLECTION]
        key = account_key(event.account_id)
        await collection.update_one(
            {"_id": key},
            {"$max": {"min_version": event.token_version}, "$set": {"revoked_at": event.revoked_at}},
            upsert=True,
            session=session,
        )
        self._cache.pop(key, None)

    async def _token_revoked(self, received: ReceivedEvent, session: Any) -> None:
        event = received.event
        assert isinstance(event, AccessTokenRevoked)
        collection = session.client[self.database_name][COLLECTION]
        key = jti_key(event.jti)
        await collection.update_one(
            {"_id": key},
            {"$set": {"expires_at": event.expires_at, "account_id": event.account_id}},
            upsert=True,
            session=session,
        )
        self._cache.pop(key, None)

    # ------------------------------------------------------------------ the check on every request

    @staticmethod
    async def ensure_indexes(database: Database) -> None:
        try:  # a token id is of no interest once the token itself has expired
            await database[COLLECTION].create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
        except OperationFailure as exc:  # without TTL support the entries stay; nothing else changes
            log.warning("token_revocations.ttl_index_unavailable", error=str(exc))

    def _cached(self, key: str, now: float) -> tuple[bool, Any]:
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return True, hit[1]
        return False, None

    def _remember(self, key: str, value: Any, now: float) -> None:
        if self.cache_seconds <= 0:
            return
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[key] = (now, value)

    async def ensure_valid(self, database: Database, account_id: str, version: int, jti: str | None) -> None:
        """Raise `TokenRevoked` (401 `token_revoked`) when the account's tokens of this version were revoked
        or this very token was logged out."""
        now = self.clock()
        keys = {account_key(account_id): "min_version"}
        if jti:
            keys[jti_key(jti)] = "revoked"
        known: dict[str, Any] = {}
        missing = []
        for key in keys:
            hit, value = self._cached(key, now)
            if hit:
                known[key] = value
            else:
                missing.append(key)
        if missing:
            found: dict[str, Any] = {key: None for key in missing}
            async for doc in database[COLLECTION].find({"_id": {"$in": missing}}):
                key = str(doc["_id"])
                found[key] = int(doc.get("min_version") or 0) if key.startswith("account:") else True
            for key, value in found.items():
                self._remember(key, value, now)
            known.update(found)
        if version < int(known.get(account_key(account_id)) or 0):
            raise TokenRevoked()
        if jti and known.get(jti_key(jti)):
            raise TokenRevoked("登录凭证已失效（已退出登录），请重新登录")
