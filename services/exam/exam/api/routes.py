"""HTTP API of the exam context."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.mongo import without_id

from ..application import handlers
from ..domain.attempt import ScoringRules
from ..projections.read_models import CANDIDATES
from ..settings import ExamSettings

router = APIRouter(prefix="/api/exam", tags=["考试"])


Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]


class ResultRequest(BaseModel):
    applicant_id: str
    score: int = Field(description="机考成绩（满分 100 分，60 分合格，可配置）")


@router.get("/candidates", summary="本机构的考生")
async def list_candidates(
    identity: Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))],
    rt: RuntimeDep,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    query = scope_filter(identity, enterprise=None)
    items = [without_id(d, "applicant_id") async for d in rt.db[CANDIDATES].find(query).limit(limit)]
    return {"items": items}


@router.post("/results", status_code=201, summary="记录考试成绩（合格即发证）")
async def record_result(body: ResultRequest, identity: Institution, rt: RuntimeDep) -> dict[str, Any]:
    settings = rt.settings
    assert isinstance(settings, ExamSettings)
    rules = ScoringRules(full_marks=settings.exam_full_marks, pass_mark=settings.exam_pass_mark)
    attempt_id = await handlers.record_score(
        rt.store, body.applicant_id, institution_id=identity.org_id, score=body.score, rules=rules
    )
    return {"attempt_id": attempt_id, "passed": body.score >= rules.pass_mark, "score": body.score}
