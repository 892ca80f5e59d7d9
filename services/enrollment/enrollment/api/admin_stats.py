"""`GET /api/enrollment/admin/stats`: applicants per city and status (the administrator's dashboard).

Counted on the `applicants` read model (one `$group` by enterprise and status, indexed by status); the city is
the employer's, from this service's own `enterprise_status` read model (what registration's events told it),
never from the registration service's data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.mongo import Database
from servicekit.stats import UNKNOWN, AdminStats, admin_stats, count_by, count_table

from ..domain.applicant import STATUS_LABELS
from ..projections.read_models import APPLICANTS, ENTERPRISES

router = APIRouter(prefix="/api/enrollment/admin", tags=["管理统计"])

Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]


async def enrollment_stats(db: Database) -> AdminStats:
    counts = await count_by(db[APPLICANTS], "enterprise_id", "status")
    enterprises = sorted({enterprise for enterprise, _ in counts if enterprise != UNKNOWN})
    cities = {
        str(doc["_id"]): str(doc.get("city") or UNKNOWN)
        async for doc in db[ENTERPRISES].find({"_id": {"$in": enterprises}}, {"city": 1})
    }
    table = count_table(
        counts,
        title="学员报名状态",
        dimension="城市",
        labels={str(k): v for k, v in STATUS_LABELS.items()},
        row_of=lambda enterprise: cities.get(enterprise, UNKNOWN),
        note="按学员所在企业的注册城市；每位学员按其当前报名状态计一次",
    )
    return admin_stats("enrollment", [table])


@router.get("/stats", response_model=AdminStats, summary="各城市学员各报名状态的人数（仅管理员）")
async def stats(_: Admin, runtime: RuntimeDep) -> AdminStats:
    return await enrollment_stats(runtime.db)
