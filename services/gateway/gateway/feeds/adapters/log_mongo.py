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

    async def lookups(self, session: Session, keys: Sequence[str]) -> dict[str, Document]:
        if not keys:
            return {}
        ids = list(dict.fromkeys(keys))
        return {d["_id"]: d async for d in self.db[FEED_LOOKUPS].find({"_id": {"$in": ids}}, session=session)}

    async def person(self, session: Session, id_number: str) -> Document | None:
        return await self.db[PERSONS].find_one(
            {"_id": id_number.strip().upper()}, {"enterprise_ids": 1, "institution_ids": 1}, session=session
        )

    async def learn(self, session: Session, found: Mapping[str, Mapping[str, Any]]) -> None:
        if found:
            writes = [
                ReplaceOne({"_id": key}, {"_id": key, **doc}, upsert=True) for key, doc in found.items()
            ]
            await self.db[FEED_LOOKUPS].bulk_write(writes, ordered=False, session=session)

    async def contains(self, session: Session, event_id: str) -> bool:
        return (
            await self.db[FEED_LOG].find_one({"event_id": event_id}, {"_id": 1}, session=session) is not None
        )

    async def append(self, session: Session, entry: Mapping[str, Any]) -> int:
        """Take the next sequence number and insert the entry under it (in the caller's transaction)."""
        counter = await self.db[FEED_META].find_one_and_update(
            {"_id": SEQ_ID},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert counter is not None
        seq = int(counter["seq"])
        await self.db[FEED_LOG].insert_one(
            {"_id": seq, **entry, "appended_at": datetime.now(UTC)}, session=session
        )
        return seq

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
