"""`make bench`: every benchmark, each printed as a ratio against a baseline measured in the same run.

`python -m bench NAME …` runs only the named ones (e.g. `python -m bench face_scaling`)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

from bench import (
    enrollment_import,
    exam_peak,
    face_check,
    face_scaling,
    import_visible,
    large_batch,
    pipeline,
    web_size,
)

BENCHES: dict[str, Callable[[], object]] = {
    "web_size": web_size.run,  # first: it needs no server
    "pipeline": lambda: asyncio.run(pipeline.main(int(os.environ.get("BENCH_EVENTS", "3000")))),
    "enrollment_import": enrollment_import.run,
    "face_check": lambda: face_check.run(int(os.environ.get("BENCH_FACE_CHECKS", "20"))),
    "face_scaling": face_scaling.run,
    "exam_peak": exam_peak.run,
    "import_visible": import_visible.run,
    "large_batch": large_batch.run,
}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    for name in names or list(BENCHES):
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
