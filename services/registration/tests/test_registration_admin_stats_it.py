"""The administrator's counts of registrations per city and status, on a real MongoDB read model."""

from __future__ import annotations

import uuid

import pytest
from registration.api.admin_stats import registration_stats
from registration.projections.enterprises import COLLECTION
from servicekit.mongo import create_client

pytestmark = pytest.mark.integration


async def test_registrations_per_city_and_status(stack_env: dict[str, str]) -> None:
    client = create_client(stack_env["MONGO_URL"])
    db = client[f"regstats-{uuid.uuid4().hex[:8]}"]
    try:
        await db[COLLECTION].insert_many(
            [
                {"_id": "e1", "city": "杭州", "status": "submitted"},
                {"_id": "e2", "city": "杭州", "status": "submitted"},
                {"_id": "e3", "city": "杭州", "status": "approved"},
                {"_id": "e4", "city": "宁波", "status": "rejected"},
            ]
        )
        stats = await registration_stats(db)
        (table,) = stats.tables
        assert [c.label for c in table.columns] == ["待审核", "审核通过", "审核不通过"]
        rows = {r.key: (r.counts, r.total) for r in table.rows}
        assert rows == {
            "杭州": ({"submitted": 2, "approved": 1, "rejected": 0}, 3),
            "宁波": ({"submitted": 0, "approved": 0, "rejected": 1}, 1),
        }
        assert [r.key for r in table.rows] == ["杭州", "宁波"], "the busiest city first"
        assert (
            table.totals.counts == {"submitted": 2, "approved": 1, "rejected": 1} and table.totals.total == 4
        )
    finally:
        await client.drop_database(db.name)
        await client.close()
