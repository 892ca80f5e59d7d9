"""HTTP API of training plans (培训计划): institutions plan, complete and send trainees to the exam; the
enterprise that enrolled an applicant sees the applicant's plan."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.mongo import Document, without_id
from servicekit.paging import BoundedModel, Paging

from ..application import handlers
from ..application import training as training_app
from ..domain import applicant as applicant_domain
from ..domain import training as domain
from ..domain.reference import TRAINING_MODES
from ..projections.read_models import APPLICANTS
from ..projections.training import APPLICANT_TRAINING, TRAINING_PLANS

router = APIRouter(prefix="/api/enrollment", tags=["培训计划"])

Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
PlanViewer = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]
TrainingViewer = Annotated[
    Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN, Role.PERSON))
]


def may_see_training(identity: Identity, *, enterprise_id: str, institution_id: str, id_number: str) -> bool:
    """An applicant's training: the enterprise that enrolled them, the institution they enrolled with, the
    person themselves (我的培训: the person's `org_id` is their ID number), the administrator."""
    if identity.role is Role.ADMIN:
        return True
    if not identity.org_id:
        return False
    owner = {
        Role.ENTERPRISE: enterprise_id,
        Role.INSTITUTION: institution_id,
        Role.PERSON: id_number,
    }.get(identity.role)
    return owner is not None and owner == identity.org_id


_DATE_SCHEMA: dict[str, Any] = {"format": "date", "examples": ["2026-03-01"]}


class PlanRequest(BoundedModel):
    """Every field is checked by the domain, all at once, with Chinese messages (`invalid_training_plan`)."""

    name: str | None = Field(default=None, max_length=100, description="计划名称")
    training_mode: str | None = Field(
        default=None, max_length=20, description="培训方式：online（线上）或 offline（线下）"
    )
    position: str | None = Field(default=None, max_length=20, description="岗位，如 施工员、质量员、安全员")
    starts_on: str | None = Field(
        default=None, max_length=32, description="开始日期（YYYY-MM-DD）", json_schema_extra=_DATE_SCHEMA
    )
    ends_on: str | None = Field(
        default=None,
        max_length=32,
        description="结束日期（YYYY-MM-DD），不早于开始日期",
        json_schema_extra=_DATE_SCHEMA,
    )
    place: str | None = Field(default=None, max_length=200, description="培训地点（线下培训必填）")
    platform: str | None = Field(
        default=None, max_length=500, description="网络培训平台名称或网址（线上培训必填）"
    )
    schedule: str | None = Field(default=None, description="课程安排（自由文本）")
    continuing_education: bool = Field(
        default=False,
        description="继续教育培训计划（只能加入继续教育学员；完成培训后按本计划的学时登记，不参加考试）",
    )
    professional_hours: float | None = Field(
        default=None,
        description=f"专业科目学时（继续教育计划必填，0–{domain.MAX_PLAN_HOURS}；新取证计划不填）",
    )
    general_hours: float | None = Field(
        default=None,
        description=f"公共科目学时（继续教育计划必填，0–{domain.MAX_PLAN_HOURS}，与专业科目合计须大于 0、"
        f"不超过 {domain.MAX_PLAN_HOURS}；新取证计划不填）",
    )


class ApplicantIds(BoundedModel):
    applicant_ids: list[Annotated[str, Field(max_length=64)]] = Field(
        description=f"学员编号（一次最多 {domain.MAX_APPLICANTS_PER_REQUEST} 名）"
    )


def _mode_label(mode: str) -> str:
    return TRAINING_MODES.get(mode, mode)


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _plan_view(plan: domain.Plan) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "institution_id": plan.institution_id,
        "name": plan.name,
        "training_mode": plan.training_mode,
        "training_mode_label": plan.mode_label,
        "position": plan.position,
        "starts_on": plan.starts_on.isoformat(),
        "ends_on": plan.ends_on.isoformat(),
        "place": plan.place,
        "platform": plan.platform,
        "schedule": plan.schedule,
        "continuing_education": plan.continuing_education,
        "professional_hours": plan.professional_hours,
        "general_hours": plan.general_hours,
    }


def _plan_doc_view(doc: Document) -> dict[str, Any]:
    return {**without_id(doc, "plan_id"), "training_mode_label": _mode_label(doc.get("training_mode", ""))}


def _state(doc: Document) -> domain.TraineeState:
    return domain.trainee_state(
        completed=bool(doc.get("completed")), exam_applied=bool(doc.get("exam_applied"))
    )


def _trainee_view(doc: Document, applicant: Document | None) -> dict[str, Any]:
    state = _state(doc)
    applicant = applicant or {}
    return {
        "applicant_id": doc["_id"],
        "name": applicant.get("name", ""),
        "gender": applicant.get("gender", ""),
        "id_number": applicant.get("id_number", ""),
        "employer": applicant.get("employer", ""),
        "enterprise_id": doc.get("enterprise_id", ""),
        "state": state.value,
        "state_label": domain.TRAINEE_STATE_LABELS[state],
        "planned_at": doc.get("planned_at"),
        "completed": bool(doc.get("completed")),
        "completed_at": doc.get("completed_at"),
        "exam_applied": bool(doc.get("exam_applied")),
        "exam_applied_at": doc.get("exam_applied_at"),
    }


@router.post(
    "/training-plans", status_code=201, summary="创建培训计划（培训方式、日期、地点或网络平台、课程安排）"
)
async def create_plan(
    body: PlanRequest, identity: Institution, rt: RuntimeDep, idem: IdempotencyDep
) -> dict[str, Any]:
    async def work() -> dict[str, Any]:
        plan = await training_app.create_plan(
            rt.store, institution_id=identity.org_id or "", form=domain.PlanForm(**body.model_dump())
        )
        return {**_plan_view(plan), "trainee_count": 0, "completed_count": 0, "exam_applied_count": 0}

    return await idem.run(body, work)


@router.get("/training-plans", summary="培训计划列表：培训机构看本机构的，管理员看全部")
async def list_plans(
    identity: PlanViewer,
    rt: RuntimeDep,
    page: Paging,
    training_mode: str | None = Query(default=None, max_length=20),
    position: str | None = Query(default=None, max_length=20),
) -> dict[str, Any]:
    query: dict[str, Any] = {**scope_filter(identity, enterprise=None), "created_at": {"$ne": None}}
    if training_mode:
        query["training_mode"] = training_mode
    if position:
        query["position"] = position
    cursor = page.apply(rt.db[TRAINING_PLANS].find(query).sort([("starts_on", -1), ("_id", 1)]))
    return {
        "items": [_plan_doc_view(doc) async for doc in cursor],
        "total": await rt.db[TRAINING_PLANS].count_documents(query),
    }


@router.get(
    "/training-plans/{plan_id}", summary="一个培训计划及其学员（已安排培训 / 已完成培训 / 已申请考试）"
)
async def get_plan(plan_id: str, identity: PlanViewer, rt: RuntimeDep) -> dict[str, Any]:
    owner = None if identity.role is Role.ADMIN else identity.org_id or ""
    plan = await training_app.load_plan(rt.store, plan_id, institution_id=owner)
    docs = [doc async for doc in rt.db[APPLICANT_TRAINING].find({"plan_id": plan_id}).sort("planned_at", 1)]
    applicants = {
        doc["_id"]: doc
        async for doc in rt.db[APPLICANTS].find(
            {"_id": {"$in": [d["_id"] for d in docs]}},
            {"name": 1, "gender": 1, "id_number": 1, "employer": 1},
        )
    }
    trainees = [_trainee_view(doc, applicants.get(doc["_id"])) for doc in docs]
    return {
        **_plan_view(plan),
        "trainee_count": len(trainees),
        "completed_count": sum(1 for t in trainees if t["completed"]),
        "exam_applied_count": sum(1 for t in trainees if t["exam_applied"]),
        "trainees": trainees,
    }


@router.post(
    "/training-plans/{plan_id}/trainees",
    summary="把已报名的学员加入培训计划（全部符合条件才添加，否则逐人说明原因）",
)
async def add_trainees(
    plan_id: str, body: ApplicantIds, identity: Institution, rt: RuntimeDep
) -> dict[str, Any]:
    outcome = await training_app.add_trainees(
        rt.store, plan_id=plan_id, institution_id=identity.org_id or "", applicant_ids=body.applicant_ids
    )
    return {"plan_id": plan_id, "added": outcome.done, "already_in_plan": outcome.unchanged}


@router.post(
    "/training-plans/{plan_id}/completion",
    summary="登记培训完成（学员须在本计划中；全部符合条件才登记）",
)
async def record_completion(
    plan_id: str, body: ApplicantIds, identity: Institution, rt: RuntimeDep
) -> dict[str, Any]:
    outcome = await training_app.record_completion(
        rt.store, plan_id=plan_id, institution_id=identity.org_id or "", applicant_ids=body.applicant_ids
    )
    return {"plan_id": plan_id, "completed": outcome.done, "already_completed": outcome.unchanged}


@router.post(
    "/training-plans/{plan_id}/apply-exam",
    summary="为完成培训且有合格头像的学员申请考试；考试未通过的学员可再次申请（补考）；不符合的逐人列出原因",
)
async def apply_exam(
    plan_id: str, body: ApplicantIds, identity: Institution, rt: RuntimeDep
) -> dict[str, Any]:
    assert rt.objects is not None
    outcome = await training_app.apply_for_exam(
        rt.store,
        plan_id=plan_id,
        institution_id=identity.org_id or "",
        applicant_ids=body.applicant_ids,
        bucket=rt.objects.bucket,
    )
    return {
        "plan_id": plan_id,
        "applied": outcome.done,
        "retakes": outcome.retakes,
        "already_applied": outcome.unchanged,
        "refused": [r.as_detail() for r in outcome.refused],
    }


@router.get(
    "/applicants/{applicant_id}/training",
    summary="学员的培训安排（培训计划、日期、地点或网络平台、课程安排）与完成情况（企业、培训机构、学员本人）",
)
async def applicant_training(applicant_id: str, identity: TrainingViewer, rt: RuntimeDep) -> dict[str, Any]:
    state, _ = await handlers.load_applicant(rt.store, applicant_id)
    if not may_see_training(
        identity,
        enterprise_id=state.batch.enterprise_id,
        institution_id=state.batch.institution_id,
        id_number=state.record.id_number,
    ):
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    doc = await rt.db[APPLICANT_TRAINING].find_one({"_id": applicant_id})
    result: dict[str, Any] = {
        "applicant_id": applicant_id,
        "name": state.record.name,
        "position": state.batch.position,
        "training_mode": state.batch.training_mode,
        "training_mode_label": _mode_label(state.batch.training_mode),
        "status": state.status.value,
        "status_label": applicant_domain.STATUS_LABELS[state.status],
    }
    if doc is None or not doc.get("plan_id"):
        return {
            **result,
            "planned": False,
            "plan": None,
            "state": None,
            "state_label": "尚未安排培训",
            "completed": False,
            "exam_applied": False,
        }
    trainee_state = _state(doc)
    return {
        **result,
        "planned": True,
        "plan": {
            "plan_id": doc["plan_id"],
            "name": doc.get("plan_name", ""),
            "training_mode": doc.get("training_mode", ""),
            "training_mode_label": _mode_label(doc.get("training_mode", "")),
            "position": doc.get("position", ""),
            "starts_on": _iso(doc.get("starts_on")),
            "ends_on": _iso(doc.get("ends_on")),
            "place": doc.get("place", ""),
            "platform": doc.get("platform", ""),
            "schedule": doc.get("schedule", ""),
        },
        "state": trainee_state.value,
        "state_label": domain.TRAINEE_STATE_LABELS[trainee_state],
        "planned_at": doc.get("planned_at"),
        "completed": bool(doc.get("completed")),
        "completed_at": doc.get("completed_at"),
        "exam_applied": bool(doc.get("exam_applied")),
        "exam_applied_at": doc.get("exam_applied_at"),
    }
