"""Face workers at exam peaks: throughput of 1 and 2 worker processes for a check-in burst and for the
in-exam re-check load, the backlog drain time, and the latency of an alert, on the real local stack with
real worker processes (`python -m exam.faceworker`), 640×480 frames.

The work (made from the labeled photos in tests/fixtures/faces): each candidate has a 295×413 head photo of
their own (its own object key, as enrollment stores them) and sends 640×480 webcam-like frames, the face
140–260 px wide; one candidate in ten is an impostor (another person's frames: every check of theirs is a
mismatch, i.e. an alert for the proctor). Requests are published as the exam service's relay does (keyed by
the candidate, so a candidate's checks go to one partition, hence to the worker that cached the photo); the
candidate ids are chosen so that the 6 partitions get equal shares.

Measured in one run:
- baseline (in this process, CPU time, `time.process_time`): one in-exam check against a prepared (cached)
  head photo, `check_frame`, and the same check without the cache, `check_faces` (the head photo decoded,
  searched and embedded again); checks/s per core = 1000 / CPU ms;
- for 1 and then 2 fresh workers (N candidates per worker, face.requests with 6 partitions):
  check-in burst: every candidate's first check queued at once (the head photos are not cached yet): drain
  time and checks/s; in-exam: ROUNDS rounds of one frame per candidate ("one frame per minute", compressed:
  queued at once, the head photos cached by check-in): drain time and checks/s; the ratio 2 workers / 1
  worker (goal ≥ 1.8 on 2 free cores); the workers' CPU per check (utime + stime of the worker processes
  over the phase, / checks: decoding, faces, Kafka, S3, logs), the figure deploy/k8s/CAPACITY.md starts from;
- in-exam at a steady pace with 1 worker: N candidates × one frame per compressed minute, the minute chosen
  so that the offered load is PACE (70 %) of the 1-worker in-exam throughput just measured: checks/s, and
  the latency from publishing the request to receiving FaceChecked, p50/p95/max, for all checks and for the
  alerts (the impostors' mismatches) alone: the "latency of an alert" before the exam service's own steps.

Do not trust figures measured while other programs load the machine (it has to be quiet for the ratio 2/1).
BENCH_SCALING_CANDIDATES (per worker, default 30), BENCH_SCALING_ROUNDS (default 3), BENCH_SCALING_PACE
(default 0.7). Alone: `python -m bench face_scaling`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np
from aiokafka.partitioner import DefaultPartitioner
from events import Envelope, FaceChecked, FaceCheckRequested
from exam.faceworker.analysis import check_faces, check_frame, prepare_reference
from exam.faceworker.probe import FaceCheckProbe
from PIL import Image
from servicekit import faces
from servicekit.launcher import PLATFORM, ServiceProcesses
from servicekit.objectstore import ObjectStore
from servicekit.settings import ServiceSettings

from bench.face_check import _group_settled
from bench.stack import kafka_and_storage

FACES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "faces"
BUCKET = "bench-face-scaling"
PARTITIONS = 6
IMPOSTOR_EVERY = 10
FACE_WIDTHS = (140, 180, 220, 260)
GENUINE = ("obama2", "obama3")  # frames of the person of the head photo (made from obama.jpg)
IMPOSTOR = "biden"


def is_impostor(index: int) -> bool:
    """Candidates 0, 10, 20 … send another person's frames."""
    return index % IMPOSTOR_EVERY == 0


# ---- the images ----


def _jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@functools.cache
def _photo(name: str) -> Image.Image:
    return Image.open(FACES / f"{name}.jpg").convert("RGB")


def webcam_frame(name: str, face_px: int) -> bytes:
    """640×480: the person's head and shoulders, the face about `face_px` wide, on a grey background."""
    img = _photo(name)
    left, top, right, bottom = faces.detect_faces(np.asarray(img), upsample=0)[0].box
    width = right - left
    crop = img.crop((max(0, left - width), max(0, top - width), right + width, bottom + width))
    crop = crop.resize((round(crop.width * face_px / width), round(crop.height * face_px / width)))
    canvas = Image.new("RGB", (640, 480), (120, 120, 120))
    canvas.paste(crop, ((640 - crop.width) // 2, (480 - crop.height) // 2))
    return _jpeg(canvas)


def head_photo() -> bytes:
    """A 295×413 enrollment head photo made from obama.jpg."""
    return _jpeg(_photo("obama").resize((295, 413)), quality=70)


@dataclass
class Frames:
    """The frame objects: genuine ones (of the head photo's person) and an impostor's, by face width."""

    genuine: list[str] = field(default_factory=list)
    impostor: list[str] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def make(cls) -> Frames:
        frames = cls()
        for width in FACE_WIDTHS:
            for name in GENUINE:
                key = f"frames/{name}-{width}.jpg"
                frames.data[key] = webcam_frame(name, width)
                frames.genuine.append(key)
            key = f"frames/{IMPOSTOR}-{width}.jpg"
            frames.data[key] = webcam_frame(IMPOSTOR, width)
            frames.impostor.append(key)
        return frames

    def for_candidate(self, index: int, round_no: int) -> str:
        pool = self.impostor if is_impostor(index) else self.genuine
        return pool[(index + round_no) % len(pool)]


# ---- in this process: the baseline ----


def cpu_ms_per_check(frames: Frames, reference: bytes) -> tuple[float, float]:
    """CPU milliseconds (median) of an in-exam check with the head photo prepared (cached), and without."""
    prepared = prepare_reference(reference)
    keys = frames.genuine + frames.impostor
    check_frame(frames.data[keys[0]], prepared)  # warm up
    cached, uncached = [], []
    for _ in range(2):
        for key in keys:
            started = time.process_time()
            check_frame(frames.data[key], prepared)
            cached.append(time.process_time() - started)
            started = time.process_time()
            check_faces(frames.data[key], reference)
            uncached.append(time.process_time() - started)
    return statistics.median(cached) * 1000, statistics.median(uncached) * 1000


# ---- the workers ----


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes (Linux /proc), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return total / ticks


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident size (VmHWM) among the processes, in MB."""
    peaks = [0.0]
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


class Bench(FaceCheckProbe):
    """Publishes requests keyed by candidate and notes when each answer arrives."""

    def __init__(self, settings: ServiceSettings) -> None:
        super().__init__(settings)
        self.store = ObjectStore(settings, bucket=BUCKET)
        self.arrival: dict[str, float] = {}
        self.sent: dict[str, float] = {}

    async def start(self) -> Self:
        await self.store.ensure_bucket()
        return await super().start()

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or []))
                    answer = envelope.decode()
                    if isinstance(answer, FaceChecked):
                        self.answers.setdefault(answer.check_id, []).append((envelope, answer))
                        self.arrival.setdefault(answer.check_id, now)
                        self.arrived.set()

    async def request(self, candidate: str, frame_key: str, reference_key: str) -> str:
        check_id = uuid.uuid4().hex
        request = FaceCheckRequested(
            check_id=check_id,
            candidate_id=candidate,
            session_id="bench",
            attempt_no=1,
            frame_bucket=BUCKET,
            frame_key=frame_key,
            reference_bucket=BUCKET,
            reference_key=reference_key,
        )
        self.sent[check_id] = time.perf_counter()
        await self.publish(request, source="/bench")  # keyed by the candidate, as the relay does
        return check_id

    def latency_ms(self, check_id: str) -> float:
        return (self.arrival[check_id] - self.sent[check_id]) * 1000

    def split(self, ids: list[str]) -> str:
        counts: dict[str, int] = {}
        for check_id in ids:
            worker = self.answers[check_id][0][1].worker or "?"
            counts[worker] = counts.get(worker, 0) + 1
        return "/".join(str(v) for v in sorted(counts.values(), reverse=True))


@dataclass
class Phase:
    checks: int
    seconds: float  # from the first request published to the last answer received: the backlog drain time
    cpu_seconds: float  # of the worker processes
    split: str

    @property
    def rate(self) -> float:
        return self.checks / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds / self.checks * 1000


@dataclass
class Paced:
    checks: int
    seconds: float
    minute_seconds: float
    latencies: list[float]
    alert_latencies: list[float]


def _candidates(run: str, n: int) -> list[tuple[str, str]]:
    """(candidate id, head photo key) of `n` candidates, keys of their own for each run (nothing cached). The
    ids are picked so that the relay's key hash puts candidate i in partition i mod 6: the workers get equal
    shares, and the ratio 2/1 measures the workers, not the luck of the hash (real ids spread ±10–20 %
    between partitions: deploy/k8s/CAPACITY.md)."""
    partitioner = DefaultPartitioner()
    partitions = list(range(PARTITIONS))
    people = []
    for i in range(n):
        salt = 0
        while partitioner(f"{run}-{i:04d}-{salt}".encode(), partitions, partitions) != i % PARTITIONS:
            salt += 1
        people.append((f"{run}-{i:04d}-{salt}", f"references/{run}/{i:04d}.jpg"))
    return people


async def _queued(bench: Bench, pids: list[int], work: list[tuple[str, str, str]]) -> Phase:
    cpu = cpu_seconds(pids)
    started = time.perf_counter()
    ids = [await bench.request(*item) for item in work]
    await bench.wait(ids)
    seconds = max(bench.arrival[i] for i in ids) - started
    return Phase(len(ids), seconds, cpu_seconds(pids) - cpu, bench.split(ids))


async def _paced(
    bench: Bench, frames: Frames, people: list[tuple[str, str]], rounds: int, rate: float
) -> Paced:
    """`rounds` compressed minutes, the candidates' requests spread evenly over each at `rate` checks/s."""
    interval = 1 / rate
    ids: list[str] = []
    alerts: list[str] = []
    started = time.perf_counter()
    for round_no in range(rounds):
        for index, (candidate, reference_key) in enumerate(people):
            due = started + (round_no * len(people) + index) * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            check_id = await bench.request(candidate, frames.for_candidate(index, round_no), reference_key)
            ids.append(check_id)
            if is_impostor(index):
                alerts.append(check_id)
    await bench.wait(ids)
    seconds = max(bench.arrival[i] for i in ids) - started
    mismatches = [c for c in alerts if not bench.answers[c][0][1].match]
    return Paced(
        checks=len(ids),
        seconds=seconds,
        minute_seconds=len(people) * interval,
        latencies=[bench.latency_ms(i) for i in ids],
        alert_latencies=[bench.latency_ms(i) for i in mismatches],
    )


@dataclass
class Run:
    workers: int
    checkin: Phase
    in_exam: Phase
    paced: Paced | None = None
    peak_rss_mb: float = 0.0


async def _one_run(
    env: dict[str, str],
    bench: Bench,
    frames: Frames,
    workers: int,
    per_worker: int,
    rounds: int,
    pace: float | None,
) -> Run:
    logs = Path(tempfile.mkdtemp(prefix=f"bench-face-scaling-{workers}-"))
    no_ports = {spec.name: 0 for spec in PLATFORM}  # no service runs here, only face workers
    processes = ServiceProcesses(env, no_ports, log_dir=logs, specs=(), face_workers=workers)
    run_id = f"w{workers}-{uuid.uuid4().hex[:6]}"
    people = _candidates(run_id, workers * per_worker)
    reference = head_photo()
    for _, key in people:
        await bench.store.put(key, reference, "image/jpeg")
    try:
        await asyncio.to_thread(processes.start, 120)
        await _group_settled(processes)
        pids = [proc.pid for proc in processes.face_workers]
        warm = _candidates(f"{run_id}-warm", 2 * PARTITIONS)  # one request per partition or so: models warm
        for _, key in warm:
            await bench.store.put(key, reference, "image/jpeg")
        await bench.wait([await bench.request(c, frames.genuine[0], k) for c, k in warm])
        checkin = await _queued(
            bench, pids, [(c, frames.for_candidate(i, 0), k) for i, (c, k) in enumerate(people)]
        )
        in_exam = await _queued(
            bench,
            pids,
            [
                (c, frames.for_candidate(i, r), k)
                for r in range(1, rounds + 1)
                for i, (c, k) in enumerate(people)
            ],
        )
        paced = None
        if pace is not None:
            paced = await _paced(bench, frames, people, rounds, pace * in_exam.rate)
        return Run(workers, checkin, in_exam, paced, peak_rss_mb(pids))
    finally:
        await asyncio.to_thread(processes.stop)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.0f}  p95 {p95:6.0f}  max {ordered[-1]:6.0f} ms"


def report(cached_ms: float, uncached_ms: float, one: Run, two: Run, rounds: int, pace: float) -> None:
    print("\nface workers at exam peaks: 640×480 frames, 1 in 10 candidates an impostor, one stack, one run")
    print("  baseline, in this process, CPU time per check (time.process_time, median):")
    print(
        f"    {'in-exam check, head photo cached':<44} {cached_ms:7.0f} ms CPU  "
        f"= {1000 / cached_ms:5.1f} checks/s per core (goal ≥ 10)"
    )
    print(
        f"    {'same check, head photo not cached':<44} {uncached_ms:7.0f} ms CPU  "
        f"= {1000 / uncached_ms:5.1f} checks/s per core; cached/uncached ratio {cached_ms / uncached_ms:.2f}"
    )
    for label, pick in (("check-in burst (head photos not cached)", "checkin"), ("in-exam", "in_exam")):
        a: Phase = getattr(one, pick)
        b: Phase = getattr(two, pick)
        extra = (
            f", {rounds} round{'s' if rounds != 1 else ''} of one frame per candidate, queued at once"
            if pick == "in_exam"
            else ""
        )
        print(f"  {label}{extra}:")
        for run, phase in ((one, a), (two, b)):
            print(
                f"    {run.workers} worker{'s' if run.workers > 1 else ' '} {phase.checks:5d} checks: "
                f"{phase.rate:6.2f} checks/s ({phase.rate / run.workers:5.2f} per worker), "
                f"backlog drained in {phase.seconds:6.1f} s, worker CPU {phase.cpu_ms:5.0f} ms/check "
                f"(ratio {phase.cpu_ms / cached_ms:.2f} of baseline), split {phase.split}"
            )
        print(f"    ratio 2 workers / 1 worker: {b.rate / a.rate:.2f} (goal ≥ 1.8 on 2 free cores)")
    paced = one.paced
    if paced is not None:
        print(
            f"  in-exam at a steady pace, 1 worker: {paced.checks} checks, one frame per candidate every "
            f"{paced.minute_seconds:.1f} s (= a minute, compressed; offered {pace:.0%} of the 1-worker "
            f"in-exam rate)"
        )
        print(
            f"    {paced.checks / paced.seconds:6.2f} checks/s; "
            f"request → FaceChecked: {_percentiles(paced.latencies)}"
        )
        print(
            f"    alerts (impostor mismatches, {len(paced.alert_latencies)}): "
            f"{_percentiles(paced.alert_latencies)}"
        )
    print(
        f"  worker peak RSS {max(one.peak_rss_mb, two.peak_rss_mb):.0f} MB "
        f"(with {one.checkin.checks} head photos cached in the 1-worker run)"
    )
    print(
        f"  (machine: {os.cpu_count()} CPU cores; one check uses one core; "
        "figures from a busy machine are void)"
    )


async def main(per_worker: int, rounds: int, pace: float) -> None:
    frames = Frames.make()
    reference = head_photo()
    await asyncio.to_thread(faces.load_models)
    cached_ms, uncached_ms = cpu_ms_per_check(frames, reference)

    async with kafka_and_storage("bench-face-scaling", partitions=PARTITIONS) as bench_stack:
        env, settings = bench_stack.env, bench_stack.settings
        bench = Bench(settings)
        try:
            await bench.start()
            for key, data_bytes in frames.data.items():
                await bench.store.put(key, data_bytes, "image/jpeg")
            one = await _one_run(env, bench, frames, 1, per_worker, rounds, pace)
            two = await _one_run(env, bench, frames, 2, per_worker, rounds, None)
        finally:
            with contextlib.suppress(Exception):
                await bench.stop()
        report(cached_ms, uncached_ms, one, two, rounds, pace)


def run() -> None:
    asyncio.run(
        main(
            int(os.environ.get("BENCH_SCALING_CANDIDATES", "30")),
            int(os.environ.get("BENCH_SCALING_ROUNDS", "3")),
            float(os.environ.get("BENCH_SCALING_PACE", "0.7")),
        )
    )


if __name__ == "__main__":
    run()
