"""The feed log in MongoDB: `feed_log` (one entry per public event, `_id` = its sequence number), the counter
`feed_meta` {_id: "seq", seq} and the lookups `feed_lookups` ({_id: "<kind>:<id>", ...}, `_id` reads only).

The sequence is gap-free and follows commit order: the counter document is incremented inside the
consumer's transaction that inserts the entries, so two writers (two gateway replicas) serialise on it (the
second one meets a write conflict and retries) and a reader never sees entry N+1 before entry N.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne, ReturnDocument
from servicekit.mongo import Database, Document, Session

FEED_LOG = "feed_log"
FEED_META = "feed_meta"
FEED_LOOKUPS = "feed_lookups"
PERSONS = "persons"  # the gateway's read model (gateway.projections.persons), read only
SEQ_ID = "seq"


class MongoFeedLog:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def ensure_indexes(self) -> None:
        await self.db[FEED_LOG].create_indexes(
            [
                IndexModel([("event_id", ASCENDING)], name="event_id", unique=True),
                IndexModel([("scopes", ASCENDING), ("_id", ASCENDING)], name="scope_seq"),
            ]
        )

    # ------------------------------------------------------------------ the writer (in a transaction)

    async def existing(self, session: Session, event_ids: Sequence[str]) -> set[str]:
        cursor = self.db[FEED_LOG].find(
            {"event_id": {"$in": list(event_ids)}}, {"event_id": 1}, session=session
        )
        return {doc["event_id"] async for doc in cursor}

    async def lookups(self, session: Session, keys: Sequence[str]) -> dict[str, Document]:
        if not keys:
            return {}
        ids = list(dict.fromkeys(keys))
        return {d["_id"]: d async for d in self.db[FEED_LOOKUPS].find({"_id": {"$in": ids}}, session=session)}

    async def persons(self, session: Session, id_numbers: Sequence[str]) -> dict[str, Document]:
        ids = list(dict.fromkeys(n for n in id_numbers if n))
        if not ids:
            return {}
        cursor = self.db[PERSONS].find(
            {"_id": {"$in": ids}}, {"enterprise_ids": 1, "institution_ids": 1}, session=session
        )
        return {doc["_id"]: doc async for doc in cursor}

    async def learn(self, session: Session, found: Mapping[str, Mapping[str, Any]]) -> None:
        if found:
            writes = [
                ReplaceOne({"_id": key}, {"_id": key, **doc}, upsert=True) for key, doc in found.items()
            ]
            await self.db[FEED_LOOKUPS].bulk_write(writes, ordered=False, session=session)

    async def append_many(self, session: Session, entries: Sequence[Mapping[str, Any]]) -> list[int]:
        """Take the next `len(entries)` sequence numbers and insert the entries under them (in the caller's
        transaction: the counter's write serialises concurrent writers)."""
        if not entries:
            return []
        counter = await self.db[FEED_META].find_one_and_update(
            {"_id": SEQ_ID},
            {"$inc": {"seq": len(entries)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert counter is not None
        last = int(counter["seq"])
        first = last - len(entries) + 1
        now = datetime.now(UTC)
        documents = [{"_id": first + n, **entry, "appended_at": now} for n, entry in enumerate(entries)]
        await self.db[FEED_LOG].insert_many(documents, ordered=True, session=session)
        return [doc["_id"] for doc in documents]

    # ------------------------------------------------------------------ readers

    async def head(self) -> int:
        doc = await self.db[FEED_LOG].find_one({}, {"_id": 1}, sort=[("_id", DESCENDING)])
        return int(doc["_id"]) if doc else 0

    async def read(self, scope: str, after: int, limit: int) -> list[Document]:
        cursor = (
            self.db[FEED_LOG]
            .find({"scopes": scope, "_id": {"$gt": after}})
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def entry(self, seq: int) -> Document | None:
        return await self.db[FEED_LOG].find_one({"_id": seq})

    async def count_after(self, scope: str, after: int, cap: int = 10_000) -> int:
        return await self.db[FEED_LOG].count_documents({"scopes": scope, "_id": {"$gt": after}}, limit=cap)
