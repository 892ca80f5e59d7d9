"""Property-based requests (schemathesis) against every service's OpenAPI on the running platform: whatever a
client sends — valid or not, as the administrator or as an enterprise — no answer is a server error (≥ 500).

The services answer only requests forwarded by the gateway (servicekit.origin), so the requests go through
the gateway, following its merged OpenAPI (every service's operations under `/api/<service>/…`).

Bounded: a few examples per operation and a time budget per service, so the whole test stays within about
three minutes on the shared machine. Each server error is reported with its operation, the request (as a
curl command) and the start of the answer; the service's log has the traceback.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err
from schemathesis.openapi import from_dict
from servicekit.launcher import PLATFORM, ServiceProcesses

from .helpers import login

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 8
SECONDS_PER_SERVICE = 25.0
# Operations whose effect would disturb the session's other tests (log everyone out, rotate keys …).
SKIPPED = {("POST", "/auth/logout-all")}


@dataclass
class ServerError:
    service: str
    operation: str
    actor: str
    status: int
    request: str
    answer: str

    def __str__(self) -> str:
        where = f"{self.service} {self.operation} as {self.actor}: {self.status}"
        return f"{where}\n  {self.request}\n  {self.answer}"


def _tokens(platform: ServiceProcesses, admin_credentials: tuple[str, str]) -> dict[str, str]:
    import asyncio

    async def fetch() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
            admin = (await login(api, *admin_credentials))["access_token"]
            signup = await api.post(
                "/api/gateway/auth/signup/enterprise",
                json={
                    "username": f"ent-st-{uuid.uuid4().hex[:8]}",
                    "password": "Jianshe2026!",
                    "display_name": "模糊测试企业",
                },
            )
            assert signup.status_code == 201, signup.text
            return {"admin": str(admin), "enterprise": str(signup.json()["access_token"])}

    return asyncio.run(fetch())


def _service_of(path: str) -> str:
    parts = path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "api" else "gateway"


def _exercise(
    base_url: str, spec: dict[str, Any], tokens: dict[str, str], found: list[ServerError]
) -> dict[str, int]:
    schema = from_dict(spec)
    session = requests.Session()
    deadlines: dict[str, float] = {}
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            found.append(ServerError("?", "(schema)", "-", 0, "invalid OpenAPI operation", str(result.err())))
            continue
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED or operation.path.endswith(
            ("healthz", "metrics")
        ):
            continue
        service = _service_of(operation.path)
        deadline = deadlines.setdefault(service, time.monotonic() + SECONDS_PER_SERVICE)
        calls.setdefault(service, 0)
        if time.monotonic() > deadline:
            continue

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), actor=st.sampled_from(sorted(tokens)))
        def probe(case: Any, actor: str) -> None:
            service = _service_of(case.operation.path)
            if time.monotonic() > deadlines[service]:
                return
            calls[service] += 1
            label = f"{case.operation.method.upper()} {case.operation.path}"
            try:
                response = case.call(
                    base_url=base_url,
                    session=session,
                    headers={"Authorization": f"Bearer {tokens[actor]}"},
                    timeout=30,
                )
            except requests.RequestException as exc:
                found.append(ServerError(service, label, actor, 599, case.as_curl_command(), repr(exc)[:300]))
                return
            if response.status_code >= 500:
                found.append(
                    ServerError(
                        service,
                        label,
                        actor,
                        response.status_code,
                        case.as_curl_command(headers={"Authorization": "Bearer <token>"}),
                        response.text[:300],
                    )
                )

        probe()
    return calls


def test_no_input_makes_any_service_answer_with_a_server_error(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    tokens = _tokens(platform, admin_credentials)
    found: list[ServerError] = []
    openapi = httpx.get(platform.url("gateway") + "/openapi.json", timeout=60)
    assert openapi.status_code == 200, openapi.text[:300]
    calls = _exercise(platform.url("gateway"), openapi.json(), tokens, found)
    print(
        f"schemathesis: requests per service {calls}; operations {len(openapi.json().get('paths', {}))} paths"
    )
    assert {spec.name for spec in PLATFORM} <= {name for name, n in calls.items() if n}, (
        f"every service was exercised: {calls}"
    )
    unique = {(e.service, e.operation, e.status): e for e in found}
    assert not unique, (
        f"{len(unique)} operation(s) answered with a server error ({calls} requests):\n"
        + "\n".join(str(e) for e in unique.values())
    )
