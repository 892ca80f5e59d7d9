"""The administrator's counts of applicants per city (the employer's) and status, on real read models."""

from __future__ import annotations

import uuid

import pytest
from enrollment.api.admin_stats import enrollment_stats
from enrollment.projections.read_models import APPLICANTS, ENTERPRISES
from servicekit.mongo import create_client

pytestmark = pytest.mark.integration


async def test_applicants_per_city_and_status(stack_env: dict[str, str]) -> None:
    client = create_client(stack_env["MONGO_URL"])
    db = client[f"enrstats-{uuid.uuid4().hex[:8]}"]
    try:
        await db[ENTERPRISES].insert_many(
            [
                {"_id": "ent-hz", "city": "杭州"},
                {"_id": "ent-hz2", "city": "杭州"},
                {"_id": "ent-nb", "city": "宁波"},
            ]
        )
        await db[APPLICANTS].insert_many(
            [
                {"_id": "a1", "enterprise_id": "ent-hz", "status": "pending"},
                {"_id": "a2", "enterprise_id": "ent-hz2", "status": "pending"},
                {"_id": "a3", "enterprise_id": "ent-hz", "status": "exam_passed"},
                {"_id": "a4", "enterprise_id": "ent-nb", "status": "qualified"},
                {"_id": "a5", "enterprise_id": "ent-unknown", "status": "rejected"},
            ]
        )
        (table,) = (await enrollment_stats(db)).tables
        rows = {r.key: r for r in table.rows}
        assert set(rows) == {"杭州", "宁波", "（未填写）"}
        assert rows["杭州"].counts["pending"] == 2 and rows["杭州"].counts["exam_passed"] == 1
        assert rows["杭州"].total == 3 and rows["宁波"].counts["qualified"] == 1
        assert rows["（未填写）"].counts["rejected"] == 1, "an enterprise enrollment has not heard of yet"
        assert table.rows[-1].key == "（未填写）" and table.totals.total == 5
        assert {c.key: c.label for c in table.columns}["pending"] == "待审核"
    finally:
        await client.drop_database(db.name)
        await client.close()
