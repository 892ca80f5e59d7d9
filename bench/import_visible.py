"""A large summary-sheet import, end to end on the whole platform: how soon the rows are visible where people
look for them, and how the rest of the platform answers meanwhile.

The platform runs as in production (one uvicorn process per service, the local stack unless external servers
are named); an approved enterprise and an institution with an offer are set up over HTTP through the gateway,
then the enterprise uploads a sheet of N rows (`BENCH_IMPORT_ROWS`, default 5,000). Measured in one run:
- the import job's own duration (`seconds` of the job: read, validate, append) — the baseline;
- seconds from the upload until all N rows are in the institution's review queue, and until the gateway
  knows the persons (an activation code for the last row's ID number; one batch's events are applied in
  order), and the ratio of the later of the two to the job's duration (goal: ≤ 30 s for 5,000 rows);
- a cheap read on another service (registration's `GET /enterprises/me` through the gateway, standing in for
  the face check-in, which needs a whole exam session) every 0.1 s while the read models catch up: p50 / p99
  / max against the same read on the idle platform just before the upload.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from enrollment.domain.sheet import ID_NUMBER
from openpyxl import load_workbook
from servicekit.launcher import PLATFORM, ServiceProcesses
from servicekit.localstack import LocalStack, StackConfig, free_port, uses_external_servers

from bench.enrollment_import import build_sheet
from tests.integration.helpers import approved_enterprise, bearer, login, new_account, publish_offer

ROWS = 5000
GOAL_SECONDS = 30.0
GIVE_UP_SECONDS = 600.0  # a stall is printed, not waited for forever
IDLE_READS = 100
READ_EVERY = 0.1
READ_TIMEOUT = 30.0
POLL_TIMEOUT = 120.0
POLL_EVERY = 0.5
POSITION = "劳务员"


def _say(message: str) -> None:
    """Progress on stderr (the figures go to stdout)."""
    print(f"  [import_visible] {message}", file=sys.stderr, flush=True)


def sheet_numbers(sheet: bytes) -> list[str]:
    """The ID numbers of a summary sheet's rows, in row order."""
    workbook = load_workbook(io.BytesIO(sheet), read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        column = list(next(rows)).index(ID_NUMBER)
        return [str(row[column]) for row in rows]
    finally:
        workbook.close()


def _create_admin(platform: ServiceProcesses) -> tuple[str, str]:
    """The first administrator, with the gateway's CLI (as an operator does)."""
    password = "Adm1n-" + secrets.token_urlsafe(12)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "create-account",
            "--role",
            "admin",
            "--username",
            "bench-admin",
            "--display-name",
            "基准测试管理员",
            "--password-stdin",
        ],
        input=password,
        text=True,
        capture_output=True,
        env={**os.environ, **platform.env, "SERVICE_NAME": "gateway"},
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"gateway.cli create-account failed: {result.stderr or result.stdout}")
    return "bench-admin", password


def percentiles(seconds: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds (p99 of fewer than 100 samples is interpolated)."""
    ms = sorted(s * 1000 for s in seconds)
    if len(ms) < 2:
        return ms[0], ms[0], ms[0]
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return statistics.median(ms), cuts[98], ms[-1]


class CheapRead:
    """Registration's `GET /enterprises/me` through the gateway, one after another. A read that gets no answer
    within READ_TIMEOUT counts with that time (and in `timeouts`): a stall is a figure, not a crash."""

    def __init__(self, api: httpx.AsyncClient, token: str) -> None:
        self.api = api
        self.headers = bearer(token)
        self.timeouts = 0

    async def once(self) -> float:
        started = time.perf_counter()
        try:
            response = await self.api.get(
                "/api/registration/enterprises/me", headers=self.headers, timeout=READ_TIMEOUT
            )
        except httpx.TimeoutException:
            self.timeouts += 1
            return time.perf_counter() - started
        spent = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"cheap read answered {response.status_code}: {response.text[:200]}")
        return spent

    async def until(self, stop: asyncio.Event, into: list[float]) -> None:
        while not stop.is_set():
            into.append(await self.once())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), READ_EVERY)


async def measure(platform: ServiceProcesses, rows: int) -> dict[str, float | int | None]:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=POLL_TIMEOUT) as api:
        admin = (await login(api, *await asyncio.to_thread(_create_admin, platform)))["access_token"]
        _say("an institution with an offer, an approved enterprise")
        institution_id = f"inst-bench-{uuid.uuid4().hex[:6]}"
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, institution)
        enterprise = await approved_enterprise(api, admin)
        token = enterprise["access_token"]
        _say(f"building a sheet of {rows} rows")
        sheet = await asyncio.to_thread(build_sheet, rows)
        last_number = sheet_numbers(sheet)[-1]
        cheap = CheapRead(api, token)
        for _ in range(5):  # warm up connections
            await cheap.once()
        _say("cheap reads on the idle platform")
        idle: list[float] = []
        for _ in range(IDLE_READS):
            idle.append(await cheap.once())
            await asyncio.sleep(READ_EVERY)

        cheap.timeouts = 0
        started = time.perf_counter()
        upload = await api.post(
            "/api/enrollment/batches/import",
            headers=bearer(token),
            data={"institution_id": institution_id, "position": POSITION, "training_mode": "offline"},
            files={"file": ("汇总表.xlsx", sheet, "application/octet-stream")},
        )
        if upload.status_code != 202:
            raise RuntimeError(f"upload refused: {upload.status_code} {upload.text[:300]}")
        status_url = upload.json()["status_url"]
        _say("uploaded; waiting until the rows are visible")
        busy: list[float] = []
        stop = asyncio.Event()
        reader = asyncio.create_task(cheap.until(stop, busy))
        job: dict[str, Any] | None = None
        job_seen = queue_seen = gateway_seen = None
        try:
            while time.perf_counter() - started < GIVE_UP_SECONDS:
                await asyncio.sleep(POLL_EVERY)
                now = time.perf_counter() - started
                try:
                    if job is None:
                        answer = (await api.get(status_url, headers=bearer(token))).json()
                        if answer["state"] == "failed":
                            raise RuntimeError(f"import job failed: {str(answer.get('error'))[:300]}")
                        if answer["state"] == "succeeded":
                            job, job_seen = answer, time.perf_counter() - started
                            _say(f"job finished after {job_seen:.1f} s")
                    if queue_seen is None:
                        r = await api.get("/api/enrollment/review-queue?limit=1", headers=bearer(institution))
                        if r.status_code == 200 and r.json()["total"] >= rows:
                            queue_seen = time.perf_counter() - started
                            _say(f"all rows in the review queue after {queue_seen:.1f} s")
                    if gateway_seen is None:
                        r = await api.post(
                            f"/api/gateway/persons/{last_number}/activation-code", headers=bearer(token)
                        )
                        if r.status_code == 200:
                            gateway_seen = time.perf_counter() - started
                            _say(f"the gateway knows the persons after {gateway_seen:.1f} s")
                except httpx.TimeoutException:
                    _say(f"a poll got no answer within {POLL_TIMEOUT:.0f} s ({now:.0f} s after the upload)")
                    continue
                if job is not None and queue_seen is not None and gateway_seen is not None:
                    break
        finally:
            stop.set()
            await reader
    job_seconds = float(job["seconds"]) if job is not None else None
    idle_p50, idle_p99, idle_max = percentiles(idle)
    busy_p50, busy_p99, busy_max = percentiles(busy or [float("nan")])
    return {
        "job_seconds": job_seconds,
        "job_seen": job_seen,
        "queue_seen": queue_seen,
        "gateway_seen": gateway_seen,
        "idle_p50": idle_p50,
        "idle_p99": idle_p99,
        "idle_max": idle_max,
        "busy_p50": busy_p50,
        "busy_p99": busy_p99,
        "busy_max": busy_max,
        "busy_reads": len(busy),
        "busy_timeouts": cheap.timeouts,
    }


def _seconds(value: float | int | None) -> str:
    return f"{value:8.1f} s" if value is not None else f"  > {GIVE_UP_SECONDS:.0f} s (gave up)"


def report(rows: int, m: dict[str, float | int | None]) -> None:
    job = m["job_seconds"]
    seen = [m["queue_seen"], m["gateway_seen"]]
    visible = max(s for s in seen if s is not None) if all(s is not None for s in seen) else None
    print(f"\nimport visible, {rows} rows (.xlsx summary sheet, one batch), whole platform, one run")
    ratio = f"ratio {visible / job:.1f} of the job" if visible is not None and job else ""
    lines = [
        ("import job's own duration (read, validate, append)", _seconds(job), "baseline"),
        ("upload → job finished (as the client sees it)", _seconds(m["job_seen"]), ""),
        ("upload → all rows in the review queue", _seconds(m["queue_seen"]), ""),
        ("upload → gateway knows the persons", _seconds(m["gateway_seen"]), ""),
        ("upload → visible in both", _seconds(visible), f"{ratio}; goal ≤ {GOAL_SECONDS:.0f} s"),
    ]
    for label, figure, note in lines:
        print(f"  {label:<52} {figure:<22} {note}")
    idle = [float(m[k] or 0) for k in ("idle_p50", "idle_p99", "idle_max")]
    busy = [float(m[k] or 0) for k in ("busy_p50", "busy_p99", "busy_max")]
    print("  registration GET /enterprises/me through the gateway (stands in for the face check-in):")
    for label, (p50, p99, top), note in [
        (f"idle, {IDLE_READS} reads before the upload", idle, "baseline"),
        (
            f"while the read models catch up, {m['busy_reads']} reads "
            f"({m['busy_timeouts']} > {READ_TIMEOUT:.0f} s)",
            busy,
            f"ratio p50 {busy[0] / idle[0]:.1f}, p99 {busy[1] / idle[1]:.1f}",
        ),
    ]:
        print(f"    {label:<50} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {top:7.1f} ms  {note}")
    print(f"  (machine: {os.cpu_count()} CPU cores; every database shares one local MongoDB server process)")


async def main(rows: int) -> None:
    stack: LocalStack | None = None
    if uses_external_servers(os.environ):
        env = {k: v for k, v in os.environ.items() if k.startswith(("KAFKA_", "S3_", "MONGO_"))}
    else:
        data = Path(tempfile.mkdtemp(prefix="bench-import-stack-"))
        stack = LocalStack(StackConfig.load_or_create(data, free_ports=True))
        await asyncio.to_thread(stack.start)
        env = stack.env()
    env = {
        **env,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "CERTIFICATION_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    logs = Path(tempfile.mkdtemp(prefix="bench-import-logs-"))
    platform = ServiceProcesses(env, {spec.name: free_port() for spec in PLATFORM}, log_dir=logs)
    try:
        _say(f"starting the platform (logs in {logs})")
        await asyncio.to_thread(platform.start, 240)
        measured = await measure(platform, rows)
    finally:
        await asyncio.to_thread(platform.stop)
        if stack is not None:
            await asyncio.to_thread(stack.stop)
    report(rows, measured)


def run(rows: int | None = None) -> None:
    asyncio.run(main(rows or int(os.environ.get("BENCH_IMPORT_ROWS", str(ROWS)))))


if __name__ == "__main__":
    run()
