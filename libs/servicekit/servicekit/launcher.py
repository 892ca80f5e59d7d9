"""Runs the platform's processes: the local stack (unless external servers are named) and every service.

    python -m servicekit.launcher run [--data-dir .data]     # what `make run` does; Ctrl-C stops everything

Each service is one uvicorn process (its relay and consumers run inside it). Beside them run `FACE_WORKERS`
(default 2) face workers (`python -m exam.faceworker`, no HTTP port: ready once they wrote their ready file).

A service or face worker that dies is started again, the others keep running: after 1 s, doubling with each
death in a row up to 30 s (`RestartPolicy`); one that stayed up for 60 s starts again from 1 s. Each death is
a log line on stderr (`launcher.restarting service=… exit_code=… delay_s=…`); one that keeps dying is said to
be crash-looping and is still retried every 30 s. Only Ctrl-C / SIGTERM stops everything.

Secrets (the JWT signing key) are generated once per data directory and
never printed; `.data/env` holds the variables a shell or the CLIs need to reach the running system
(`set -a; . .data/env; set +a`).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .localstack import LocalStack, StackConfig, _die_with_parent, _terminate, uses_external_servers


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    factory: str
    port: int
    title: str


PLATFORM: tuple[ServiceSpec, ...] = (
    ServiceSpec("registration", "registration.main:build_app", 8001, "企业注册"),
    ServiceSpec("enrollment", "enrollment.main:build_app", 8002, "学员报名"),
    ServiceSpec("payment", "payment.main:build_app", 8003, "订单缴费"),
    ServiceSpec("exam", "exam.main:build_app", 8004, "考试"),
    ServiceSpec("certification", "certification.main:build_app", 8005, "证书"),
    ServiceSpec("gateway", "gateway.main:build_app", 8000, "网关（登录、统一入口）"),
)


def load_or_create_secrets(data_dir: Path) -> dict[str, str]:
    path = data_dir / "secrets.json"
    if path.exists():
        values = dict(json.loads(path.read_text()))
        if "CERTIFICATION_SIGNING_KEY" in values and "GATEWAY_SIGNING_SECRET" in values:
            return values
    else:
        values = {"JWT_SECRET": secrets.token_urlsafe(48)}
    data_dir.mkdir(parents=True, exist_ok=True)
    # Ed25519 seed (32 random bytes, base64) that signs the certificates' QR payloads; kept like JWT_SECRET.
    values.setdefault("CERTIFICATION_SIGNING_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    # The gateway signs what it forwards with it; services refuse anything else (REQUIRE_GATEWAY, on below).
    values.setdefault("GATEWAY_SIGNING_SECRET", secrets.token_urlsafe(48))
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def service_env(base: dict[str, str], ports: dict[str, int]) -> dict[str, str]:
    env = dict(base)
    # the local platform (`make run`, the integration tests) pays online with the sandbox provider, a
    # development adapter that payment refuses with PLATFORM_ENV=production (PAYMENT_SANDBOX=0 turns it off)
    env.setdefault("PAYMENT_SANDBOX", os.environ.get("PAYMENT_SANDBOX", "1"))
    for spec in PLATFORM:
        env[f"{spec.name.upper()}_URL"] = f"http://127.0.0.1:{ports[spec.name]}"
    # The payment sandbox calls back through the ingress, as a real provider does (REQUIRE_GATEWAY).
    env.setdefault("PAYMENT_NOTIFY_BASE_URL", env["GATEWAY_URL"])
    return env


FACE_WORKER_MODULE = "exam.faceworker"


@dataclass(frozen=True)
class RestartPolicy:
    """How a dead process is started again: `first_delay` after its first death, doubling with each death in
    a row up to `max_delay`; a process that stayed up `stable_seconds` counts as healthy again (the next
    death waits `first_delay`). From `crash_loop_after` deaths in a row on it is reported as crash-looping."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_seconds: float = 60.0
    crash_loop_after: int = 5


@dataclass
class _Restarts:
    deaths: int  # deaths in a row, each within `stable_seconds` of its start
    delay: float
    due: float | None  # when the waiting process starts again (None: it runs)


def _signal_name(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f" ({signal.Signals(-code).name})"
    return ""


def _log_stderr(event: str, **fields: object) -> None:
    """One structured line on the launcher's stderr: `launcher.restarting service=exam exit_code=-9 …`."""
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {event} {text}", file=sys.stderr, flush=True)


class ServiceProcesses:
    """Starts the services (and `face_workers` face workers) as child processes and waits until each answers
    /readyz (a face worker: until it wrote its ready file)."""

    def __init__(
        self,
        env: dict[str, str],
        ports: dict[str, int],
        log_dir: Path | None = None,
        specs: tuple[ServiceSpec, ...] = PLATFORM,
        face_workers: int = 0,
        restart: RestartPolicy | None = None,
        log: Callable[..., None] = _log_stderr,
    ) -> None:
        self.env = service_env(env, ports)
        if log_dir is not None and "NOTIFY_SMS_FILE" not in os.environ:
            # the local SMS adapter's sink (gateway notifications): one JSON line per SMS, beside the logs
            self.env.setdefault("NOTIFY_SMS_FILE", str(log_dir / "sms-outbox.jsonl"))
        self.ports = ports
        self.log_dir = log_dir
        self.specs = specs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.face_worker_count = face_workers
        # One Popen per face worker (index i logs to face-worker-<i+1>.log); tests may kill one.
        self.face_workers: list[subprocess.Popen[bytes]] = []
        self._ready_dir: Path | None = None  # made when the first face worker starts
        # Supervision (`supervise_once`, `start_supervising`): restarting what died, with backoff.
        self.restart_policy = restart or RestartPolicy()
        self.log = log
        self.started_at: dict[str, float] = {}  # service name or "face-worker-<n>" -> monotonic start
        self.restarts: dict[str, _Restarts] = {}
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._lock = threading.RLock()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, timeout: float = 120.0) -> ServiceProcesses:
        for spec in self.specs:
            self.start_one(spec)
        for _ in range(self.face_worker_count):
            self.start_face_worker()
        self.wait_ready(timeout)
        return self

    def face_worker_log(self, index: int) -> Path | None:
        return self.log_dir / f"face-worker-{index + 1}.log" if self.log_dir is not None else None

    def _face_worker_ready_file(self, index: int) -> Path:
        if self._ready_dir is None:
            self._ready_dir = Path(tempfile.mkdtemp(prefix="face-workers-"))
        return self._ready_dir / f"face-worker-{index + 1}.ready"

    def start_face_worker(self) -> subprocess.Popen[bytes]:
        """Start one more face worker (appended to `face_workers`); `wait_ready` waits for it too."""
        proc = self._spawn_face_worker(len(self.face_workers))
        self.face_workers.append(proc)
        return proc

    def restart_face_worker(self, index: int, timeout: float = 60.0) -> subprocess.Popen[bytes]:
        """Replace face worker `index` (stopped first if it still runs) and wait until the new one is up."""
        old = self.face_workers[index]
        if old.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                old.send_signal(signal.SIGTERM)
            _terminate(old, grace=15)
        self.face_workers[index] = self._spawn_face_worker(index)
        self._wait_face_workers({index}, time.monotonic() + timeout)
        return self.face_workers[index]

    def _spawn_face_worker(self, index: int) -> subprocess.Popen[bytes]:
        self.started_at[f"face-worker-{index + 1}"] = time.monotonic()
        ready = self._face_worker_ready_file(index)
        ready.unlink(missing_ok=True)
        env = {
            **os.environ,
            **self.env,
            "SERVICE_NAME": "faceworker",
            "FACE_WORKER_READY_FILE": str(ready),
        }
        out: Any = subprocess.DEVNULL
        log = self.face_worker_log(index)
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            out = open(log, "ab")  # noqa: SIM115 - owned by the child
        return subprocess.Popen(
            [sys.executable, "-m", FACE_WORKER_MODULE],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def _wait_face_workers(self, indexes: set[int], deadline: float) -> None:
        waiting = set(indexes)
        while waiting and time.monotonic() < deadline:
            for index in sorted(waiting):
                proc = self.face_workers[index]
                if proc.poll() is not None:
                    log = self.face_worker_log(index)
                    raise RuntimeError(
                        f"face worker {index + 1} exited with {proc.returncode} during start"
                        + (f"; see {log}" if log else "")
                    )
                if self._face_worker_ready_file(index).exists():
                    waiting.discard(index)
            time.sleep(0.3)
        if waiting:
            raise RuntimeError(f"face workers not ready: {sorted(i + 1 for i in waiting)}")

    def start_one(self, spec: ServiceSpec) -> None:
        self.started_at[spec.name] = time.monotonic()
        env = {**os.environ, **self.env, "SERVICE_NAME": spec.name}
        out: Any = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{spec.name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.processes[spec.name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                spec.factory,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports[spec.name]),
                "--no-access-log",
                "--timeout-keep-alive",
                "30",  # longer than the gateway's pool keeps an idle connection (2 s): no close/reuse race
                "--timeout-graceful-shutdown",
                "10",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = {spec.name for spec in self.specs}
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                proc = self.processes[name]
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"service {name} exited with {proc.returncode} during start"
                        + (f"; see {self.log_dir / (name + '.log')}" if self.log_dir else "")
                    )
                with (
                    contextlib.suppress(OSError, urllib.error.URLError),
                    urllib.request.urlopen(self.url(name) + "/readyz", timeout=2) as response,
                ):
                    if response.status == 200:
                        waiting.discard(name)
            time.sleep(0.3)
        if waiting:
            raise RuntimeError(f"services not ready after {timeout:.0f}s: {', '.join(sorted(waiting))}")
        self._wait_face_workers(set(range(len(self.face_workers))), deadline)

    # ------------------------------------------------------------------ supervision

    def supervise_once(self, now: float | None = None) -> None:
        """Notice the processes that died and start each again when its backoff is over (never blocks)."""
        with self._lock:
            if self._stopping.is_set():
                return
            now = time.monotonic() if now is None else now
            for spec in self.specs:
                proc = self.processes.get(spec.name)
                if proc is not None:
                    self._look_after(spec.name, proc, now, functools.partial(self.start_one, spec))
            for index, proc in enumerate(self.face_workers):
                # stateless: the unanswered checks of a face worker that died come again to the new one
                self._look_after(
                    f"face-worker-{index + 1}", proc, now, functools.partial(self._respawn_worker, index)
                )

    def _respawn_worker(self, index: int) -> None:
        self.face_workers[index] = self._spawn_face_worker(index)

    def _look_after(
        self, name: str, proc: subprocess.Popen[bytes], now: float, start: Callable[[], None]
    ) -> None:
        state = self.restarts.get(name)
        if proc.poll() is None:
            return
        policy = self.restart_policy
        if state is None or state.due is None:  # a death not handled yet
            uptime = now - self.started_at.get(name, now)
            if state is None or uptime >= policy.stable_seconds:
                state = _Restarts(deaths=1, delay=policy.first_delay, due=None)
            else:
                state = _Restarts(state.deaths + 1, min(state.delay * 2, policy.max_delay), None)
            state.due = now + state.delay
            self.restarts[name] = state
            log = self.log_file(name)
            self.log(
                "launcher.restarting",
                service=name,
                exit_code=f"{proc.returncode}{_signal_name(proc.returncode)}",
                uptime_s=round(uptime, 1),
                delay_s=round(state.delay, 1),
                deaths_in_a_row=state.deaths,
                **({"log": str(log)} if log else {}),
            )
            if state.deaths >= policy.crash_loop_after:
                self.log(
                    "launcher.crash_loop",
                    service=name,
                    deaths_in_a_row=state.deaths,
                    retry_every_s=round(state.delay, 1),
                    note="it keeps dying within "
                    f"{policy.stable_seconds:.0f}s of starting; still retrying — see its log",
                )
            return
        if now >= state.due:
            state.due = None
            try:
                start()
            except Exception as exc:  # e.g. out of file descriptors: try again after the next delay
                self.log("launcher.restart_failed", service=name, error=repr(exc)[:300])
                state.due = now + state.delay
                return
            self.log("launcher.restarted", service=name, deaths_in_a_row=state.deaths)

    def log_file(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir is not None else None

    def start_supervising(self, interval: float = 0.5) -> None:
        """Supervise in a background thread until `stop` (the launcher supervises from its main loop)."""
        if self._supervisor is not None:
            return

        def loop() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.supervise_once()
                except Exception as exc:
                    self.log("launcher.supervision_failed", error=repr(exc)[:300])

        self._supervisor = threading.Thread(target=loop, name="service-supervisor", daemon=True)
        self._supervisor.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
            self._supervisor = None
        everything = [*self.face_workers, *self.processes.values()]
        for proc in everything:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in everything:
            _terminate(proc, grace=15)
        self.processes.clear()
        self.face_workers.clear()
        if self._ready_dir is not None:
            shutil.rmtree(self._ready_dir, ignore_errors=True)
            self._ready_dir = None


def _write_env_file(data_dir: Path, env: dict[str, str]) -> None:
    path = data_dir / "env"
    path.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
    path.chmod(0o600)


def run(data_dir: Path) -> int:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stack: LocalStack | None = None
    services: ServiceProcesses | None = None

    def interrupt(*_: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        if uses_external_servers(os.environ):
            keys = ("KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY")
            env = {k: os.environ[k] for k in keys if k in os.environ}
            print("using the external servers named in the environment", flush=True)
        else:
            started = time.monotonic()
            stack = LocalStack(StackConfig.load_or_create(data_dir / "stack"))
            stack.start()
            env = stack.env()
            print(
                f"local stack up in {time.monotonic() - started:.1f}s (data in {data_dir / 'stack'})",
                flush=True,
            )
        secrets_env = load_or_create_secrets(data_dir)
        env = {**env, **{k: v for k, v in secrets_env.items() if k not in os.environ}}
        # the gateway is the ingress: services serve only what it forwards
        env.setdefault("REQUIRE_GATEWAY", os.environ.get("REQUIRE_GATEWAY", "1"))
        # the local SMS adapter's sink (gateway notifications): one JSON line per SMS
        sms_file = os.environ.get("NOTIFY_SMS_FILE") or str(data_dir / "sms-outbox.jsonl")
        env.setdefault("NOTIFY_SMS_FILE", sms_file)
        ports = {spec.name: int(os.environ.get(f"{spec.name.upper()}_PORT", spec.port)) for spec in PLATFORM}
        _write_env_file(data_dir, service_env(env, ports))
        started = time.monotonic()
        face_workers = int(os.environ.get("FACE_WORKERS", "2"))
        services = ServiceProcesses(env, ports, log_dir=data_dir / "logs", face_workers=face_workers).start()
        print(
            f"services ready in {time.monotonic() - started:.1f}s (logs in {data_dir / 'logs'})\n", flush=True
        )
        for spec in PLATFORM:
            print(f"  {spec.name:<14} {spec.title:<14} http://127.0.0.1:{ports[spec.name]}/docs", flush=True)
        if face_workers:
            print(
                f"  {'face workers':<14} {'人脸比对':<14} {face_workers} processes (FACE_WORKERS), "
                "logs face-worker-<n>.log",
                flush=True,
            )
        print(
            f"\n  gateway (use this): http://127.0.0.1:{ports['gateway']}  — merged API docs at /docs",
            flush=True,
        )
        print("  Ctrl-C stops everything; the data stays in .data/ for the next `make run`.\n", flush=True)
        while True:  # a process that dies is started again (with backoff); only Ctrl-C/SIGTERM ends this
            services.supervise_once()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping …", flush=True)
        return 0
    finally:
        if services is not None:
            services.stop()
        if stack is not None:
            stack.stop()
        print("stopped.", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.launcher",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    args = parser.parse_args()
    return run(args.data_dir)


if __name__ == "__main__":
    raise SystemExit(main())
