"""Face check at check-in: milliseconds per check end to end, beside the raw face work, and checks per second
per worker, on the real local stack with real worker processes (`python -m exam.faceworker`).

Measured in one run, on the same N frame + reference pairs (the labeled photos in tests/fixtures/faces, every
ordered pair of two different photos, repeated to N):
- baseline: in this process, the raw dlib work of a check: decode both JPEGs, shrink to 800 px, detect the
  faces, compute both embeddings and their distance;
- analysis: `exam.faceworker.analysis.check_faces` in this process (baseline + quality flags + replay test);
- end to end, one at a time: the frame and the reference in object storage, FaceCheckRequested published on
  face.requests, one worker reads both objects, analyses, publishes FaceChecked on face.events, the bench
  receives it: milliseconds per check and the ratio to the baseline (the overhead of the transport);
- throughput: N checks queued at once, answered by one worker, then 2N by two workers (checks per second
  per worker). face.requests gets 6 partitions here, and the requests are spread over them evenly, so that two
  workers get equal shares (with the platform's default of 3 partitions two workers split 2:1).

The workers keep each head photo prepared (exam.faceworker.references): the first end-to-end pass reads and
embeds each reference once (each pair has its own reference key), the later passes find them cached, so the
queued figures are those of checks that embed the frame only. bench/face_scaling.py measures check-in
(not cached) and in-exam (cached) loads apart, with 640×480 frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Self

from events import FaceCheckRequested
from exam.faceworker.analysis import FaceRules, check_faces
from exam.faceworker.probe import FaceCheckProbe, log_events
from servicekit import faces
from servicekit.launcher import PLATFORM, ServiceProcesses
from servicekit.objectstore import ObjectStore
from servicekit.settings import ServiceSettings

from bench.stack import kafka_and_storage

FACES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "faces"
BUCKET = "bench-faces"
PARTITIONS = 6


def pairs(n: int) -> list[tuple[bytes, bytes]]:
    photos = [p.read_bytes() for p in sorted(FACES.glob("*.jpg"))]
    every = [(a, b) for a, b in itertools.permutations(photos, 2)]
    return [every[i % len(every)] for i in range(n)]


def raw_check(frame: bytes, reference: bytes, max_side: int = FaceRules().analysis_max_side) -> float:
    """The dlib work alone: decode, shrink, detect, embed both, distance (what a check cannot do without)."""
    import cv2

    embeddings = []
    for data in (frame, reference):
        rgb = faces.decode_rgb(data)
        height, width = rgb.shape[:2]
        scale = min(1.0, max_side / max(height, width))
        if scale < 1.0:
            rgb = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        found = faces.detect_faces(rgb, upsample=0) or faces.detect_faces(rgb, upsample=1)
        embeddings.append(faces.embedding(rgb, found[0]))
    return faces.distance(embeddings[0], embeddings[1])


def per_check_ms(work: list[tuple[bytes, bytes]], *checks: Any) -> list[float]:
    """Median milliseconds of each check over the pairs, the checks interleaved pair by pair (so that a
    burst of load on the machine weighs on all of them alike)."""
    times: list[list[float]] = [[] for _ in checks]
    for frame, reference in work:
        for check, spent in zip(checks, times, strict=True):
            started = time.perf_counter()
            check(frame, reference)
            spent.append((time.perf_counter() - started) * 1000)
    return [statistics.median(spent) for spent in times]


class Bench(FaceCheckProbe):
    """Publishes requests the way the exam service does and collects the answers from face.events."""

    def __init__(self, settings: ServiceSettings) -> None:
        super().__init__(settings)
        self.store = ObjectStore(settings, bucket=BUCKET)
        self._sent = 0

    async def start(self) -> Self:
        await self.store.ensure_bucket()
        return await super().start()

    async def upload(self, work: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
        keys = []
        for i, (frame, reference) in enumerate(work):
            frame_key, reference_key = f"frames/{i}.jpg", f"references/{i}.jpg"
            await self.store.put(frame_key, frame, "image/jpeg")
            await self.store.put(reference_key, reference, "image/jpeg")
            keys.append((frame_key, reference_key))
        return keys

    async def request(self, frame_key: str, reference_key: str) -> str:
        check_id = uuid.uuid4().hex
        request = FaceCheckRequested(
            check_id=check_id,
            candidate_id=f"bench-{check_id[:8]}",
            session_id="bench",
            attempt_no=1,
            frame_bucket=BUCKET,
            frame_key=frame_key,
            reference_bucket=BUCKET,
            reference_key=reference_key,
        )
        partition = self._sent % PARTITIONS  # evenly over the partitions, hence over the workers
        self._sent += 1
        await self.publish(request, source="/bench", partition=partition)
        return check_id

    async def one_at_a_time(self, keys: list[tuple[str, str]]) -> tuple[float, float]:
        """Milliseconds per check, each published after the previous answer arrived, and of that the time
        the worker reports for reading the objects and analysing (`elapsed_ms`); both medians."""
        times, inside = [], []
        for frame_key, reference_key in keys:
            started = time.perf_counter()
            check_id = await self.request(frame_key, reference_key)
            await self.wait([check_id])
            times.append((time.perf_counter() - started) * 1000)
            inside.append(self.answers[check_id][0][1].elapsed_ms or 0.0)
        return statistics.median(times), statistics.median(inside)

    async def queued(self, keys: list[tuple[str, str]]) -> tuple[float, dict[str, int]]:
        """Seconds to answer all `keys` published at once, and how many each worker answered."""
        started = time.perf_counter()
        ids = [await self.request(frame_key, reference_key) for frame_key, reference_key in keys]
        await self.wait(ids)
        seconds = time.perf_counter() - started
        split: dict[str, int] = {}
        for check_id in ids:
            worker = self.answers[check_id][0][1].worker
            split[worker] = split.get(worker, 0) + 1
        return seconds, split


def _assigned(log: Path | None) -> bool:
    """The worker's last `faceworker.assigned` log line names partitions."""
    last = log_events(log, "faceworker.assigned")[-1:]
    return bool(last and last[0].get("partitions"))


async def _group_settled(workers: ServiceProcesses, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_assigned(workers.face_worker_log(i)) for i in range(len(workers.face_workers))):
            await asyncio.sleep(1.0)
            return
        await asyncio.sleep(0.3)
    raise TimeoutError("face workers did not all get partitions")


async def main(n: int) -> None:
    async with kafka_and_storage("bench-face", partitions=PARTITIONS) as bench_stack:
        env, settings = bench_stack.env, bench_stack.settings
        work = pairs(n)
        logs = Path(tempfile.mkdtemp(prefix="bench-face-logs-"))
        no_ports = {spec.name: 0 for spec in PLATFORM}  # no service runs here, only face workers
        workers = ServiceProcesses(env, no_ports, log_dir=logs, specs=(), face_workers=1)
        bench = Bench(settings)
        try:
            await asyncio.to_thread(faces.load_models)
            raw_check(*work[0])  # warm up
            check_faces(*work[0])
            baseline, analysis = per_check_ms(work, raw_check, check_faces)
            await bench.start()
            keys = await bench.upload(work)
            await asyncio.to_thread(workers.start, 120)
            await _group_settled(workers)
            await bench.wait([await bench.request(*keys[0])])  # warm up the worker
            end_to_end, in_worker = await bench.one_at_a_time(keys)
            one_seconds, _ = await bench.queued(keys)
            workers.start_face_worker()
            await asyncio.to_thread(workers.wait_ready, 120)
            await _group_settled(workers)
            await bench.wait([await bench.request(*k) for k in keys[:PARTITIONS]])  # warm up the new one
            two_seconds, split = await bench.queued(keys + keys)
        finally:
            await asyncio.to_thread(workers.stop)
            with contextlib.suppress(Exception):
                await bench.stop()
        one_rate = n / one_seconds
        two_rate = 2 * n / two_seconds
        shares = "/".join(str(v) for v in sorted(split.values(), reverse=True))
        print(f"\nface check, {n} frame+reference pairs (tests/fixtures/faces), one stack, one run, medians")
        rows = [
            ("raw decode+detect+embed ×2, in-process", f"{baseline:8.0f} ms/check", "baseline"),
            (
                "full analysis (flags, replay), in-proc.",
                f"{analysis:8.0f} ms/check",
                f"ratio {analysis / baseline:.2f}",
            ),
            (
                "S3+Kafka+1 worker, one at a time",
                f"{end_to_end:8.0f} ms/check",
                f"ratio {end_to_end / baseline:.2f} of baseline",
            ),
            (
                "  of which in the worker (S3 reads+analysis)",
                f"{in_worker:8.0f} ms/check",
                f"transport overhead {end_to_end - in_worker:.0f} ms (ratio {end_to_end / in_worker:.2f})",
            ),
            ("1 worker, queued", f"{one_rate:8.2f} checks/s", f"({one_seconds:6.2f} s for {n})"),
            (
                "2 workers, queued",
                f"{two_rate:8.2f} checks/s",
                f"({two_seconds:6.2f} s for {2 * n}) = {two_rate / 2:.2f} per worker, split {shares}, "
                f"ratio {two_rate / one_rate:.2f} of 1 worker",
            ),
        ]
        for label, figure, note in rows:
            print(f"  {label:<42} {figure:<16} {note}")
        print(f"  (machine: {os.cpu_count()} CPU cores; a worker uses one core per check)")


def run(n: int | None = None) -> None:
    asyncio.run(main(n or int(os.environ.get("BENCH_FACE_CHECKS", "20"))))


if __name__ == "__main__":
    run()
