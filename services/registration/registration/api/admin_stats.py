"""`GET /api/registration/admin/stats`: enterprise registrations per city and status (the administrator's
dashboard), counted on the `enterprises` read model (indexed by city and status)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.mongo import Database
from servicekit.stats import AdminStats, admin_stats, count_by, count_table

from ..domain.enterprise import STATUS_LABELS
from ..projections.enterprises import COLLECTION

router = APIRouter(prefix="/api/registration/admin", tags=["管理统计"])

Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]


async def registration_stats(db: Database) -> AdminStats:
    counts = await count_by(db[COLLECTION], "city", "status")
    table = count_table(
        counts,
        title="企业注册审核",
        dimension="城市",
        labels={str(k): v for k, v in STATUS_LABELS.items()},
        note="按企业注册所在城市；状态为最近一次提交的审核结果",
    )
    return admin_stats("registration", [table])


@router.get("/stats", response_model=AdminStats, summary="各城市企业注册待审核、通过、不通过数量（仅管理员）")
async def stats(_: Admin, runtime: RuntimeDep) -> AdminStats:
    return await registration_stats(runtime.db)
