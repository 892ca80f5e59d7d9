"""Rebuild read models from the event log: `python -m servicekit.rebuild [--service NAME ...] [--check]`.

For each service, its projections' collections are dropped and every subscribed topic is replayed from the
beginning through the same handlers. With `--check`, the read models are compared with what they were
before, and a difference is an error (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .launcher import PLATFORM
from .projections import RebuildReport, snapshot
from .runtime import ServiceRuntime


@dataclass
class ServiceRebuild:
    service: str
    reports: list[RebuildReport]
    identical: bool | None
    differences: list[str]


def _runtime_factory(service: str) -> Callable[[], ServiceRuntime]:
    spec = next(s for s in PLATFORM if s.name == service)
    module = importlib.import_module(spec.factory.split(":")[0])
    factory: Callable[[], ServiceRuntime] = module.build_runtime
    return factory


async def rebuild_service(service: str, *, check: bool = False) -> ServiceRebuild:
    previous = os.environ.get("SERVICE_NAME")
    os.environ["SERVICE_NAME"] = service
    try:
        runtime = _runtime_factory(service)()
    finally:
        if previous is None:
            os.environ.pop("SERVICE_NAME", None)
        else:
            os.environ["SERVICE_NAME"] = previous
    await runtime.start(consumers=False)
    try:
        collections = [c for p in runtime.projections for c in p.collections]
        before = await snapshot(runtime.db, collections) if check else None
        reports = await runtime.rebuild_projections()
        differences: list[str] = []
        if before is not None:
            after = await snapshot(runtime.db, collections)
            differences = _diff(before, after)
        return ServiceRebuild(service, reports, None if before is None else not differences, differences)
    finally:
        await runtime.stop()


def _diff(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    """What differs, down to the fields of the changed documents."""
    out = []
    for name in before:
        old = {d["_id"]: d for d in before[name]}
        new = {d["_id"]: d for d in after.get(name, [])}
        if old == new:
            continue
        changed = []
        for key in sorted(set(old) & set(new), key=str):
            if old[key] != new[key]:
                fields = sorted(
                    k for k in set(old[key]) | set(new[key]) if old[key].get(k) != new[key].get(k)
                )
                changed.append(
                    f"{key}: " + ", ".join(f"{f} {old[key].get(f)!r} → {new[key].get(f)!r}" for f in fields)
                )
        out.append(
            f"{name}: missing {sorted(set(old) - set(new), key=str)[:5]}, "
            f"extra {sorted(set(new) - set(old), key=str)[:5]}, changed {changed[:5]}"
        )
    return out


async def rebuild_all(services: Sequence[str], *, check: bool) -> list[ServiceRebuild]:
    return [await rebuild_service(name, check=check) for name in services]


def main() -> int:
    names = [s.name for s in PLATFORM]
    parser = argparse.ArgumentParser(prog="python -m servicekit.rebuild", description=__doc__)
    parser.add_argument("--service", action="append", choices=names)
    parser.add_argument("--check", action="store_true", help="fail if a rebuilt read model differs")
    args = parser.parse_args()
    results = asyncio.run(rebuild_all(args.service or names, check=args.check))
    failed = False
    for result in results:
        for report in result.reports:
            rate = report.events_applied / report.seconds if report.seconds else 0
            print(
                f"{result.service:<14} {report.projection:<24} {report.records_read:>7} records "
                f"{report.events_applied:>7} applied  {report.seconds:6.2f}s  {rate:8.0f} events/s"
            )
        if result.identical is False:
            failed = True
            print(f"{result.service}: rebuilt read model differs: {result.differences}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
