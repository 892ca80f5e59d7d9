"""The face worker's reference cache against real object storage (the local stack's S3): a known head photo
is neither read nor embedded again, a deleted one answers `reference_unusable`, an overwritten one is read
again, another key is another entry. No Kafka: `FaceWorker.check` is what the loop calls for each request."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path

import numpy as np
import pytest
from events import FaceCheckRequested
from exam.faceworker.analysis import check_faces
from exam.faceworker.settings import FaceWorkerSettings
from exam.faceworker.worker import FaceWorker
from PIL import Image
from servicekit import faces
from servicekit.objectstore import ObjectStore
from servicekit.testing import unique_name

pytestmark = pytest.mark.integration

FACES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "faces"


def photo(name: str) -> bytes:
    return (FACES / f"{name}.jpg").read_bytes()


def request(bucket: str, frame_key: str, reference_key: str) -> FaceCheckRequested:
    check_id = uuid.uuid4().hex
    return FaceCheckRequested(
        check_id=check_id,
        candidate_id="cand-1",
        session_id="sess-1",
        attempt_no=1,
        frame_bucket=bucket,
        frame_key=frame_key,
        reference_bucket=bucket,
        reference_key=reference_key,
    )


async def test_the_worker_keeps_a_prepared_head_photo_until_its_object_changes(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = unique_name("faces")
    settings = FaceWorkerSettings(
        kafka_bootstrap_servers=stack_env["KAFKA_BOOTSTRAP_SERVERS"],
        s3_endpoint=stack_env["S3_ENDPOINT"],
        s3_access_key=stack_env.get("S3_ACCESS_KEY", ""),
        s3_secret_key=stack_env.get("S3_SECRET_KEY", ""),
        face_reference_cache_size=2,
    )
    store = ObjectStore(settings, bucket=bucket)
    await store.ensure_bucket()
    for name in ("obama", "obama2", "obama3", "biden"):
        await store.put(f"{name}.jpg", photo(name), "image/jpeg")
    worker = FaceWorker(settings)
    stop = asyncio.Event()
    embedded: list[int] = []
    real = faces.embedding

    def counting(rgb: np.ndarray, face: faces.Face) -> np.ndarray:
        embedded.append(1)
        return real(rgb, face)

    monkeypatch.setattr(faces, "embedding", counting)

    first = await worker.check(request(bucket, "obama2.jpg", "obama.jpg"), stop)
    assert worker.last_measurements["reference"] == "miss" and len(embedded) == 2
    second = await worker.check(request(bucket, "obama3.jpg", "obama.jpg"), stop)
    assert worker.last_measurements["reference"] == "hit" and len(embedded) == 3  # the frame only
    again = await worker.check(request(bucket, "obama2.jpg", "obama.jpg"), stop)
    assert len(embedded) == 4 and (worker.references.hits, worker.references.misses) == (2, 1)

    direct = check_faces(photo("obama2"), photo("obama"))
    assert (first.match, first.distance, first.quality_flags) == (direct.match, direct.distance, [])
    assert (again.match, again.distance) == (first.match, first.distance)
    assert second.match and not second.replay_suspected

    # another key is another entry (the bound is 2: the least recently used goes)
    await worker.check(request(bucket, "obama2.jpg", "biden.jpg"), stop)
    await worker.check(request(bucket, "biden.jpg", "obama3.jpg"), stop)
    assert worker.last_measurements["reference"] == "miss"
    assert (bucket, "obama.jpg") not in worker.references and len(worker.references) == 2

    # overwritten in place (the platform never does it): the new bytes are read and prepared again
    blank = io.BytesIO()
    Image.new("RGB", (295, 413), "white").save(blank, "JPEG")
    await store.put("biden.jpg", blank.getvalue(), "image/jpeg")
    overwritten = await worker.check(request(bucket, "obama2.jpg", "biden.jpg"), stop)
    assert worker.last_measurements["reference"] == "miss"
    assert overwritten.quality_flags == ["reference_unusable"] and not overwritten.match

    # deleted: the cached entry does not answer for it
    await worker.check(request(bucket, "obama.jpg", "obama3.jpg"), stop)
    assert worker.last_measurements["reference"] == "hit"
    await store.remove("obama3.jpg")
    gone = await worker.check(request(bucket, "obama.jpg", "obama3.jpg"), stop)
    assert worker.last_measurements["reference"] == "missing"
    assert gone.quality_flags == ["reference_unusable"] and not gone.match and gone.distance is None
    assert (bucket, "obama3.jpg") not in worker.references
