"""The messages in MongoDB: the `notifications` collection holds every inbox message and every SMS.

    inbox: {_id, event_id, event_type, kind, recipient, channel: "inbox", title, body, occurred_at,
            created_at, read, read_at}
    sms:   {_id, event_id, kind, recipient, channel: "sms", mobile, id_number, text, status, created_at,
            sent_at}   (the activation codes' SMS have the same shape with a random `_id` and `expires_at`)

Exactly once: a message's `_id` is derived from (event id, recipient, channel) — the unique `_id` index is
the key — and it is written with `$setOnInsert` upserts, so a redelivered or re-published event writes
nothing new (and never aborts the consumer's transaction with a duplicate-key error).

Frugal with the shared MongoDB (see gateway/projections/persons.py): per event, point reads by `_id` of the
lookups and ONE unordered bulk write of its messages. The lookups are kept from earlier events by the same
consumer: `notify_enterprises` (enterprise id → name and contact mobile) and `notify_applicants` (applicant
id → ID number and name, one bulk write per import); the person's mobile comes from the gateway's `persons`
read model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, ReplaceOne, UpdateOne
from servicekit.mongo import Database, Session

COLLECTION = "notifications"
ENTERPRISES = "notify_enterprises"
APPLICANTS = "notify_applicants"
PERSONS = "persons"

INBOX = "inbox"
SMS = "sms"
PENDING = "pending"
SENT = "sent"


def message_id(event_id: str, recipient: str, channel: str) -> str:
    """The key of a message: the same event, recipient and channel always give the same id."""
    return hashlib.sha256(f"{event_id}|{recipient}|{channel}".encode()).hexdigest()[:32]


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class MessageStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.messages = db[COLLECTION]
        self.enterprises = db[ENTERPRISES]
        self.applicants = db[APPLICANTS]
        self.persons = db[PERSONS]

    async def ensure_indexes(self) -> None:
        await self.messages.create_index(
            [("recipient", 1), ("created_at", DESCENDING)],
            name="inbox_recipient",
            partialFilterExpression={"channel": INBOX},
        )
        await self.messages.create_index(
            [("recipient", 1), ("created_at", DESCENDING)],
            name="inbox_unread",
            partialFilterExpression={"channel": INBOX, "read": False},
        )
        await self.messages.create_index(
            [("created_at", 1)], name="sms_pending", partialFilterExpression={"status": PENDING}
        )

    # ------------------------------------------------------------------ the consumer's side

    async def remember_enterprise(self, session: Session, enterprise_id: str, name: str, mobile: str) -> None:
        values = {k: v for k, v in (("name", name), ("mobile", mobile)) if v}
        if values:
            await self.enterprises.update_one(
                {"_id": enterprise_id}, {"$set": values}, upsert=True, session=session
            )

    async def remember_applicants(self, session: Session, applicants: Sequence[tuple[str, str, str]]) -> None:
        """(applicant id, ID number, name) of an import: one unordered bulk write of plain replacements."""
        if applicants:
            await self.applicants.bulk_write(
                [
                    ReplaceOne({"_id": applicant_id}, {"id_number": id_number, "name": name}, upsert=True)
                    for applicant_id, id_number, name in applicants
                ],
                ordered=False,
                session=session,
            )

    async def enterprise(self, session: Session, enterprise_id: str) -> dict[str, Any]:
        found = await self.enterprises.find_one({"_id": enterprise_id}, session=session)
        return dict(found or {})

    async def applicant(self, session: Session, applicant_id: str) -> dict[str, Any]:
        found = await self.applicants.find_one({"_id": applicant_id}, session=session)
        return dict(found or {})

    async def person_mobile(self, session: Session, id_number: str) -> str:
        found = await self.persons.find_one({"_id": id_number}, {"mobile": 1}, session=session)
        mobile = (found or {}).get("mobile", "")
        return mobile if isinstance(mobile, str) else ""

    async def write(self, session: Session, documents: Sequence[dict[str, Any]]) -> None:
        """Insert the messages that are not there yet (by `_id`); existing ones are left untouched."""
        if documents:
            await self.messages.bulk_write(
                [UpdateOne({"_id": d["_id"]}, {"$setOnInsert": d}, upsert=True) for d in documents],
                ordered=False,
                session=session,
            )

    # ------------------------------------------------------------------ the inbox

    async def inbox(
        self, recipient: str, *, unread_only: bool, page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]:
        query: dict[str, Any] = {"recipient": recipient, "channel": INBOX}
        if unread_only:
            query["read"] = False
        total = await self.messages.count_documents(query)
        cursor = (
            self.messages.find(query)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        items = [{k: _aware(v) for k, v in doc.items()} async for doc in cursor]
        return items, total

    async def unread_count(self, recipient: str) -> int:
        return await self.messages.count_documents({"recipient": recipient, "channel": INBOX, "read": False})

    async def mark_read(self, recipient: str, message: str, now: datetime) -> bool:
        """False: no such message in this recipient's inbox."""
        found = await self.messages.find_one_and_update(
            {"_id": message, "recipient": recipient, "channel": INBOX},
            [{"$set": {"read": True, "read_at": {"$ifNull": ["$read_at", now]}}}],
            projection={"_id": 1},
        )
        return found is not None

    async def mark_all_read(self, recipient: str, now: datetime) -> int:
        result = await self.messages.update_many(
            {"recipient": recipient, "channel": INBOX, "read": False},
            {"$set": {"read": True, "read_at": now}},
        )
        return result.modified_count

    # ------------------------------------------------------------------ the SMS dispatcher

    async def pending_sms(self, limit: int) -> list[dict[str, Any]]:
        cursor = self.messages.find({"status": PENDING}).sort("created_at", 1).limit(limit)
        return [doc async for doc in cursor]

    async def mark_sent(self, ids: Sequence[str], now: datetime) -> None:
        await self.messages.update_many(
            {"_id": {"$in": list(ids)}, "status": PENDING}, {"$set": {"status": SENT, "sent_at": now}}
        )
