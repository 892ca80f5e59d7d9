"""`GET /api/certification/admin/stats`: certificates per state, by city and by position (the
administrator's dashboard), counted on the `certificates` read model (one `$group` each).

The city is the issuing institution's, from this service's own `institutions` read model (what enrollment's
`OfferPublished` told it); imported legacy certificates have no institution and are shown as such."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.mongo import Database
from servicekit.stats import UNKNOWN, AdminStats, admin_stats, count_by, count_table

from ..domain.certificate import STATES
from ..projections.read_models import CERTIFICATES, INSTITUTIONS

router = APIRouter(prefix="/api/certification/admin", tags=["管理统计"])

Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]

LEGACY = "历史证书（导入）"


async def certification_stats(db: Database) -> AdminStats:
    certificates = db[CERTIFICATES]
    by_institution = await count_by(certificates, "institution_id", "state")
    institutions = sorted({i for i, _ in by_institution if i != UNKNOWN})
    cities = {
        str(doc["_id"]): str(doc.get("city") or UNKNOWN)
        async for doc in db[INSTITUTIONS].find({"_id": {"$in": institutions}}, {"city": 1})
    }
    by_city = count_table(
        by_institution,
        title="证书状态（按城市）",
        dimension="城市",
        labels=STATES,
        row_of=lambda institution: LEGACY if institution == UNKNOWN else cities.get(institution, UNKNOWN),
        note="按发证培训机构所在城市；导入的历史证书单列",
    )
    by_position = count_table(
        await count_by(certificates, "position", "state"),
        title="证书状态（按岗位）",
        dimension="岗位",
        labels=STATES,
    )
    return admin_stats("certification", [by_city, by_position])


@router.get("/stats", response_model=AdminStats, summary="各城市、各岗位证书状态数量（仅管理员）")
async def stats(_: Admin, runtime: RuntimeDep) -> AdminStats:
    return await certification_stats(runtime.db)
