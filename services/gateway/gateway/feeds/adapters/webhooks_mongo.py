"""Webhook subscriptions (`feed_webhooks`) and their last deliveries (`feed_deliveries`) in MongoDB.

    feed_webhooks   {_id, owner_account_id, owner_username, role, owner, scope, url, secret, description,
                     created_at, cursor, delivered, failed, last_success_at, last_failure_at, last_error,
                     current: {seq, event_id, attempts, next_at} | None}
    feed_deliveries {_id: "<subscription>:<seq>", subscription_id, seq, event_id, event_type, status,
                     attempts, status_code, error, duration_ms, created_at, at, next_at, replays}

The secret is kept as given (it signs every delivery, so it must be readable by the dispatcher); no answer
shows it again after the creation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from servicekit.mongo import Database, Document

from ..domain.webhooks import DeliveryStatus

WEBHOOKS = "feed_webhooks"
DELIVERIES = "feed_deliveries"


def delivery_id(subscription_id: str, seq: int) -> str:
    return f"{subscription_id}:{seq}"


class MongoWebhooks:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def ensure_indexes(self) -> None:
        await self.db[WEBHOOKS].create_indexes([IndexModel([("owner_account_id", ASCENDING)], name="owner")])
        await self.db[DELIVERIES].create_indexes(
            [
                IndexModel([("subscription_id", ASCENDING), ("seq", DESCENDING)], name="subscription_seq"),
                IndexModel(
                    [("subscription_id", ASCENDING), ("status", ASCENDING)], name="subscription_status"
                ),
            ]
        )

    # ------------------------------------------------------------------ subscriptions

    async def insert(self, document: Mapping[str, Any]) -> None:
        await self.db[WEBHOOKS].insert_one(dict(document))

    async def get(self, subscription_id: str) -> Document | None:
        return await self.db[WEBHOOKS].find_one({"_id": subscription_id})

    async def list_all(self, owner_account_id: str | None = None) -> list[Document]:
        query = {} if owner_account_id is None else {"owner_account_id": owner_account_id}
        return [doc async for doc in self.db[WEBHOOKS].find(query).sort("created_at", ASCENDING)]

    async def count_of(self, owner_account_id: str) -> int:
        return await self.db[WEBHOOKS].count_documents({"owner_account_id": owner_account_id})

    async def delete(self, subscription_id: str) -> bool:
        deleted = await self.db[WEBHOOKS].delete_one({"_id": subscription_id})
        await self.db[DELIVERIES].delete_many({"subscription_id": subscription_id})
        return deleted.deleted_count == 1

    async def trying(self, subscription_id: str, current: Mapping[str, Any]) -> None:
        await self.db[WEBHOOKS].update_one({"_id": subscription_id}, {"$set": {"current": dict(current)}})

    async def settled(
        self, subscription_id: str, *, seq: int, success: bool, at: datetime, error: str | None, replay: bool
    ) -> bool:
        """Count a settled delivery; a new entry's (not a replay's) also moves the cursor past `seq`. False
        when the subscription is gone."""
        changes: dict[str, Any] = (
            {"last_success_at": at} if success else {"last_failure_at": at, "last_error": error}
        )
        counters: dict[str, int] = {}
        if success:
            counters["delivered"] = 1
            if replay:
                counters["failed"] = -1  # a failed delivery that a replay delivered is no longer a failure
        elif not replay:
            counters["failed"] = 1
        update: dict[str, Any] = {"$set": changes}
        if counters:
            update["$inc"] = counters
        if not replay:
            update["$max"] = {"cursor": seq}
            changes["current"] = None
        result = await self.db[WEBHOOKS].update_one({"_id": subscription_id}, update)
        return result.matched_count == 1

    # ------------------------------------------------------------------ deliveries

    async def record(self, document: Mapping[str, Any]) -> None:
        """Create or update one delivery (its `_id` is `<subscription>:<seq>`)."""
        doc = dict(document)
        created = doc.pop("created_at")
        await self.db[DELIVERIES].update_one(
            {"_id": doc["_id"]}, {"$set": doc, "$setOnInsert": {"created_at": created}}, upsert=True
        )

    async def delivery(self, subscription_id: str, seq: int) -> Document | None:
        return await self.db[DELIVERIES].find_one({"_id": delivery_id(subscription_id, seq)})

    async def deliveries(self, subscription_id: str, limit: int, status: str | None = None) -> list[Document]:
        query: dict[str, Any] = {"subscription_id": subscription_id}
        if status:
            query["status"] = status
        cursor = self.db[DELIVERIES].find(query).sort("seq", DESCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def queue_replay(self, subscription_id: str, seq: int) -> Document | None:
        """A failed delivery back in the queue (None: there is no failed delivery of that entry)."""
        return await self.db[DELIVERIES].find_one_and_update(
            {"_id": delivery_id(subscription_id, seq), "status": DeliveryStatus.FAILED.value},
            {"$set": {"status": DeliveryStatus.QUEUED.value}, "$inc": {"replays": 1}},
            return_document=True,
        )

    async def queued(self, subscription_id: str, limit: int = 20) -> list[Document]:
        cursor = (
            self.db[DELIVERIES]
            .find({"subscription_id": subscription_id, "status": DeliveryStatus.QUEUED.value})
            .sort("seq", ASCENDING)
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def prune(self, subscription_id: str, keep: int) -> None:
        """Only the last `keep` deliveries of a subscription stay (failed ones waiting for a replay too)."""
        cursor = (
            self.db[DELIVERIES]
            .find({"subscription_id": subscription_id}, {"seq": 1})
            .sort("seq", DESCENDING)
            .skip(keep)
            .limit(1)
        )
        oldest_kept = [doc async for doc in cursor]
        if oldest_kept:
            await self.db[DELIVERIES].delete_many(
                {
                    "subscription_id": subscription_id,
                    "seq": {"$lte": int(oldest_kept[0]["seq"])},
                    "status": DeliveryStatus.DELIVERED.value,
                }
            )
