"""`make bench`: every benchmark, each printed as a ratio against a baseline measured in the same run."""

from __future__ import annotations

import asyncio
import os
import sys

from bench import enrollment_import, exam_peak, face_check, import_visible, large_batch, pipeline, web_size


def main() -> int:
    web_size.run()  # first: it needs no server
    events = int(os.environ.get("BENCH_EVENTS", "3000"))
    asyncio.run(pipeline.main(events))
    enrollment_import.run()
    face_check.run(int(os.environ.get("BENCH_FACE_CHECKS", "20")))
    exam_peak.run()
    import_visible.run()
    large_batch.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
