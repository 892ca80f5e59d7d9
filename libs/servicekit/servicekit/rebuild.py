"""Rebuild read models on a live system: `python -m servicekit.rebuild [--service NAME ...] [--check]`.

For each service, each projection is built again into new collections (its own events from the service's
event store, other contexts' events from their topics), brought exactly to the live projection's positions
while the live runners pause for a moment, and then either compared with the live read model (`--check`: a
difference is an error, exit 1; nothing is replaced) or swapped in for it (the default). The services keep
serving throughout. Personal data in what it prints is masked (`servicekit.logging.mask_personal_data`);
records it cannot decode are dead-lettered for the live projection once (see `servicekit.projections`).
`--check` also builds each write-side collection (uniqueness claims, id indexes, number
counters) from the events and compares it; `--repair-write-indexes` replaces them, with the service stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .launcher import PLATFORM
from .logging import mask_personal_data
from .projections import RebuildReport
from .runtime import ServiceRuntime


@dataclass
class ServiceRebuild:
    service: str
    reports: list[RebuildReport]
    checked: bool

    @property
    def differences(self) -> list[str]:
        return [f"{r.projection}: {d}" for r in self.reports for d in r.differences]

    @property
    def identical(self) -> bool | None:
        return None if not self.checked else not self.differences


def _runtime_factory(service: str) -> Callable[[], ServiceRuntime]:
    spec = next(s for s in PLATFORM if s.name == service)
    module = importlib.import_module(spec.factory.split(":")[0])
    factory: Callable[[], ServiceRuntime] = module.build_runtime
    return factory


async def rebuild_service(service: str, *, check: bool = False, repair: bool = False) -> ServiceRebuild:
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
        reports = [] if repair else await runtime.rebuild_projections(check=check)
        if check or repair:
            reports += await runtime.check_write_indexes(repair=repair)
        return ServiceRebuild(service, reports, check or repair)
    finally:
        await runtime.stop()


async def rebuild_all(services: Sequence[str], *, check: bool, repair: bool = False) -> list[ServiceRebuild]:
    return [await rebuild_service(name, check=check, repair=repair) for name in services]


def main() -> int:
    names = [s.name for s in PLATFORM]
    parser = argparse.ArgumentParser(prog="python -m servicekit.rebuild", description=__doc__)
    parser.add_argument("--service", action="append", choices=names)
    parser.add_argument(
        "--check", action="store_true", help="compare with the live read models instead of replacing them"
    )
    parser.add_argument(
        "--repair-write-indexes",
        action="store_true",
        help="replace the write-side collections (claims, indexes, counters) by ones built from the events; "
        "only while the service is stopped",
    )
    args = parser.parse_args()
    results = asyncio.run(
        rebuild_all(args.service or names, check=args.check, repair=args.repair_write_indexes)
    )
    failed = False
    for result in results:
        for report in result.reports:
            rate = report.events_applied / report.seconds if report.seconds else 0
            verdict = "identical" if result.checked and not report.differences else ""
            verdict = verdict or ("DIFFERS" if report.differences else "swapped" if report.swapped else "")
            print(
                f"{result.service:<14} {report.projection:<24} {report.records_read:>7} records "
                f"{report.events_applied:>7} applied  {report.seconds:6.2f}s  {rate:8.0f} events/s  {verdict}"
            )
            for poison in report.poison[:5]:
                print(f"{'':<14} skipped (cannot be applied): {mask_personal_data(poison)}")
        if result.differences:
            failed = True
            differences = mask_personal_data(str(result.differences))
            print(f"{result.service}: rebuilt read model differs: {differences}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
