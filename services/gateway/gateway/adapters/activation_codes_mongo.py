"""Activation codes (collection `activation_codes`, one per ID number, only the argon2 hash of the code)."""

from __future__ import annotations

from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import OperationFailure
from servicekit.logging import get_logger
from servicekit.mongo import Database, Document

from ..domain.activation import ActivationCode

COLLECTION = "activation_codes"

# Expired or exhausted codes stay a while (the trainee is told "expired" rather than "wrong"), then go.
PURGE_AFTER = timedelta(days=30)

log = get_logger(__name__)


def to_document(code: ActivationCode) -> Document:
    return {
        "_id": code.id_number,
        "code_hash": code.code_hash,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "purge_at": code.expires_at + PURGE_AFTER,
        "attempts": code.attempts,
        "issued_by": code.issued_by,
        "issued_by_role": code.issued_by_role,
        "issued_by_org": code.issued_by_org,
    }


def from_document(doc: Document) -> ActivationCode:
    return ActivationCode(
        id_number=str(doc["_id"]),
        code_hash=doc["code_hash"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        attempts=int(doc.get("attempts") or 0),
        issued_by=doc.get("issued_by") or "",
        issued_by_role=doc.get("issued_by_role") or "",
        issued_by_org=doc.get("issued_by_org"),
    )


class MongoActivationCodeStore:
    def __init__(self, db: Database) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        try:
            await self.collection.create_index("purge_at", expireAfterSeconds=0, name="purge_ttl")
        except OperationFailure as exc:  # without TTL support old codes simply stay (they are void anyway)
            log.warning("activation_codes.ttl_index_unavailable", error=str(exc))

    async def replace(self, code: ActivationCode) -> None:
        await self.collection.replace_one({"_id": code.id_number}, to_document(code), upsert=True)

    async def get(self, id_number: str) -> ActivationCode | None:
        doc = await self.collection.find_one({"_id": id_number})
        return from_document(doc) if doc else None

    async def count_attempt(self, id_number: str, code_hash: str, max_attempts: int) -> ActivationCode | None:
        doc = await self.collection.find_one_and_update(
            {"_id": id_number, "code_hash": code_hash, "attempts": {"$lt": max_attempts}},
            {"$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return from_document(doc) if doc else None

    async def release_attempt(self, id_number: str, code_hash: str) -> None:
        await self.collection.update_one(
            {"_id": id_number, "code_hash": code_hash, "attempts": {"$gt": 0}}, {"$inc": {"attempts": -1}}
        )

    async def delete(self, id_number: str) -> None:
        await self.collection.delete_one({"_id": id_number})
