"""HTTP API of the enrollment context."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import Forbidden, NotFound
from servicekit.mongo import without_id

from ..application import handlers
from ..domain import applicant as applicant_domain
from ..projections.read_models import APPLICANTS, ENTERPRISES

router = APIRouter(prefix="/api/enrollment", tags=["学员报名"])


Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]


async def approved_enterprise(
    identity: Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))], rt: RuntimeDep
) -> Identity:
    """Only an enterprise whose registration its city approved may use enrollment."""
    doc = await rt.db[ENTERPRISES].find_one({"_id": identity.org_id})
    if doc is None or doc.get("status") != "approved":
        reason = {"submitted": "企业注册正在等待审核", "rejected": "企业注册审核未通过"}.get(
            (doc or {}).get("status", ""), "企业尚未提交注册信息"
        )
        raise Forbidden(f"{reason}，经所在市建设主管部门审核通过后方可报名", code="enterprise_not_approved")
    return identity


ApprovedEnterprise = Annotated[Identity, Depends(approved_enterprise)]


async def enrollment_viewer(
    identity: Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN))],
    rt: RuntimeDep,
) -> Identity:
    """Enterprises (approved ones only), institutions and administrators."""
    if identity.role is Role.ENTERPRISE:
        await approved_enterprise(identity, rt)
    return identity


Viewer = Annotated[Identity, Depends(enrollment_viewer)]


class ApplicantRow(BaseModel):
    name: str = Field(min_length=1, description="姓名")
    gender: str = Field(description="性别：男/女")
    id_number: str = Field(description="身份证号（18 位）")
    mobile: str = ""
    education: str = ""
    employer: str = ""
    major: str = ""
    graduated_on: date | None = None
    years_in_post: int | None = None


class BatchRequest(BaseModel):
    institution_id: str
    position: str = Field(description="岗位，如 施工员、质量员、安全员")
    specialisation: str | None = None
    training_mode: str = Field(description="online（线上）或 offline（线下）")
    continuing_education: bool = False
    applicants: list[ApplicantRow] = Field(min_length=1)


class BatchCreated(BaseModel):
    batch_id: str
    applicant_ids: list[str]
    count: int


class RejectRequest(BaseModel):
    reason: str


def _applicant_view(doc: dict[str, Any]) -> dict[str, Any]:
    status = applicant_domain.Status(doc["status"])
    return {**without_id(doc, "applicant_id"), "status_label": applicant_domain.STATUS_LABELS[status]}


@router.post(
    "/batches",
    status_code=201,
    response_model=BatchCreated,
    summary="导入一批学员（同一机构、岗位、培训方式）",
)
async def import_batch(body: BatchRequest, identity: ApprovedEnterprise, rt: RuntimeDep) -> BatchCreated:
    batch_id, ids = await handlers.import_applicants(
        rt.store,
        enterprise_id=identity.org_id or "",
        institution_id=body.institution_id,
        position=body.position,
        specialisation=body.specialisation,
        training_mode=body.training_mode,
        continuing_education=body.continuing_education,
        records=[row.model_dump() for row in body.applicants],
    )
    return BatchCreated(batch_id=batch_id, applicant_ids=ids, count=len(ids))


@router.get("/applicants", summary="学员列表：企业看本企业的，培训机构看向本机构报名的")
async def list_applicants(
    identity: Viewer,
    rt: RuntimeDep,
    status: applicant_domain.Status | None = None,
    batch_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    skip: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    query = scope_filter(identity)
    if status:
        query["status"] = status.value
    if batch_id:
        query["batch_id"] = batch_id
    cursor = rt.db[APPLICANTS].find(query).sort("imported_at", 1).skip(skip).limit(limit)
    return {
        "items": [_applicant_view(doc) async for doc in cursor],
        "total": await rt.db[APPLICANTS].count_documents(query),
    }


@router.get("/applicants/{applicant_id}", summary="一名学员的报名信息与状态")
async def get_applicant(
    applicant_id: str,
    identity: Viewer,
    rt: RuntimeDep,
) -> dict[str, Any]:
    state, version = await handlers.load_applicant(rt.store, applicant_id)
    owner = state.batch.enterprise_id if identity.role is Role.ENTERPRISE else state.batch.institution_id
    if identity.role is not Role.ADMIN and owner != identity.org_id:
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    return {
        "applicant_id": applicant_id,
        **state.record.model_dump(mode="json", exclude={"applicant_id"}),
        "batch_id": state.batch.batch_id,
        "enterprise_id": state.batch.enterprise_id,
        "institution_id": state.batch.institution_id,
        "position": state.batch.position,
        "training_mode": state.batch.training_mode,
        "status": state.status.value,
        "status_label": applicant_domain.STATUS_LABELS[state.status],
        "rejection_reason": state.rejection_reason,
        "order_id": state.order_id,
        "version": version,
    }


@router.post("/applicants/{applicant_id}/qualify", status_code=204, summary="资格审核通过（已审核）")
async def qualify(applicant_id: str, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.change_applicant(
        rt.store,
        applicant_id,
        lambda s: applicant_domain.qualify(s, reviewer_id=identity.account_id),
        institution_id=identity.org_id,
    )


@router.post("/applicants/{applicant_id}/reject", status_code=204, summary="资格审核不通过（须填写原因）")
async def reject(applicant_id: str, body: RejectRequest, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.change_applicant(
        rt.store,
        applicant_id,
        lambda s: applicant_domain.reject(s, reviewer_id=identity.account_id, reason=body.reason),
        institution_id=identity.org_id,
    )


@router.post(
    "/applicants/{applicant_id}/apply-exam", status_code=204, summary="为已报名（培训完成）的学员申请考试"
)
async def apply_exam(applicant_id: str, identity: Institution, rt: RuntimeDep) -> None:
    await handlers.change_applicant(
        rt.store, applicant_id, applicant_domain.apply_for_exam, institution_id=identity.org_id
    )
