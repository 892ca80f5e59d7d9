"""The FastAPI app factory on the real stack: health, readiness, metrics, errors, correlation ids."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, Request
from kit_events import CounterIncremented, CounterRenamed
from pydantic import BaseModel
from servicekit.app import create_app
from servicekit.auth import Identity, Role, TokenCodec, require_roles
from servicekit.consumer import ReceivedEvent
from servicekit.errors import DomainError
from servicekit.mongo import Session
from servicekit.runtime import Policy, ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.testing import running_app, unique_name

pytestmark = pytest.mark.integration


class Increment(BaseModel):
    counter_id: str
    amount: int


def build(settings: ServiceSettings) -> tuple[ServiceRuntime, Policy]:
    runtime = ServiceRuntime(settings, own_topics=[CounterIncremented.topic()])
    policy = Policy(name="rename-on-increment")

    @policy.handlers.on(CounterIncremented)
    async def rename(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CounterIncremented)
        if event.counter_id.startswith(settings.service_name):
            await runtime.store.append(
                f"{event.counter_id}-echo",
                [CounterRenamed(counter_id=event.counter_id, name="已处理")],
                expected_version=0,
                session=session,
            )

    runtime.policies.append(policy)
    return runtime, policy


async def test_app_factory(make_settings: Callable[..., ServiceSettings], jwt_secret: str) -> None:
    settings = make_settings(unique_name("app"))
    runtime, _ = build(settings)
    router = APIRouter()

    @router.post("/counters", status_code=201)
    async def increment(
        body: Increment,
        request: Request,
        identity: Annotated[Identity, Depends(require_roles(Role.INSTITUTION))],
    ) -> dict[str, str]:
        if body.amount < 0:
            raise DomainError("数量不能为负数", code="negative_amount")
        await runtime.store.append(
            body.counter_id,
            [CounterIncremented(counter_id=body.counter_id, amount=body.amount)],
            expected_version=0,
        )
        return {"by": identity.account_id}

    app = create_app(runtime, [router], title="test")
    token = TokenCodec(jwt_secret, settings.jwt_issuer).issue(
        Identity("acc-9", Role.INSTITUTION, org_id="i-1")
    )
    enterprise = TokenCodec(jwt_secret, settings.jwt_issuer).issue(
        Identity("acc-8", Role.ENTERPRISE, org_id="e-1")
    )
    async with running_app(app) as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "https://" not in docs.text  # no CDN: works offline
        assert (await client.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"mongo": "ok", "kafka": "ok", "s3": "ok", "pipeline": "ok"}

        # errors: problem+json with a stable code and a Chinese message
        anonymous = await client.post("/counters", json={"counter_id": "x", "amount": 1})
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
        assert anonymous.headers["content-type"] == "application/problem+json"
        wrong_role = await client.post(
            "/counters",
            json={"counter_id": "x", "amount": 1},
            headers={"Authorization": f"Bearer {enterprise}"},
        )
        assert wrong_role.status_code == 403 and wrong_role.json()["code"] == "role_forbidden"
        invalid = await client.post(
            "/counters", json={"counter_id": "x"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_request"
        assert invalid.json()["errors"][0] == {
            "field": "amount",
            "location": "body",
            "code": "missing",
            "message": "缺少必填字段",
        }
        refused = await client.post(
            "/counters", json={"counter_id": "x", "amount": -1}, headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 422 and refused.json()["code"] == "negative_amount"
        assert refused.json()["detail"] == "数量不能为负数"

        # the correlation id goes from the HTTP request into the event, and on into the events it causes
        counter_id = f"{settings.service_name}-c1"
        created = await client.post(
            "/counters",
            json={"counter_id": counter_id, "amount": 2},
            headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": "corr-42"},
        )
        assert created.status_code == 201 and created.headers["X-Correlation-ID"] == "corr-42"
        first = (await runtime.store.load(counter_id))[0]
        assert first.envelope.correlation_id == "corr-42"
        for _ in range(300):
            echo = await runtime.store.load(f"{counter_id}-echo")
            if echo:
                break
            await asyncio.sleep(0.1)
        assert echo, "the policy reacted to the event"
        assert echo[0].envelope.correlation_id == "corr-42"
        assert echo[0].envelope.causation_id == first.envelope.id

        metrics = await client.get("/metrics")
        assert 'http_requests_total{method="POST",route="/counters",service="' in metrics.text
        assert f'outbox_backlog{{service="{settings.service_name}"}}' in metrics.text
