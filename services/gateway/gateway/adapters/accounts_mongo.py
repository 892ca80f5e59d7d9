"""Accounts in the gateway's own MongoDB database (collection `accounts`, unique username)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from servicekit.auth import Role
from servicekit.mongo import Database, Document

from ..application.ports import AccountQuery
from ..domain.accounts import Account, AccountStatus
from ..domain.errors import PersonAlreadyActive, UsernameTaken

COLLECTION = "accounts"
PERSON_INDEX = "person_id_number_unique"


def to_document(account: Account) -> Document:
    return {
        "_id": account.id,
        "username": account.username,
        "role": account.role.value,
        "org_id": account.org_id,
        "city": account.city,
        "display_name": account.display_name,
        "password_hash": account.password_hash,
        "status": account.status.value,
        "failed_logins": account.failed_logins,
        "locked_until": account.locked_until,
        "created_at": account.created_at,
        "password_changed_at": account.password_changed_at,
        "sessions_revoked_at": account.sessions_revoked_at,
        "token_version": account.token_version,
    }


def from_document(doc: Document) -> Account:
    return Account(
        id=str(doc["_id"]),
        username=doc["username"],
        role=Role(doc["role"]),
        org_id=doc.get("org_id"),
        city=doc.get("city"),
        display_name=doc.get("display_name") or doc["username"],
        password_hash=doc["password_hash"],
        status=AccountStatus(doc.get("status", AccountStatus.ACTIVE.value)),
        failed_logins=int(doc.get("failed_logins") or 0),
        locked_until=doc.get("locked_until"),
        created_at=doc["created_at"],
        password_changed_at=doc.get("password_changed_at") or doc["created_at"],
        sessions_revoked_at=doc.get("sessions_revoked_at"),
        token_version=int(doc.get("token_version") or 0),
    )


class MongoAccountRepository:
    def __init__(self, db: Database) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("username", unique=True, name="username_unique")
        await self.collection.create_index([("role", 1), ("org_id", 1)], name="role_org")
        # One person account per ID number (a person's organisation id is their ID number).
        await self.collection.create_index(
            "org_id", unique=True, partialFilterExpression={"role": Role.PERSON.value}, name=PERSON_INDEX
        )
        await self.collection.create_index([("city", 1), ("username", 1)], name="city_username")

    async def add(self, account: Account) -> None:
        try:
            await self.collection.insert_one(to_document(account))
        except DuplicateKeyError as exc:
            details = exc.details or {}
            if PERSON_INDEX in str(details.get("errmsg", "")) or details.get("keyPattern") == {"org_id": 1}:
                raise PersonAlreadyActive() from exc
            raise UsernameTaken(account.username) from exc

    async def by_username(self, username: str) -> Account | None:
        doc = await self.collection.find_one({"username": username})
        return from_document(doc) if doc else None

    async def by_id(self, account_id: str) -> Account | None:
        doc = await self.collection.find_one({"_id": account_id})
        return from_document(doc) if doc else None

    async def save_login_state(self, before: Account, after: Account) -> bool:
        """Write the lockout fields only if nobody changed them since `before` was read (compare-and-set)."""
        result = await self.collection.update_one(
            {
                "_id": before.id,
                "failed_logins": before.failed_logins,
                "locked_until": before.locked_until,
                "status": before.status.value,
            },
            {
                "$set": {
                    "failed_logins": after.failed_logins,
                    "locked_until": after.locked_until,
                    "status": after.status.value,
                }
            },
        )
        return result.matched_count == 1

    async def set_password(self, account_id: str, password_hash: str, changed_at: datetime) -> int:
        """Replace the hash and raise the token version (every token issued before stops working); returns
        the new version."""
        doc = await self.collection.find_one_and_update(
            {"_id": account_id},
            {
                "$set": {
                    "password_hash": password_hash,
                    "password_changed_at": changed_at,
                    "sessions_revoked_at": changed_at,
                },
                "$inc": {"token_version": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return int((doc or {}).get("token_version") or 0)

    async def rehash(self, account_id: str, old_hash: str, new_hash: str) -> None:
        """Upgrade a hash made with older parameters (keeps sessions; only if the password did not change)."""
        await self.collection.update_one(
            {"_id": account_id, "password_hash": old_hash}, {"$set": {"password_hash": new_hash}}
        )

    async def revoke_sessions(self, account_id: str, at: datetime) -> int:
        """Raise the token version (every token issued so far stops working); returns the new version."""
        doc = await self.collection.find_one_and_update(
            {"_id": account_id},
            {"$set": {"sessions_revoked_at": at}, "$inc": {"token_version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return int((doc or {}).get("token_version") or 0)

    async def set_disabled(self, account_id: str, disabled: bool, at: datetime) -> int:
        """Disable (a lock without end) or enable the account; disabling raises the token version. Returns
        the token version afterwards."""
        if disabled:
            update: dict[str, Any] = {
                "$set": {
                    "status": AccountStatus.LOCKED.value,
                    "locked_until": None,
                    "sessions_revoked_at": at,
                },
                "$inc": {"token_version": 1},
            }
        else:
            update = {
                "$set": {"status": AccountStatus.ACTIVE.value, "locked_until": None, "failed_logins": 0}
            }
        doc = await self.collection.find_one_and_update(
            {"_id": account_id}, update, return_document=ReturnDocument.AFTER
        )
        return int((doc or {}).get("token_version") or 0)

    async def count(self, query: dict[str, Any] | None = None) -> int:
        return await self.collection.count_documents(query or {})

    async def person_account(self, id_number: str) -> Account | None:
        doc = await self.collection.find_one({"role": Role.PERSON.value, "org_id": id_number})
        return from_document(doc) if doc else None

    async def search(self, query: AccountQuery) -> tuple[list[Account], int]:
        """A page sorted by username; the prefix is matched literally on the lower-cased username."""
        where: dict[str, Any] = {}
        if query.role is not None:
            where["role"] = query.role.value
        if query.city is not None:
            where["city"] = query.city
        if query.username_prefix:
            where["username"] = {"$regex": "^" + re.escape(query.username_prefix)}
        cursor = self.collection.find(where).sort("username", 1).skip(query.skip).limit(query.limit)
        accounts = [from_document(doc) async for doc in cursor]
        return accounts, await self.collection.count_documents(where)
