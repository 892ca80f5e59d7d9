"""The administrator's counts of exam sessions and candidates per position, with the pass rate."""

from __future__ import annotations

import uuid

import pytest
from exam.api.admin_stats import exam_stats
from exam.projections.candidates import CANDIDATES
from exam.projections.sessions import SESSIONS
from servicekit.mongo import create_client

pytestmark = pytest.mark.integration


async def test_sessions_and_pass_rates_per_position(stack_env: dict[str, str]) -> None:
    client = create_client(stack_env["MONGO_URL"])
    db = client[f"examstats-{uuid.uuid4().hex[:8]}"]
    try:
        await db[SESSIONS].insert_many(
            [
                {"_id": "s1", "position": "施工员", "status": "scheduled"},
                {"_id": "s2", "position": "施工员", "status": "cancelled"},
                {"_id": "s3", "position": "安全员", "status": "scheduled"},
            ]
        )
        await db[CANDIDATES].insert_many(
            [
                {"_id": "c1", "position": "施工员", "status": "passed"},
                {"_id": "c2", "position": "施工员", "status": "passed"},
                {"_id": "c3", "position": "施工员", "status": "failed"},
                {"_id": "c4", "position": "施工员", "status": "scheduled"},
                {"_id": "c5", "position": "安全员", "status": "schedulable"},
            ]
        )
        sessions, candidates = (await exam_stats(db)).tables
        assert {r.key: r.counts for r in sessions.rows} == {
            "施工员": {"scheduled": 1, "cancelled": 1},
            "安全员": {"scheduled": 1, "cancelled": 0},
        }
        rows = {r.key: r for r in candidates.rows}
        assert rows["施工员"].rate == pytest.approx(0.6667) and rows["施工员"].total == 4
        assert rows["安全员"].rate is None, "nobody sat yet"
        assert candidates.rate_label == "合格率" and candidates.totals.rate == pytest.approx(0.6667)
        assert "城市" in candidates.note
    finally:
        await client.drop_database(db.name)
        await client.close()
