"""Revoked token ids (collection `revoked_tokens`, keyed by jti, expiring with the token)."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError, OperationFailure
from servicekit.logging import get_logger
from servicekit.mongo import Database

COLLECTION = "revoked_tokens"

log = get_logger(__name__)


class MongoRevokedTokenStore:
    def __init__(self, db: Database) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        try:  # the entry is useless once the token itself has expired
            await self.collection.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
        except OperationFailure as exc:  # a server without TTL support still works, it just keeps entries
            log.warning("revoked_tokens.ttl_index_unavailable", error=str(exc))

    async def revoke(
        self, jti: str, *, expires_at: datetime, account_id: str, kind: str, now: datetime
    ) -> str | None:
        """Record it. None if new; the kind of the earlier revocation if the token was already revoked."""
        try:
            await self.collection.insert_one(
                {
                    "_id": jti,
                    "expires_at": expires_at,
                    "account_id": account_id,
                    "kind": kind,
                    "revoked_at": now,
                }
            )
        except DuplicateKeyError:
            earlier = await self.collection.find_one({"_id": jti}, projection={"kind": 1})
            return str((earlier or {}).get("kind") or "unknown")
        return None

    async def is_revoked(self, jti: str) -> bool:
        return await self.collection.find_one({"_id": jti}, projection={"_id": 1}) is not None
