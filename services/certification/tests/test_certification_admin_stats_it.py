"""The administrator's counts of certificates per state, by the issuing institution's city and by position."""

from __future__ import annotations

import uuid

import pytest
from certification.api.admin_stats import LEGACY, certification_stats
from certification.projections.read_models import CERTIFICATES, INSTITUTIONS
from servicekit.mongo import create_client

pytestmark = pytest.mark.integration


async def test_certificates_per_state_by_city_and_position(stack_env: dict[str, str]) -> None:
    client = create_client(stack_env["MONGO_URL"])
    db = client[f"certstats-{uuid.uuid4().hex[:8]}"]
    try:
        await db[INSTITUTIONS].insert_many([{"_id": "i-hz", "city": "杭州"}, {"_id": "i-wz", "city": "温州"}])
        await db[CERTIFICATES].insert_many(
            [
                {"_id": "c1", "institution_id": "i-hz", "position": "施工员", "state": "valid"},
                {"_id": "c2", "institution_id": "i-hz", "position": "施工员", "state": "revoked"},
                {"_id": "c3", "institution_id": "i-wz", "position": "安全员", "state": "lapsed"},
                {"_id": "c4", "institution_id": None, "position": "安全员", "state": "valid", "legacy": True},
            ]
        )
        by_city, by_position = (await certification_stats(db)).tables
        assert [c.label for c in by_city.columns] == ["有效", "已失效", "已更新", "已注销"]
        cities = {r.key: r.counts for r in by_city.rows}
        assert cities["杭州"] == {"valid": 1, "lapsed": 0, "superseded": 0, "revoked": 1}
        assert cities["温州"]["lapsed"] == 1 and cities[LEGACY]["valid"] == 1
        assert {r.key: r.total for r in by_position.rows} == {"施工员": 2, "安全员": 2}
        assert by_position.totals.counts["valid"] == 2
    finally:
        await client.drop_database(db.name)
        await client.close()
