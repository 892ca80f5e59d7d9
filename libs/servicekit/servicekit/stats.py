"""Counts for the administrator's dashboard (`GET /api/<service>/admin/stats`), from a service's read models.

Each service counts what it owns with one aggregation per read model (`count_by`: `$group` on two fields)
and answers tables of the same shape (`CountTable`: one row per city, position…, one column per status),
so the console shows every service's counts the same way. A service never reads another's data for these:
a read model without the city is counted by what it has, and its table says so (`note`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from .mongo import Collection

UNKNOWN = "（未填写）"


class StatusColumn(BaseModel):
    key: str
    label: str


class CountRow(BaseModel):
    key: str = Field(description="城市、岗位等（行）")
    counts: dict[str, int] = Field(description="每个状态（列）的数量")
    total: int
    rate: float | None = Field(default=None, description="比率（如合格率，0–1），无则为空")


class CountTable(BaseModel):
    title: str
    dimension: str = Field(description="行的含义，如“城市”")
    columns: list[StatusColumn]
    rows: list[CountRow]
    totals: CountRow
    rate_label: str | None = Field(default=None, description="比率列的名称（如“合格率”）")
    note: str = Field(default="", description="口径说明")


class AdminStats(BaseModel):
    service: str
    generated_at: datetime
    tables: list[CountTable]


async def count_by(
    collection: Collection, row: str, column: str, match: Mapping[str, Any] | None = None
) -> dict[tuple[str, str], int]:
    """How many documents per (`row` value, `column` value), with one `$group` (missing values: `UNKNOWN`)."""
    pipeline: list[dict[str, Any]] = [
        {"$match": dict(match or {})},
        {"$group": {"_id": {"row": f"${row}", "column": f"${column}"}, "n": {"$sum": 1}}},
    ]
    counts: dict[tuple[str, str], int] = {}
    async for doc in await collection.aggregate(pipeline):
        key = doc.get("_id") or {}
        cell = (str(key.get("row") or UNKNOWN), str(key.get("column") or UNKNOWN))
        counts[cell] = counts.get(cell, 0) + int(doc.get("n") or 0)
    return counts


def count_table(
    counts: Mapping[tuple[str, str], int],
    *,
    title: str,
    dimension: str,
    labels: Mapping[str, str],
    row_of: Callable[[str], str] = lambda key: key,
    rate: tuple[str, Callable[[Mapping[str, int]], float | None]] | None = None,
    note: str = "",
) -> CountTable:
    """A table from `count_by`'s counts: the columns are `labels` (in their order) then any value met that has
    no label; `row_of` maps a row value (an enterprise id…) to the row shown (its city…)."""
    columns = [StatusColumn(key=k, label=v) for k, v in labels.items()]
    known = set(labels)
    for _, column in sorted(counts):
        if column not in known:
            known.add(column)
            columns.append(StatusColumn(key=column, label=column))
    rows: dict[str, dict[str, int]] = {}
    for (row, column), n in counts.items():
        cells = rows.setdefault(row_of(row), {})
        cells[column] = cells.get(column, 0) + n

    def make(key: str, cells: Mapping[str, int]) -> CountRow:
        filled = {c.key: int(cells.get(c.key, 0)) for c in columns}
        value = rate[1](filled) if rate else None
        return CountRow(key=key, counts=filled, total=sum(filled.values()), rate=value)

    totals: dict[str, int] = {}
    for cells in rows.values():
        for column, n in cells.items():
            totals[column] = totals.get(column, 0) + n
    ordered = sorted(rows.items(), key=lambda item: (item[0] == UNKNOWN, -sum(item[1].values()), item[0]))
    return CountTable(
        title=title,
        dimension=dimension,
        columns=columns,
        rows=[make(k, v) for k, v in ordered],
        totals=make("合计", totals),
        rate_label=rate[0] if rate else None,
        note=note,
    )


def admin_stats(service: str, tables: list[CountTable]) -> AdminStats:
    return AdminStats(service=service, generated_at=datetime.now(UTC), tables=tables)
