"""The retention of in-exam frames on the real stack (MongoDB, object store): the sweeper deletes the frames
taken more than EXAM_LIVE_FRAME_RETENTION_DAYS ago, keeps a violation's evidence and newer frames, and a
violation can no longer be based on a deleted frame. (The platform test moves the exam's clock over the
retention with the real sweeper: tests/integration/test_live_face_checks_it.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from exam.application import live
from exam.application.context import ExamRules
from exam.settings import ExamSettings
from minio.error import S3Error
from servicekit.errors import DomainError
from servicekit.mongo import create_client
from servicekit.objectstore import ObjectStore
from servicekit.settings import ServiceSettings
from servicekit.testing import unique_name

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def test_sweeper_deletes_old_frames_and_keeps_evidence(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(unique_name("exam"))
    rules = ExamRules.from_settings(ExamSettings())
    assert rules.live.retention == timedelta(days=30)
    objects = ObjectStore(settings)
    await objects.ensure_bucket()
    client = create_client(settings.mongo_url)
    db = client[settings.database_name]
    try:
        await live.ensure_indexes(db)
        frames = {"old": T0, "evidence": T0 + timedelta(minutes=1), "recent": T0 + timedelta(days=20)}
        keys = {name: f"live/c1/{name}.jpg" for name in frames}
        for name, taken in frames.items():
            await live.note_frame(db, keys[name], candidate_id="c1", check_id=name, now=taken)
            await objects.put(keys[name], name.encode(), "image/jpeg")
        await live.keep_as_evidence(db, keys["evidence"], "v1")

        # within the retention nothing goes
        assert await live.sweep_frames(db, objects, rules=rules, now=T0 + timedelta(days=29)) == 0
        # 31 days later: the old frame goes, the evidence and the recent frame stay
        assert await live.sweep_frames(db, objects, rules=rules, now=T0 + timedelta(days=31)) == 1
        with pytest.raises(S3Error):
            await objects.get(keys["old"])
        assert await objects.get(keys["evidence"]) == b"evidence"
        assert await objects.get(keys["recent"]) == b"recent"
        assert await live.sweep_frames(db, objects, rules=rules, now=T0 + timedelta(days=31)) == 0

        # a deleted frame cannot become evidence any more
        with pytest.raises(DomainError) as refused:
            await live.keep_as_evidence(db, keys["old"], "v2")
        assert refused.value.code == "live_frame_expired" and refused.value.status == 409

        # much later the recent frame goes too, the evidence never
        assert await live.sweep_frames(db, objects, rules=rules, now=T0 + timedelta(days=400)) == 1
        assert await objects.get(keys["evidence"]) == b"evidence"
        doc = await db[live.LIVE_FRAMES].find_one({"_id": keys["evidence"]})
        assert doc is not None and doc["evidence"] is True and doc["violation_ids"] == ["v1"]
    finally:
        await client.drop_database(settings.database_name)
        await client.close()
