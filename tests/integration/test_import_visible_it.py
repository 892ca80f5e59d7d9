"""A large summary sheet becomes visible everywhere soon after the import, and the platform stays responsive
while the read models catch up.

Regression test for an import of 5,000 rows whose job finished in seconds while the institution's review
queue and the gateway's persons took over 38 minutes to show them, and every other service's database work
crawled meanwhile: the gateway's persons projection updated each person with an `$or` filter, which the local
MongoDB server answers by scanning the whole collection (under one lock shared by every database). Here
2,000 rows must be in the review queue and known to the gateway within 90 s — or, on a machine so busy that
a 200-row import already takes long, within 20 times what that import took in the same run (ten times the
rows, twice the time per row: linear; the defect above was quadratic) — and cheap requests on another
service must keep answering meanwhile (nine in ten within 5 s).

It runs on a platform of its own (own local stack, empty databases, default settings as `make run`): on the
session's shared stack, after some 800 s of other tests, CI once saw the 2,000 rows take over 88 s where the
200-row baseline of the same run took under 5 s (docs/operations.md, "Known open defect"). What the
projections logged as slow is printed when it fails.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

from bench.enrollment_import import build_sheet
from bench.import_visible import sheet_numbers

from .conftest import create_admin, own_platform
from .helpers import approved_enterprise, bearer, eventually, login, new_account, publish_offer, wait_job

pytestmark = pytest.mark.integration

ROWS = 2000
BASELINE_ROWS = 200
VISIBLE_WITHIN = 90.0  # seconds from the upload, on a machine that is not busier than usual
SCALE = 2 * ROWS / BASELINE_ROWS  # otherwise: times the baseline import's own time (same run)
# A cheap request on another service meanwhile: nine in ten within 5 s (the regression held every request up
# for as long as the projections worked: minutes), none beyond a minute. A single request held up for 26–36 s
# during the import was seen twice in full-suite runs and is not explained yet (an open defect, see
# docs/operations.md): it is printed, and bounded, not hidden.
CHEAP_REQUEST_LIMIT = 5.0  # seconds, for nine requests in ten
CHEAP_REQUEST_WORST = 60.0  # seconds, for any


@pytest.fixture(scope="module")
def quiet_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcesses]:
    """Every service on a stack of its own, as `make run` starts it (no face workers: no face checks here)."""
    with own_platform(Path(tmp_path_factory.mktemp("import-visible")), {}, face_workers=0) as services:
        yield services


def slow_batches(platform: ServiceProcesses) -> str:
    """What the consumers logged as slow batches (printed when the test fails)."""
    assert platform.log_dir is not None
    lines = [
        f"{log.name}: {line}"
        for log in sorted(platform.log_dir.glob("*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if "slow_batch" in line
    ]
    return "\n".join(lines[-40:]) or "(no slow batch logged)"


@pytest.mark.timeout(900)
async def test_large_import_is_visible_soon_and_others_stay_responsive(
    quiet_platform: ServiceProcesses,
) -> None:
    platform = quiet_platform
    admin_credentials = create_admin(platform)
    try:
        await check_import_visibility(platform, admin_credentials)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\nslow batches:\n{slow_batches(platform)}") from failure


async def check_import_visibility(platform: ServiceProcesses, admin_credentials: tuple[str, str]) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-big-{uuid.uuid4().hex[:6]}"
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        await publish_offer(api, institution)
        enterprise = await approved_enterprise(api, admin)
        token = enterprise["access_token"]

        async def cheap_request() -> float:
            started = time.perf_counter()
            response = await api.get("/api/registration/enterprises/me", headers=bearer(token))
            assert response.status_code == 200, response.text
            return time.perf_counter() - started

        async def import_until_visible(rows: int, position: str, within: float) -> tuple[float, float]:
            """Import `rows` rows for `position`; (seconds the job took, seconds until visible everywhere)."""
            sheet = await asyncio.to_thread(build_sheet, rows)
            numbers = sheet_numbers(sheet)
            assert len(numbers) == rows
            started = time.perf_counter()
            upload = await api.post(
                "/api/enrollment/batches/import",
                headers=bearer(token),
                data={"institution_id": institution_id, "position": position, "training_mode": "offline"},
                files={"file": ("汇总表.xlsx", sheet, "application/octet-stream")},
            )
            assert upload.status_code == 202, upload.text
            job = await wait_job(api, token, upload.json()["status_url"], timeout=within)
            assert job["state"] == "succeeded", job
            assert job["result"]["count"] == rows
            job_seconds = time.perf_counter() - started

            async def all_in_review_queue() -> int | None:
                r = await api.get(
                    f"/api/enrollment/review-queue?limit=1&position={position}", headers=bearer(institution)
                )
                assert r.status_code == 200, r.text
                total = int(r.json()["total"])
                return total if total == rows else None

            async def gateway_knows(number: str) -> bool:
                r = await api.post(f"/api/gateway/persons/{number}/activation-code", headers=bearer(token))
                assert r.status_code in (200, 404), r.text  # 404 person_not_found until the projection has it
                return r.status_code == 200

            await eventually(
                all_in_review_queue,
                timeout=within - job_seconds,
                what=f"{rows} applicants in the review queue",
            )
            # one batch's events are applied in order: the last row known means every row is
            await eventually(
                lambda: gateway_knows(numbers[-1]),
                timeout=within - (time.perf_counter() - started),
                what="the gateway to know the last row's person",
            )
            visible_seconds = time.perf_counter() - started
            assert await gateway_knows(numbers[0])
            return job_seconds, visible_seconds

        idle = [await cheap_request() for _ in range(5)]
        # the baseline: a tenth of the rows, for another position (the same people may enroll for it)
        _, baseline_seconds = await import_until_visible(BASELINE_ROWS, "资料员", within=600)
        limit = max(VISIBLE_WITHIN, SCALE * baseline_seconds)

        latencies: list[float] = []
        done = asyncio.Event()

        async def probe_other_service() -> None:
            while not done.is_set():
                latencies.append(await cheap_request())
                await asyncio.sleep(0.25)

        prober = asyncio.create_task(probe_other_service())
        try:
            job_seconds, visible_seconds = await import_until_visible(ROWS, "劳务员", within=limit)
        finally:
            done.set()
            await prober

    print(
        f"\n{BASELINE_ROWS} rows visible after {baseline_seconds:.1f} s; "
        f"{ROWS} rows: job {job_seconds:.1f} s, visible in the review queue and the gateway after "
        f"{visible_seconds:.1f} s (limit {limit:.0f} s); "
        f"registration's /enterprises/me meanwhile: {len(latencies)} requests, "
        f"max {max(latencies):.2f} s (idle max {max(idle):.2f} s)"
    )
    assert visible_seconds < limit
    assert len(latencies) >= 10, latencies
    ordered = sorted(latencies)
    assert ordered[int(0.9 * len(ordered))] < CHEAP_REQUEST_LIMIT, ordered[-10:]
    assert ordered[-1] < CHEAP_REQUEST_WORST, ordered[-5:]
