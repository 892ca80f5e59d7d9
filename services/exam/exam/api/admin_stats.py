"""`GET /api/exam/admin/stats`: exam sessions and candidates per position, with the pass rate (the
administrator's dashboard), counted on the `exam_sessions` and `candidates` read models (one `$group` each).

The exam service's read models carry the institution and the position but not the city (its events do not
name one), so these tables are per position; the per-city counts come from registration and enrollment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.mongo import Database
from servicekit.stats import AdminStats, admin_stats, count_by, count_table

from ..projections.candidates import CANDIDATES, STATUS_LABELS
from ..projections.sessions import SESSIONS

router = APIRouter(prefix="/api/exam/admin", tags=["管理统计"])

Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]

SESSION_LABELS = {"scheduled": "已排定", "cancelled": "已取消"}


def pass_rate(counts: Mapping[str, int]) -> float | None:
    sat = counts.get("passed", 0) + counts.get("failed", 0)
    return round(counts.get("passed", 0) / sat, 4) if sat else None


async def exam_stats(db: Database) -> AdminStats:
    sessions = count_table(
        await count_by(db[SESSIONS], "position", "status"),
        title="考试场次",
        dimension="岗位",
        labels=SESSION_LABELS,
        note="考试服务的数据不含城市，按岗位统计",
    )
    candidates = count_table(
        await count_by(db[CANDIDATES], "position", "status"),
        title="考生状态与合格率",
        dimension="岗位",
        labels=STATUS_LABELS,
        rate=("合格率", pass_rate),
        note="每次考试申请计一名考生；合格率 = 合格 ÷（合格 + 不合格）；考试服务的数据不含城市，按岗位统计",
    )
    return admin_stats("exam", [sessions, candidates])


@router.get("/stats", response_model=AdminStats, summary="各岗位考试场次、考生状态与合格率（仅管理员）")
async def stats(_: Admin, runtime: RuntimeDep) -> AdminStats:
    return await exam_stats(runtime.db)
