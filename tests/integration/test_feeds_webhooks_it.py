"""Back offices follow their events by feed and by webhook (issue 18), with the reference receiver of
examples/webhook_receiver.

A city authority (舟山) and an institution each register endpoints served by the reference receiver (real
uvicorn processes that verify the signature and the timestamp and store each event once by id); the
institution also registers an endpoint that accepts the connection and never answers, and the city one that
points at a port nothing listens on (2 attempts). Then an enterprise of 舟山 registers and is approved,
enrolls 300 staff with the institution, and the institution qualifies them in one request. Checked:

- the pull feed: read in small pages, each from the previous cursor (a reconnect each time), it gives the same
  events as one read, none twice; masked per role (the city sees masked ID numbers, the institution full);
  another city's reviewer sees none of them; other roles get 403, anonymous callers 401;
- Server-Sent Events: a stream dropped and resumed with `Last-Event-ID` repeats nothing;
- webhooks: both receivers store their events (signatures verified there); the endpoint that never answers
  holds back nobody; the dead endpoint's deliveries fail after their attempts, and once a receiver listens
  there the administrator replays them and they arrive;
- printed once: how fast the 300 qualifications reach the feed log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses
from servicekit.localstack import free_port

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    publish_offer,
)

pytestmark = pytest.mark.integration

RECEIVER_DIR = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver"
CITY = "舟山"
OTHER_CITY = "丽水"
STAFF = 300


class Receiver:
    def __init__(self, root: Path, name: str, port: int | None = None, secret: str | None = None) -> None:
        self.secret = secret or secrets.token_urlsafe(32)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "RECEIVER_SECRET": self.secret,
            "RECEIVER_DB": str(root / f"{name}.sqlite3"),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(RECEIVER_DIR),
                "app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / f"{name}.log", "w"),  # noqa: SIM115 - closed with the process
        )

    async def ready(self, api: httpx.AsyncClient) -> None:
        async def up() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return (await api.get(f"{self.url}/healthz")).status_code == 200
            return False

        await eventually(up, timeout=30, what="the reference receiver to listen")

    async def events(self, api: httpx.AsyncClient) -> dict[str, Any]:
        r = await api.get(f"{self.url}/events", params={"limit": 5000})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.stop()


@contextlib.asynccontextmanager
async def silent_endpoint() -> AsyncIterator[str]:
    """An endpoint that accepts connections, reads, and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(Exception):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def read_all(api: httpx.AsyncClient, token: str, after: str, limit: int = 500) -> tuple[list[Any], str]:
    """Every event after `after` there is now (pages of `limit`), and the last cursor."""
    events: list[Any] = []
    while True:
        r = await api.get("/api/feeds/events", headers=bearer(token), params={"after": after, "limit": limit})
        assert r.status_code == 200, r.text
        page = r.json()
        events += page["events"]
        if not page["events"]:
            return events, page["cursor"]
        after = page["cursor"]


async def subscribe(api: httpx.AsyncClient, token: str, url: str, **extra: Any) -> dict[str, Any]:
    r = await api.post("/api/feeds/webhooks", headers=bearer(token), json={"url": url, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def staff(count: int) -> list[dict[str, Any]]:
    first = date(1970, 1, 1) + timedelta(days=random.randrange(0, 8000))
    return [
        {
            "name": f"员工{n}",
            "gender": "男" if n % 2 else "女",
            "id_number": make_id_number(first + timedelta(days=n), male=bool(n % 2), region="330902"),
            "mobile": f"139{random.randrange(10**8):08d}",
            "education": "大专",
            "employer": "杭州建工集团有限公司",  # the name registration_form gives the enterprise
        }
        for n in range(count)
    ]


@pytest.mark.timeout(240)
async def test_back_offices_follow_their_events(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], receivers: list[Receiver], tmp_path: Path
) -> None:
    started = time.perf_counter()
    async with (
        httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api,
        silent_endpoint() as silent,
    ):
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-feeds-{uuid.uuid4().hex[:6]}"
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        reviewer = await new_account(api, admin, "reviewer", city=CITY)
        other_reviewer = await new_account(api, admin, "reviewer", city=OTHER_CITY)

        # Who may read a feed.
        assert (await api.get("/api/feeds/events")).status_code == 401
        # Where each back office starts: the current end of its feed.
        _, city_start = await read_all(api, reviewer, "")
        _, institution_start = await read_all(api, institution, "")
        _, other_start = await read_all(api, other_reviewer, "")

        city_receiver = Receiver(tmp_path, "city")
        institution_receiver = Receiver(tmp_path, "institution")
        receivers += [city_receiver, institution_receiver]
        await city_receiver.ready(api)
        await institution_receiver.ready(api)
        dead_port = free_port()
        city_hook = await subscribe(
            api, reviewer, f"{city_receiver.url}/webhook", secret=city_receiver.secret
        )
        institution_hook = await subscribe(
            api, institution, f"{institution_receiver.url}/webhook", secret=institution_receiver.secret
        )
        silent_hook = await subscribe(api, institution, silent, description="从不应答")
        dead_secret = secrets.token_urlsafe(32)
        dead_hook = await subscribe(
            api, reviewer, f"http://127.0.0.1:{dead_port}/webhook", secret=dead_secret, max_attempts=2
        )
        hooks = [city_hook, institution_hook, silent_hook, dead_hook]
        try:
            assert silent_hook["secret_generated"] and len(silent_hook["secret"]) >= 32
            refused = await api.post(
                "/api/feeds/webhooks", headers=bearer(reviewer), json={"url": "http://bo.example.cn/h"}
            )
            assert refused.status_code == 422 and refused.json()["code"] == "webhook_url_not_https"

            # The commands: an enterprise of 舟山 registered and approved, 300 staff enrolled and qualified.
            await publish_offer(api, institution)
            enterprise = await approved_enterprise(api, admin, city=CITY)
            enterprise_id = enterprise["org_id"]
            forbidden = await api.get("/api/feeds/events", headers=bearer(enterprise["access_token"]))
            assert forbidden.status_code == 403 and forbidden.json()["code"] == "role_forbidden"
            people = staff(STAFF)
            batch = await api.post(
                "/api/enrollment/batches",
                headers=bearer(enterprise["access_token"]),
                json={
                    "institution_id": institution_id,
                    "position": "安全员",
                    "training_mode": "offline",
                    "applicants": people,
                },
            )
            assert batch.status_code == 201, batch.text[:800]
            applicant_ids = set(batch.json()["applicant_ids"])

            # The dead endpoint gives its first deliveries up after 2 attempts each.
            async def dead_failures() -> list[Any] | None:
                r = await api.get(
                    f"/api/feeds/webhooks/{dead_hook['webhook']['id']}/deliveries",
                    headers=bearer(admin),
                    params={"status": "failed"},
                )
                assert r.status_code == 200, r.text
                failed = r.json()["deliveries"]
                return failed if len(failed) >= 2 else None

            failed = await eventually(dead_failures, timeout=30, what="the dead endpoint's failures")
            assert all(d["attempts"] == 2 and d["error"] for d in failed)

            reviewed_at = time.perf_counter()
            review = await api.post(
                "/api/enrollment/applicants/review",
                headers=bearer(institution),
                json={"applicant_ids": sorted(applicant_ids), "decision": "approve"},
            )
            assert review.status_code == 204, review.text

            phases = {"setup and commands": reviewed_at - started}
            # Pull feed of the institution: the 300 qualifications arrive (measured once).
            qualified: set[str] = set()
            cursor = institution_start
            first_seen = last_seen = 0.0
            deadline = time.perf_counter() + 90
            while len(qualified) < STAFF and time.perf_counter() < deadline:
                r = await api.get(
                    "/api/feeds/events",
                    headers=bearer(institution),
                    params={"after": cursor, "limit": 500, "wait": 5},
                )
                assert r.status_code == 200, r.text
                page = r.json()
                cursor = page["cursor"]
                new = {
                    e["data"]["applicant_id"]
                    for e in page["events"]
                    if e["type"] == "enrollment.ApplicantQualified.v1"
                    and e["data"]["applicant_id"] in applicant_ids
                }
                if new and not first_seen:
                    first_seen = time.perf_counter()
                if new:
                    last_seen = time.perf_counter()
                qualified |= new
            assert qualified == applicant_ids, f"{len(qualified)} of {STAFF} qualifications in the feed"
            print(
                f"\nfeed: {STAFF} qualifications in the institution's feed {last_seen - reviewed_at:.1f} s"
                f" after the review answered; the first to the last one {last_seen - first_seen:.1f} s"
                f" (~{STAFF / max(last_seen - first_seen, 0.001):.0f} events/s)"
            )

            phases["300 qualifications in the feed"] = time.perf_counter() - reviewed_at
            mark = time.perf_counter()
            # The city authority's feed in pages of 7, each read from the previous cursor, equals one read.
            paged: list[Any] = []
            after = city_start
            while True:
                r = await api.get(
                    "/api/feeds/events", headers=bearer(reviewer), params={"after": after, "limit": 7}
                )
                page = r.json()
                if not page["events"]:
                    break
                paged += page["events"]
                after = page["cursor"]
            whole, _ = await read_all(api, reviewer, city_start)
            assert [e["id"] for e in paged] == [e["id"] for e in whole[: len(paged)]]
            assert len({e["id"] for e in paged}) == len(paged)
            cursors = [int(e["cursor"]) for e in paged]
            assert cursors == sorted(cursors)
            mine = [e for e in paged if e["data"].get("enterprise_id") == enterprise_id]
            types = {e["type"] for e in mine}
            assert {
                "registration.EnterpriseRegistered.v1",
                "registration.EnterpriseApproved.v1",
                "enrollment.ApplicantsImported.v1",
                "enrollment.ApplicantQualified.v1",
            } <= types, types
            registered = next(e for e in mine if e["type"] == "registration.EnterpriseRegistered.v1")
            assert registered["data"]["contact_mobile"] == "13800001111"  # the city reviews it: in full
            assert registered["data"]["documents"] and "object_key" not in registered["data"]["documents"][0]
            imported = next(e for e in mine if e["type"] == "enrollment.ApplicantsImported.v1")
            numbers = {p["id_number"] for p in people}
            assert all("****" in a["id_number"] for a in imported["data"]["applicants"])
            assert not numbers & {a["id_number"] for a in imported["data"]["applicants"]}

            # The institution sees its applicants' ID numbers in full; another city sees nothing of ours.
            institution_events, _ = await read_all(api, institution, institution_start)
            own_import = next(
                e
                for e in institution_events
                if e["type"] == "enrollment.ApplicantsImported.v1"
                and e["data"]["enterprise_id"] == enterprise_id
            )
            assert {a["id_number"] for a in own_import["data"]["applicants"]} == numbers
            other_events, _ = await read_all(api, other_reviewer, other_start)
            assert not [e for e in other_events if e["data"].get("enterprise_id") == enterprise_id]

            # Server-Sent Events: dropped after a few, resumed with Last-Event-ID: nothing repeated or lost.
            first_part: list[str] = []
            async with api.stream(
                "GET",
                "/api/feeds/events/stream",
                headers={**bearer(institution), "Last-Event-ID": institution_start},
            ) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                async for line in stream.aiter_lines():
                    if line.startswith("id: "):
                        first_part.append(line[4:])
                        if len(first_part) == 5:
                            break
            second_part: list[str] = []
            async with api.stream(
                "GET",
                "/api/feeds/events/stream",
                headers={**bearer(institution), "Last-Event-ID": first_part[-1]},
            ) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("id: "):
                        second_part.append(line[4:])
                        if len(second_part) == 5:
                            break
            expected = [e["cursor"] for e in institution_events[:10]]
            assert first_part + second_part == expected

            phases["feed and SSE checks"] = time.perf_counter() - mark
            mark = time.perf_counter()

            # Webhooks: each receiver stores its events (it verified every signature); the silent endpoint of
            # the same institution held nothing back.
            async def institution_received() -> dict[str, Any] | None:
                got = await institution_receiver.events(api)
                ids = {
                    e["data"]["applicant_id"]
                    for e in got["events"]
                    if e["type"] == "enrollment.ApplicantQualified.v1"
                }
                return got if applicant_ids <= ids else None

            got = await eventually(institution_received, timeout=60, what="the institution's receiver")
            assert [e["id"] for e in got["events"]] == [
                e["id"] for e in institution_events if int(e["cursor"]) <= int(got["events"][-1]["cursor"])
            ]
            silent_state = (
                await api.get(
                    f"/api/feeds/webhooks/{silent_hook['webhook']['id']}", headers=bearer(institution)
                )
            ).json()
            assert silent_state["delivered"] == 0 and silent_state["lag"] > 0, silent_state

            async def city_received() -> dict[str, Any] | None:
                got = await city_receiver.events(api)
                return got if len(got["events"]) >= len(whole) else None

            city_got = await eventually(city_received, timeout=60, what="the city's receiver")
            assert [e["id"] for e in city_got["events"]][: len(whole)] == [e["id"] for e in whole]
            assert all(
                "****" in a["id_number"]
                for e in city_got["events"]
                if e["type"] == "enrollment.ApplicantsImported.v1"
                for a in e["data"]["applicants"]
            )

            phases["receivers caught up"] = time.perf_counter() - mark
            mark = time.perf_counter()
            # The dead endpoint comes back: the administrator replays its failed deliveries; they arrive.
            revived = Receiver(tmp_path, "revived", port=dead_port, secret=dead_secret)
            receivers.append(revived)
            await revived.ready(api)
            for delivery in failed:
                replay = await api.post(
                    f"/api/feeds/webhooks/{dead_hook['webhook']['id']}/deliveries/{delivery['id']}/replay",
                    headers=bearer(admin),
                )
                assert replay.status_code == 202, replay.text
                assert replay.json()["status"] == "queued"
            not_owner = await api.post(
                f"/api/feeds/webhooks/{dead_hook['webhook']['id']}/deliveries/{failed[0]['id']}/replay",
                headers=bearer(institution),
            )
            assert not_owner.status_code == 403

            async def replayed() -> dict[str, Any] | None:
                got = await revived.events(api)
                ids = {e["id"] for e in got["events"]}
                return got if {d["event_id"] for d in failed} <= ids else None

            await eventually(replayed, timeout=30, what="the replayed deliveries")
            phases["replays"] = time.perf_counter() - mark
            print("phases: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()))
            listed = (await api.get("/api/feeds/webhooks", headers=bearer(admin))).json()
            assert {h["webhook"]["id"] for h in hooks} <= {w["id"] for w in listed}
            own = (await api.get("/api/feeds/webhooks", headers=bearer(institution))).json()
            assert {w["id"] for w in own} == {institution_hook["webhook"]["id"], silent_hook["webhook"]["id"]}
        finally:
            for hook in hooks:
                await api.delete(f"/api/feeds/webhooks/{hook['webhook']['id']}", headers=bearer(admin))
    print(f"feeds/webhooks test: {time.perf_counter() - started:.1f} s")
