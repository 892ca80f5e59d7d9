"""pytest plugin: one real local stack per test session (or the external servers the environment names).

Enabled from the root conftest (`pytest_plugins = ["servicekit.testing"]`). Tests isolate themselves by
using their own database, topic and bucket names (`unique_name`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from .localstack import LocalStack, StackConfig, uses_external_servers
from .settings import ServiceSettings

_EXTERNAL_KEYS = ("KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY")


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Connection variables of the servers the tests use; starts the local stack unless told otherwise."""
    if uses_external_servers(os.environ):
        yield {k: os.environ[k] for k in _EXTERNAL_KEYS if k in os.environ}
        return
    data_dir = Path(os.environ.get("TEST_STACK_DIR") or tmp_path_factory.mktemp("stack"))
    stack = LocalStack(StackConfig.load_or_create(data_dir, free_ports=True))
    stack.start()
    try:
        yield stack.env()
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    return secrets.token_urlsafe(48)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_settings(stack_env: dict[str, str], jwt_secret: str) -> Callable[..., ServiceSettings]:
    """Settings for a service under test, pointed at the test stack, with its own database and bucket."""

    def make(service_name: str | None = None, **overrides: object) -> ServiceSettings:
        name = service_name or unique_name("svc")
        values: dict[str, object] = {
            "service_name": name,
            "kafka_bootstrap_servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"],
            "mongo_url": stack_env["MONGO_URL"],
            "s3_endpoint": stack_env["S3_ENDPOINT"],
            "s3_access_key": stack_env.get("S3_ACCESS_KEY", ""),
            "s3_secret_key": stack_env.get("S3_SECRET_KEY", ""),
            "jwt_secret": jwt_secret,
            "consumer_backoff_seconds": 0.05,
            "relay_poll_seconds": 0.2,
            "log_json": True,
        }
        values.update(overrides)
        return ServiceSettings(**values)  # type: ignore[arg-type]

    return make


@contextlib.asynccontextmanager
async def running_app(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (runtime, relay, consumers) and give an HTTP client talking to it in-process."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, timeout=30) as client,
    ):
        yield client
