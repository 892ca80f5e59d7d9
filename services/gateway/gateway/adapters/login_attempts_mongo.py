"""Failed logins and known clients (collection `login_attempts`, entries expiring by themselves).

- `pair|<username>|<client>`: failures of one client for one username;
- `user|<username>`: failures for the username from clients it does not know;
- `known|<username>|<client>`: a client the account logged in from (kept `known_client_days`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.errors import OperationFailure
from servicekit.logging import get_logger
from servicekit.mongo import Database, Document

from ..domain.lockout import Failures, ThrottlePolicy, ThrottleState

COLLECTION = "login_attempts"

log = get_logger(__name__)


def _pair(username: str, client: str) -> str:
    return f"pair|{username}|{client}"


def _user(username: str) -> str:
    return f"user|{username}"


def _known(username: str, client: str) -> str:
    return f"known|{username}|{client}"


def _failures(doc: Document | None) -> Failures:
    if not doc:
        return Failures()
    return Failures(int(doc.get("count") or 0), doc.get("last_at"))


class MongoLoginAttempts:
    def __init__(self, db: Database, policy: ThrottlePolicy) -> None:
        self.collection = db[COLLECTION]
        self.policy = policy

    async def ensure_indexes(self) -> None:
        try:
            await self.collection.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
        except OperationFailure as exc:  # without TTL support entries stay; the window still applies
            log.warning("login_attempts.ttl_index_unavailable", error=str(exc))

    async def load(self, username: str, client: str, now: datetime) -> ThrottleState:
        ids = [_pair(username, client), _user(username), _known(username, client)]
        docs = {str(d["_id"]): d async for d in self.collection.find({"_id": {"$in": ids}})}
        known = docs.get(ids[2])
        return ThrottleState(
            pair=_failures(docs.get(ids[0])).current(now, self.policy),
            account=_failures(docs.get(ids[1])).current(now, self.policy),
            known_client=bool(known) and (known or {}).get("expires_at", now) >= now,
        )

    async def _count(self, key: str, now: datetime) -> None:
        expires = now + timedelta(seconds=self.policy.window_seconds)
        window_start = now - timedelta(seconds=self.policy.window_seconds)
        counted = await self.collection.update_one(
            {"_id": key, "last_at": {"$gte": window_start}},
            {"$inc": {"count": 1}, "$set": {"last_at": now, "expires_at": expires}},
        )
        if counted.matched_count == 0:  # none yet, or only forgotten ones: start again
            await self.collection.update_one(
                {"_id": key}, {"$set": {"count": 1, "last_at": now, "expires_at": expires}}, upsert=True
            )

    async def failed(self, username: str, client: str, known_client: bool, now: datetime) -> ThrottleState:
        await self._count(_pair(username, client), now)
        if not known_client:
            await self._count(_user(username), now)
        return await self.load(username, client, now)

    async def succeeded(self, username: str, client: str, now: datetime) -> None:
        await self.collection.delete_one({"_id": _pair(username, client)})
        expires = now + timedelta(days=self.policy.known_client_days)
        await self.collection.update_one(
            {"_id": _known(username, client)}, {"$set": {"expires_at": expires}}, upsert=True
        )
