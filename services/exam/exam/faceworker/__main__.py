"""`python -m exam.faceworker`: one face worker process (run as many as needed; they share the load)."""

from __future__ import annotations

import asyncio
import signal

from servicekit.logging import configure_logging

from .settings import FaceWorkerSettings
from .worker import FaceWorker


async def _main() -> None:
    settings = FaceWorkerSettings()
    configure_logging("faceworker", settings.log_level, settings.log_json)
    worker = FaceWorker(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)  # the check in progress is finished, answered and committed
    await worker.run(stop)


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
