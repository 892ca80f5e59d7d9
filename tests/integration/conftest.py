"""Fixtures for cross-service tests: the whole platform as real processes on the real local stack."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from servicekit.launcher import PLATFORM, ServiceProcesses
from servicekit.localstack import LocalStack, StackConfig, free_port, uses_external_servers


@pytest.fixture(scope="session")
def platform(
    stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcesses]:
    """All six services as uvicorn processes, with their own databases on the test stack."""
    log_dir = Path(tmp_path_factory.mktemp("service-logs"))
    env = {
        **stack_env,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "CERTIFICATION_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        # As `make run`: services serve only what the gateway signed and forwarded.
        "GATEWAY_SIGNING_SECRET": secrets.token_urlsafe(48),
        "REQUIRE_GATEWAY": "1",
        # The tests tell clients apart with X-Forwarded-For (the login throttle counts per client).
        "TRUSTED_PROXIES": "127.0.0.1",
        "CONSUMER_BACKOFF_SECONDS": "0.05",
        "RELAY_POLL_SECONDS": "0.2",
        # Face workers: a check sleeps while this file exists (only the worker-crash test creates it).
        "FACE_WORKER_TEST_DELAY_FILE": str(log_dir / "face-worker-test-delay"),
        # The exam's clock: seconds written here are added to it (exam_support moves time, never waits).
        "EXAM_TEST_CLOCK_OFFSET_FILE": str(log_dir / "exam-clock-offset"),
        "CERTIFICATION_TEST_CLOCK_OFFSET_FILE": str(log_dir / "certification-clock-offset"),
    }
    ports = {spec.name: free_port() for spec in PLATFORM}
    services = ServiceProcesses(env, ports, log_dir=log_dir, face_workers=2)  # + platform.face_workers
    try:
        services.start(timeout=180)
    except Exception:
        services.stop()
        for log in sorted(log_dir.glob("*.log")):
            sys.stderr.write(f"--- {log.name}\n{log.read_text()[-3000:]}\n")
        raise
    yield services
    services.stop()


@contextmanager
def own_platform(root: Path, extra_env: dict[str, str], *, face_workers: int) -> Iterator[ServiceProcesses]:
    """Every service on a local stack of its own under `root` (empty databases, nothing shared with the
    session's `platform`); stopped, stack included, when the block ends."""
    if uses_external_servers(os.environ):
        pytest.skip("needs a local stack of its own; the environment names external servers")
    stack = LocalStack(StackConfig.load_or_create(root / "stack", free_ports=True))
    stack.start()
    try:
        env = {
            **stack.env(),
            "JWT_SECRET": secrets.token_urlsafe(48),
            "CERTIFICATION_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "GATEWAY_SIGNING_SECRET": secrets.token_urlsafe(48),
            "REQUIRE_GATEWAY": "1",
            **extra_env,
        }
        ports = {spec.name: free_port() for spec in PLATFORM}
        services = ServiceProcesses(env, ports, log_dir=root / "logs", face_workers=face_workers)
        try:
            services.start(timeout=180)
        except Exception:
            services.stop()
            for log in sorted((root / "logs").glob("*.log")):
                sys.stderr.write(f"--- {log.name}\n{log.read_text()[-3000:]}\n")
            raise
        try:
            yield services
        finally:
            services.stop()
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def demo_timing_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcesses]:
    """The platform as `EXAM_DEMO_TIMING=1 make run` starts it (default settings otherwise, two face workers;
    the exam's clock may be moved by the test), on a local stack of its own: empty databases, as on a fresh
    clone (the README's walkthrough creates fixed names such as the account `admin`), and nothing shared
    with the session's `platform`. Stopped after the module that uses it."""
    root = Path(tmp_path_factory.mktemp("demo-timing-platform"))
    extra = {
        "EXAM_DEMO_TIMING": "1",
        # The walkthrough's two waits for the exam's clock (the session's start, the earliest submission)
        # are skipped by moving that clock (test_readme_walkthrough_it.py; docs/adr/0001-exam-clock.md).
        "EXAM_TEST_CLOCK_OFFSET_FILE": str(root / "exam-clock-offset"),
    }
    with own_platform(root, extra, face_workers=2) as services:
        yield services


def create_admin(platform: ServiceProcesses, username: str = "root-admin") -> tuple[str, str]:
    """An administrator, created the way an operator does it: with the gateway's CLI."""
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
            username,
            "--display-name",
            "省级管理员",
            "--password-stdin",
        ],
        input=password,
        text=True,
        capture_output=True,
        env={**os.environ, **platform.env, "SERVICE_NAME": "gateway"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return username, password


@pytest.fixture(scope="session")
def admin_credentials(platform: ServiceProcesses) -> tuple[str, str]:
    """The session platform's first administrator."""
    return create_admin(platform)
