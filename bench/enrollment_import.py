"""Summary-sheet import throughput (附件4, enrollment), in process, no servers needed.

Measured in one run, on the same in-memory .xlsx (N valid rows, ID numbers as text):
- baseline: openpyxl alone, `load_workbook(read_only=True, data_only=True)` and every cell value read;
- import: `read_sheet` + `validate_sheet`, the service's whole path from the uploaded bytes to the records.
Each figure is the best of 3 runs (the two alternate).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date

from enrollment.adapters.spreadsheet import read_sheet
from enrollment.domain.identity import id_check_character
from enrollment.domain.reference import EDUCATION_LEVELS
from enrollment.domain.sheet import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, SheetRules, validate_sheet
from openpyxl import Workbook, load_workbook

TODAY = date(2025, 6, 1)
REGIONS = ("330106", "330203", "330302", "330402", "330502", "330602", "330702", "330802", "330902")
RUNS = 3


def valid_id(n: int) -> str:
    """A distinct valid ID number for every n (aged 25–50 on TODAY)."""
    birth = date(1975 + n % 26, 1 + n % 12, 1 + n % 28)
    sequence = f"{(n // 3) % 1000:03d}"
    first17 = f"{REGIONS[n % len(REGIONS)]}{birth:%Y%m%d}{sequence}"
    return first17 + id_check_character(first17)


EMPLOYER = "杭州建工集团有限公司"  # the registered name of the tests' and benches' enterprise


def build_sheet(rows: int, employer: str = EMPLOYER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS])
    educations = list(EDUCATION_LEVELS)
    seen: set[str] = set()
    n = 0
    while len(seen) < rows:
        number = valid_id(n)
        n += 1
        if number in seen:
            continue
        seen.add(number)
        gender = "男" if int(number[16]) % 2 else "女"
        sheet.append(
            [
                f"学员{len(seen):05d}",
                gender,
                number,
                f"13{len(seen):09d}",
                educations[len(seen) % len(educations)],
                employer,
                "土木工程",
                "2010-06-30",
                3,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def openpyxl_only(data: bytes) -> int:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        count = 0
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            for _value in row:
                count += 1
        return count
    finally:
        workbook.close()


def full_import(data: bytes) -> int:
    header, rows = read_sheet(data)
    result = validate_sheet(header, rows, SheetRules(today=TODAY))
    if result.problems:
        raise AssertionError(f"the benchmark sheet should be valid: {result.problems[:3]}")
    return len(result.records)


def best_of(runs: int, *works: Callable[[], object]) -> list[float]:
    """Best time of each work over `runs` rounds; the works alternate, so that load drift hits both alike."""
    best = [float("inf")] * len(works)
    for _ in range(runs):
        for index, work in enumerate(works):
            started = time.perf_counter()
            work()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def run(rows: int = 5000) -> None:
    data = build_sheet(rows)
    baseline, full = best_of(RUNS, lambda: openpyxl_only(data), lambda: full_import(data))
    lines = [
        ("openpyxl read_only load + cells", baseline, "baseline"),
        ("read_sheet + validate_sheet", full, f"ratio {full / baseline:.3f} of the baseline's time"),
    ]
    print(f"\nsummary-sheet import, {rows} rows × 9 columns ({len(data) // 1024} KiB .xlsx), best of {RUNS}")
    for label, seconds, note in lines:
        print(f"  {label:<34} {rows / seconds:8.0f} {'rows/s':<9} ({seconds:6.2f} s)  {note}")


if __name__ == "__main__":
    run()
