"""The launcher keeps the platform up: a service that dies is started again with backoff while the others
keep running, one that keeps dying is retried at the capped delay and reported as crash-looping, and only
SIGTERM / Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servicekit.launcher import PLATFORM, RestartPolicy, ServiceProcesses, ServiceSpec
from servicekit.localstack import StackConfig, free_port


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _children(pid: int) -> dict[int, str]:
    """The launcher's child processes: pid -> command line."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def _service_pids(launcher: int) -> dict[str, int]:
    pids: dict[str, int] = {}
    for pid, cmdline in _children(launcher).items():
        for spec in PLATFORM:
            if spec.factory in cmdline:
                pids[spec.name] = pid
    return pids


def test_a_service_that_keeps_dying_is_retried_with_capped_backoff_and_reported() -> None:
    events: list[tuple[str, dict[str, object]]] = []
    broken = ServiceSpec("broken", "servicekit_no_such_module:build_app", free_port(), "坏的")
    services = ServiceProcesses(
        {},
        {**{spec.name: spec.port for spec in PLATFORM}, "broken": broken.port},
        specs=(broken,),
        restart=RestartPolicy(first_delay=0.2, max_delay=0.8, stable_seconds=60, crash_loop_after=4),
        log=lambda event, **fields: events.append((event, fields)),
    )
    try:
        services.start_one(broken)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            services.supervise_once()
            if sum(1 for e, _ in events if e == "launcher.restarted") >= 6:
                break
            time.sleep(0.05)
    finally:
        services.stop()
    delays = [fields["delay_s"] for event, fields in events if event == "launcher.restarting"]
    assert delays[:6] == [0.2, 0.4, 0.8, 0.8, 0.8, 0.8], events
    restarting = next(fields for event, fields in events if event == "launcher.restarting")
    assert restarting["service"] == "broken" and restarting["exit_code"] != "0", restarting
    loops = [fields for event, fields in events if event == "launcher.crash_loop"]
    assert loops and loops[0]["deaths_in_a_row"] == 4 and loops[0]["retry_every_s"] == 0.8, events
    assert sum(1 for e, _ in events if e == "launcher.restarted") >= 6, "it keeps being retried"


@pytest.mark.integration
def test_a_killed_service_comes_back_and_the_others_never_stop(tmp_path: Path) -> None:
    """`make run` (the launcher with its own local stack); kill -9 one service; it answers again."""
    data_dir = tmp_path / "data"
    StackConfig.load_or_create(data_dir / "stack", free_ports=True)  # ports nobody else uses
    ports = {spec.name: free_port() for spec in PLATFORM}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL", "S3_ENDPOINT", "JWT_SECRET", "SERVICE_NAME"}
    }
    env.update({f"{name.upper()}_PORT": str(port) for name, port in ports.items()})
    env["FACE_WORKERS"] = "0"
    stderr_path = tmp_path / "launcher.err"
    with open(stderr_path, "wb") as stderr:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "servicekit.launcher", "run", "--data-dir", str(data_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 300
        while not all(_healthy(port) for port in ports.values()):
            assert launcher.poll() is None, stderr_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the platform did not come up"
            time.sleep(1)
        before = _service_pids(launcher.pid)
        assert set(before) == set(ports), before

        os.kill(before["registration"], signal.SIGKILL)
        deadline = time.monotonic() + 120
        came_back = False
        while time.monotonic() < deadline:
            assert launcher.poll() is None, "the launcher must not stop: " + stderr_path.read_text()[-3000:]
            for name, port in ports.items():
                if name != "registration":
                    assert _healthy(port), f"{name} stopped answering while registration was down"
            now = _service_pids(launcher.pid)
            if now.get("registration") not in (None, before["registration"]) and _healthy(
                ports["registration"]
            ):
                came_back = True
                break
            time.sleep(0.5)
        assert came_back, "registration did not come back: " + stderr_path.read_text()[-3000:]
        after = _service_pids(launcher.pid)
        assert {n: p for n, p in after.items() if n != "registration"} == {
            n: p for n, p in before.items() if n != "registration"
        }, "the other services kept their processes"
        logged = stderr_path.read_text()
        assert "launcher.restarting service=registration exit_code=-9 (SIGKILL)" in logged, logged
        assert "delay_s=1.0" in logged, logged
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
        try:
            code = launcher.wait(timeout=120)
        except subprocess.TimeoutExpired:
            launcher.kill()
            raise
    assert code == 0, stderr_path.read_text()[-3000:]
    assert not _service_pids(launcher.pid)
