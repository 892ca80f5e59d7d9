"""The feed log on MongoDB: two writers appending at the same time (two gateway replicas) get gap-free
sequence numbers, and a reader polling meanwhile never sees an entry before every earlier one is there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from gateway.feeds.adapters.log_mongo import MongoFeedLog
from gateway.settings import GatewaySettings
from servicekit.mongo import create_client, in_transaction

pytestmark = pytest.mark.integration

BATCHES = 12
PER_BATCH = 5


async def test_concurrent_writers_gap_free_in_commit_order(
    gateway_settings: Callable[..., GatewaySettings],
) -> None:
    settings = gateway_settings()
    client: Any = create_client(settings.mongo_url)
    try:
        database = client[settings.database_name]
        log = MongoFeedLog(database)
        await log.ensure_indexes()
        done = asyncio.Event()
        violations: list[str] = []
        seen: list[int] = []

        async def writer(name: str) -> None:
            for batch in range(BATCHES):
                entries = [
                    {"event_id": f"{name}-{batch}-{n}", "type": "t.E.v1", "data": {}, "scopes": ["province"]}
                    for n in range(PER_BATCH)
                ]

                async def work(session: Any, entries: list[dict[str, Any]] = entries) -> list[int]:
                    numbers = await log.append_many(session, entries)
                    await asyncio.sleep(0.005)  # hold the transaction open a little: the writers overlap
                    return numbers

                await in_transaction(client, work, attempts=50)

        async def reader() -> None:
            cursor = 0
            while not done.is_set() or cursor < 2 * BATCHES * PER_BATCH:
                page = await log.read("province", cursor, 500)
                for entry in page:
                    if int(entry["_id"]) != cursor + 1:
                        violations.append(f"after {cursor} came {entry['_id']}")
                    cursor = int(entry["_id"])
                    seen.append(cursor)
                if done.is_set() and not page:
                    break
                await asyncio.sleep(0.002)

        reading = asyncio.create_task(reader())
        await asyncio.gather(writer("a"), writer("b"))
        done.set()
        await asyncio.wait_for(reading, timeout=30)
        assert violations == []
        assert seen == list(range(1, 2 * BATCHES * PER_BATCH + 1))
        assert await log.head() == 2 * BATCHES * PER_BATCH
    finally:
        await client.close()
