"""The stack a bench runs on: the servers the environment names, or a local stack of its own."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from servicekit.localstack import LocalStack, StackConfig, uses_external_servers
from servicekit.settings import ServiceSettings


@dataclass(frozen=True)
class BenchStack:
    env: dict[str, str]  # KAFKA_*, S3_* (and the rest of a local stack's), KAFKA_PARTITIONS, LOG_LEVEL
    settings: ServiceSettings  # the bench's own Kafka and object-storage clients


@asynccontextmanager
async def kafka_and_storage(name: str, *, partitions: int) -> AsyncIterator[BenchStack]:
    """Kafka and object storage for the bench `name`, topics made with `partitions` partitions."""
    stack: LocalStack | None = None
    if uses_external_servers(os.environ):
        env = {k: v for k, v in os.environ.items() if k.startswith(("KAFKA_", "S3_"))}
    else:
        data = Path(tempfile.mkdtemp(prefix=f"{name}-stack-"))
        stack = LocalStack(StackConfig.load_or_create(data, free_ports=True))
        await asyncio.to_thread(stack.start)
        env = stack.env()
    env = {**env, "KAFKA_PARTITIONS": str(partitions), "LOG_LEVEL": "INFO"}
    settings = ServiceSettings(
        service_name=name,
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        kafka_partitions=partitions,
        s3_endpoint=env["S3_ENDPOINT"],
        s3_access_key=env.get("S3_ACCESS_KEY", ""),
        s3_secret_key=env.get("S3_SECRET_KEY", ""),
    )
    try:
        yield BenchStack(env, settings)
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.stop)
