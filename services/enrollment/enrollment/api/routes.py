"""HTTP API of the enrollment context: batches, materials, review, corrections, templates."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import Field
from servicekit import clock, uploads
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.bodylimit import MiB, body_limit
from servicekit.errors import DomainError, Forbidden, NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.jobs import Progress
from servicekit.mongo import without_id
from servicekit.paging import BoundedModel, Paging

from ..adapters import forms as form_pdfs
from ..adapters.spreadsheet import SpreadsheetError, read_sheet, summary_template
from ..application import handlers, imports, materials, review
from ..application import profile as profile_app
from ..application.institutions import ensure_offered
from ..application.sanctions import ensure_enrollment_open
from ..domain import applicant as applicant_domain
from ..projections.read_models import APPLICANTS, ENTERPRISES, MATERIALS_HEAD_PHOTO, PERSON_PROFILES
from ..settings import EnrollmentSettings

router = APIRouter(prefix="/api/enrollment", tags=["学员报名"])

Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _settings(rt: RuntimeDep) -> EnrollmentSettings:
    settings = rt.settings
    assert isinstance(settings, EnrollmentSettings)
    return settings


Settings = Annotated[EnrollmentSettings, Depends(_settings)]


async def approved_enterprise(
    identity: Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))], rt: RuntimeDep
) -> Identity:
    """Only an enterprise whose registration its city approved may use enrollment."""
    doc = await rt.db[ENTERPRISES].find_one({"_id": identity.org_id})
    if doc is None or doc.get("status") != "approved":
        # What enrollment knows from registration's events, which arrive a moment after registration
        # answered: each reason says what may still be on its way (never "not submitted" for a lag).
        reason = {
            "submitted": "企业注册正在等待审核（如已审核通过，审核结果正在处理中，请稍后再试）",
            "rejected": "企业注册审核未通过（如已修改后重新提交，正在处理中，请稍后再试）",
        }.get(
            (doc or {}).get("status", ""),
            "尚未获知本企业的注册信息（刚提交的注册正在处理中，请稍后再试；尚未提交的请先提交注册信息）",
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


class ApplicantRow(BoundedModel):
    name: str = Field(default="", max_length=50, description="姓名")
    gender: str = Field(default="", max_length=10, description="性别：男/女")
    id_number: str = Field(default="", max_length=18, description="身份证号（18 位）")
    mobile: str = Field(default="", max_length=20)
    education: str = Field(
        default="",
        max_length=20,
        description="学历：研究生、本科、专科、中职、高中（大专、中专、职高、技校、硕士研究生、博士研究生"
        "按对应学历保存）",
    )
    employer: str = Field(default="", max_length=100, description="工作单位：本企业注册的全称")
    major: str = Field(default="", max_length=100)
    graduated_on: date | None = None
    years_in_post: int | None = Field(default=None, ge=0, le=100)


class BatchRequest(BoundedModel):
    institution_id: str = Field(max_length=64)
    position: str = Field(max_length=20, description="岗位，如 施工员、质量员、安全员")
    specialisation: str | None = Field(default=None, max_length=20, description="施工员、质量员须选专业方向")
    training_mode: str = Field(max_length=20, description="online（线上）或 offline（线下）")
    continuing_education: bool = False
    applicants: list[ApplicantRow] = Field(min_length=1, max_length=500)


class RejectRequest(BoundedModel):
    reason: str = Field(max_length=500)


class WithdrawRequest(BoundedModel):
    reason: str = Field(default="", max_length=200, description="撤回原因（可不填）")


class ReviewRequest(BoundedModel):
    applicant_ids: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=1000)
    decision: str = Field(max_length=20, description="approve（审核通过）或 reject（审核不通过）")
    reason: str = Field(default="", max_length=500)


def _today() -> date:
    """Today in business time (China time by default): ages are counted on the import date there."""
    return clock.today()


def _applicant_view(doc: dict[str, Any]) -> dict[str, Any]:
    status = applicant_domain.Status(doc["status"])
    label = applicant_domain.STATUS_LABELS[status]
    reason = doc.get("closed_reason")
    if status is applicant_domain.Status.CLOSED and reason:
        label = f"{label}（{applicant_domain.CLOSED_REASONS.get(reason, reason)}）"
    return {**without_id(doc, "applicant_id"), "status_label": label}


# ---------------------------------------------------------------- batches


@router.post("/batches", status_code=201, summary="导入一批学员（JSON，最多 500 人；大批量请上传汇总表）")
async def import_batch(
    body: BatchRequest, identity: ApprovedEnterprise, rt: RuntimeDep, idem: IdempotencyDep
) -> dict[str, Any]:
    spec = imports.BatchSpec(
        institution_id=body.institution_id,
        position=body.position,
        specialisation=body.specialisation,
        training_mode=body.training_mode,
        continuing_education=body.continuing_education,
    )
    header, rows = review.rows_from_json([row.model_dump() for row in body.applicants])

    async def work() -> dict[str, Any]:
        return await imports.validate_and_import(
            rt.store, enterprise_id=identity.org_id or "", spec=spec, header=header, rows=rows, today=_today()
        )

    return await idem.run(body, work)


@router.post(
    "/batches/import",
    status_code=202,
    summary="上传报名汇总表（.xlsx）导入一批学员：后台校验每一行，进度与结果见 /jobs/{job_id}",
)
@body_limit(lambda s: s.max_sheet_bytes + MiB)
async def import_sheet(
    identity: ApprovedEnterprise,
    rt: RuntimeDep,
    settings: Settings,
    idem: IdempotencyDep,
    file: Annotated[UploadFile, File(description="报名人员信息汇总表（附件4，.xlsx）")],
    institution_id: Annotated[str, Form()],
    position: Annotated[str, Form()],
    training_mode: Annotated[str, Form()],
    specialisation: Annotated[str | None, Form()] = None,
    continuing_education: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    data = await file.read(settings.max_sheet_bytes + 1)
    if len(data) > settings.max_sheet_bytes:
        raise DomainError(
            f"汇总表文件过大，不能超过 {settings.max_sheet_bytes // 1048576} MB",
            code="file_too_large",
            status=413,
        )
    spec = imports.BatchSpec(
        institution_id=institution_id,
        position=position,
        specialisation=specialisation or None,
        training_mode=training_mode,
        continuing_education=continuing_education,
    )
    imports.check_spec(spec)  # answer at once when the form itself is wrong
    await ensure_offered(rt.store, institution_id, position, spec.specialisation, training_mode)
    await ensure_enrollment_open(rt.store, institution_id, today=_today())
    enterprise_id = identity.org_id or ""

    async def work(progress: Progress) -> dict[str, Any]:
        try:
            header, rows_iter = await asyncio.to_thread(read_sheet, data)
            rows = await asyncio.to_thread(list, rows_iter)
        except SpreadsheetError as exc:
            raise DomainError(exc.message, code=exc.code) from exc
        progress(0, len(rows), "校验")
        header_row = int(getattr(header, "row", 1))
        return await imports.validate_and_import(
            rt.store,
            enterprise_id=enterprise_id,
            spec=spec,
            header=header,
            rows=rows,
            today=_today(),
            progress=lambda done: progress(done, len(rows), "校验"),
            header_row=header_row,
        )

    async def start() -> dict[str, Any]:
        job_id = await rt.jobs.start(
            "import", enterprise_id, work, meta={"file": file.filename, "position": position}
        )
        return {"job_id": job_id, "status_url": f"/api/enrollment/jobs/{job_id}"}

    form = {
        "institution_id": institution_id,
        "position": position,
        "training_mode": training_mode,
        "specialisation": specialisation,
        "continuing_education": continuing_education,
    }
    return await idem.run({"form": form, "file": data}, start)


@router.post(
    "/batches/{batch_id}/materials",
    status_code=202,
    summary="上传一个批次的报名资料压缩包（.zip，文件名 身份证号$资料名称.jpg），进度见 /jobs/{job_id}",
)
@body_limit(lambda s: s.max_zip_bytes + MiB)  # the zip and its form: docs/uploads.md
async def upload_materials(
    batch_id: str,
    identity: ApprovedEnterprise,
    rt: RuntimeDep,
    settings: Settings,
    idem: IdempotencyDep,
    file: Annotated[UploadFile, File(description="报名资料压缩包（.zip）")],
) -> dict[str, Any]:
    enterprise_id = identity.org_id or ""
    await materials.batch_applicants(rt.store, batch_id, enterprise_id)  # 404 at once for a foreign batch
    # the zip is copied to a temporary file of its own (never held in memory) that the job reads and removes
    spooled = await uploads.spool_upload(
        file,
        max_bytes=settings.max_zip_bytes,
        too_large=lambda: DomainError(
            f"压缩包过大，不能超过 {settings.max_zip_bytes // 1048576} MB", code="file_too_large", status=413
        ),
        suffix=".zip",
    )
    assert rt.objects is not None
    objects = rt.objects
    started = False

    async def work(progress: Progress) -> dict[str, Any]:
        try:
            return await materials.upload_materials(
                rt.store,
                objects,
                enterprise_id=enterprise_id,
                batch_id=batch_id,
                data=str(spooled.path),
                limits=settings.archive_limits(),
                photo_rules=settings.photo_rules(),
                progress=progress,
                max_pixels=settings.max_image_pixels,
            )
        finally:
            await asyncio.to_thread(spooled.remove)

    async def start() -> dict[str, Any]:
        nonlocal started
        job_id = await rt.jobs.start(
            "materials", enterprise_id, work, meta={"file": file.filename, "batch_id": batch_id}
        )
        started = True
        return {"job_id": job_id, "status_url": f"/api/enrollment/jobs/{job_id}"}

    try:
        return await idem.run({"file": spooled.identity}, start)
    finally:
        if not started:  # a replayed or refused request: no job reads the copy
            await asyncio.to_thread(spooled.remove)


@router.get("/jobs/{job_id}", summary="导入或上传任务的进度与结果（出错时列出每一处问题）")
async def job(job_id: str, identity: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    return await rt.jobs.get(job_id, None if identity.role is Role.ADMIN else identity.org_id)


@router.get("/templates/summary.xlsx", summary="下载报名人员信息汇总表模板（附件4）")
async def template() -> Response:
    data = await asyncio.to_thread(summary_template)
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('报名人员信息汇总表.xlsx')}"},
    )


async def _batch_docs(rt: RuntimeDep, batch_id: str, identity: Identity) -> list[dict[str, Any]]:
    query = {"batch_id": batch_id, **scope_filter(identity)}
    docs = [d async for d in rt.db[APPLICANTS].find(query).sort("imported_at", 1)]
    if not docs:
        raise NotFound("未找到该报名批次", code="batch_not_found")
    return docs


def _form_applicants(docs: list[dict[str, Any]]) -> list[form_pdfs.FormApplicant]:
    return [
        form_pdfs.FormApplicant(
            name=d["name"],
            gender=d["gender"],
            id_number=d["id_number"],
            mobile=d.get("mobile", ""),
            education=d.get("education", ""),
            employer=d.get("employer", ""),
            major=d.get("major", ""),
            graduated_on=date.fromisoformat(d["graduated_on"]) if d.get("graduated_on") else None,
            years_in_post=d.get("years_in_post"),
            position=d["position"],
            specialisation=d.get("specialisation"),
        )
        for d in docs
    ]


@router.get("/batches/{batch_id}/forms/enrollment.pdf", summary="打印报名表（附件2），每名学员一页，已预填")
async def enrollment_forms(batch_id: str, identity: Viewer, rt: RuntimeDep) -> Response:
    docs = await _batch_docs(rt, batch_id, identity)
    pdf = await asyncio.to_thread(form_pdfs.enrollment_forms_pdf, _form_applicants(docs))
    return Response(pdf, media_type="application/pdf")


@router.get(
    "/batches/{batch_id}/forms/work-years.pdf", summary="打印工作年限证明（附件3），每名学员一页，已预填"
)
async def work_years_forms(batch_id: str, identity: Viewer, rt: RuntimeDep) -> Response:
    docs = await _batch_docs(rt, batch_id, identity)
    pdf = await asyncio.to_thread(form_pdfs.work_years_proofs_pdf, _form_applicants(docs))
    return Response(pdf, media_type="application/pdf")


# ---------------------------------------------------------------- applicants


@router.get("/applicants", summary="学员列表：企业看本企业的，培训机构看向本机构报名的")
async def list_applicants(
    identity: Viewer,
    rt: RuntimeDep,
    page: Paging,
    status: applicant_domain.Status | None = None,
    batch_id: str | None = Query(default=None, max_length=64),
) -> dict[str, Any]:
    query = scope_filter(identity)
    if status:
        query["status"] = status.value
    if batch_id:
        query["batch_id"] = batch_id
    cursor = page.apply(rt.db[APPLICANTS].find(query).sort("imported_at", 1))
    return {
        "items": [_applicant_view(doc) async for doc in cursor],
        "total": await rt.db[APPLICANTS].count_documents(query),
    }


@router.get("/review-queue", summary="资格审核队列（培训机构）：资料、照片检查与报名条件预审结果")
async def review_queue(
    identity: Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))],
    rt: RuntimeDep,
    page: Paging,
    status: applicant_domain.Status = applicant_domain.Status.PENDING,
    batch_id: str | None = Query(default=None, max_length=64),
    position: str | None = Query(default=None, max_length=20),
    name: str | None = Query(default=None, max_length=50, description="姓名包含"),
    verdict: str | None = Query(
        default=None, max_length=20, description="预审结论：eligible / not_eligible / needs_review"
    ),
    photo_ok: bool | None = None,
    continuing_education: bool | None = None,
) -> dict[str, Any]:
    query = scope_filter(identity, enterprise=None)
    query["status"] = status.value
    for key, value in (
        ("batch_id", batch_id),
        ("position", position),
        ("eligibility.verdict", verdict),
        ("photo_ok", photo_ok),
        ("continuing_education", continuing_education),
    ):
        if value is not None:
            query[key] = value
    if name:
        query["name"] = {"$regex": re.escape(name)}
    cursor = page.apply(rt.db[APPLICANTS].find(query).sort("imported_at", 1))
    return {
        "items": [_applicant_view(doc) async for doc in cursor],
        "total": await rt.db[APPLICANTS].count_documents(query),
    }


@router.get("/applicants/{applicant_id}", summary="一名学员的报名信息与状态")
async def get_applicant(applicant_id: str, identity: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    state, version = await handlers.load_applicant(rt.store, applicant_id)
    owner = state.batch.enterprise_id if identity.role is Role.ENTERPRISE else state.batch.institution_id
    if identity.role is not Role.ADMIN and owner != identity.org_id:
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    doc = await rt.db[APPLICANTS].find_one({"_id": applicant_id}) or {}
    person = await rt.db[PERSON_PROFILES].find_one({"_id": state.record.id_number})
    assert rt.objects is not None
    photo, locked = profile_app.current_head_photo([doc] if doc else [], person, rt.objects.bucket)
    return {
        "applicant_id": applicant_id,
        **state.record.model_dump(mode="json", exclude={"applicant_id"}),
        "batch_id": state.batch.batch_id,
        "enterprise_id": state.batch.enterprise_id,
        "institution_id": state.batch.institution_id,
        "position": state.batch.position,
        "specialisation": state.batch.specialisation,
        "training_mode": state.batch.training_mode,
        "continuing_education": state.batch.continuing_education,
        "status": state.status.value,
        "status_label": state.status_label,
        "open": state.is_open,
        "closed_reason": state.closed_reason,
        "closed_reason_label": applicant_domain.CLOSED_REASONS.get(state.closed_reason or ""),
        "rejection_reason": state.rejection_reason,
        "order_id": state.order_id,
        "eligibility": doc.get("eligibility"),
        "materials": sorted((doc.get("materials") or {}).keys()),
        "photo_ok": doc.get("photo_ok"),
        "photo_problems": doc.get("photo_problems", []),
        "head_photo": {k: v for k, v in photo.items() if k != "bucket"} if photo else None,
        "head_photo_locked": locked,
        "exam_score": doc.get("exam_score"),
        "version": version,
    }


@router.get("/applicants/{applicant_id}/documents", summary="学员报名资料：每份一个短时有效的查看链接")
async def applicant_documents(
    applicant_id: str, identity: Viewer, rt: RuntimeDep, settings: Settings
) -> dict[str, Any]:
    doc = await rt.db[APPLICANTS].find_one({"_id": applicant_id, **scope_filter(identity)})
    if doc is None:
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    assert rt.objects is not None
    documents = dict(doc.get("materials") or {})
    # the head photo shown is the one the exam uses (or will use): locked, or the newest of the zip's and
    # the person's own
    person = await rt.db[PERSON_PROFILES].find_one({"_id": doc.get("id_number")})
    photo, _ = profile_app.current_head_photo([doc], person, rt.objects.bucket)
    zip_photo = documents.get(MATERIALS_HEAD_PHOTO) or {}
    if (
        photo is not None
        and photo["key"] != zip_photo.get("object_key")
        and photo.get("bucket") == rt.objects.bucket
    ):
        own = ((person or {}).get("documents") or {}).get("head_photo") or {}
        documents[MATERIALS_HEAD_PHOTO] = {
            "object_key": photo["key"],
            "content_type": "image/jpeg",
            "size": own.get("size", 0) if own.get("key") == photo["key"] else None,
        }
    links = await materials.document_links(rt.objects, documents, settings.document_url_seconds)
    return {"applicant_id": applicant_id, "documents": links}


@router.put("/applicants/{applicant_id}", summary="修改未通过审核的学员信息并重新提交审核（企业）")
async def correct_applicant(
    applicant_id: str, body: ApplicantRow, identity: ApprovedEnterprise, rt: RuntimeDep
) -> dict[str, Any]:
    record = await review.correct(
        rt.store, applicant_id, enterprise_id=identity.org_id or "", row=body.model_dump(), today=_today()
    )
    return {"applicant_id": applicant_id, "status": "pending", "record": record}


@router.post(
    "/applicants/{applicant_id}/withdraw",
    status_code=204,
    summary="撤回学员报名（企业；仅限尚未缴费的学员：待审核、已审核、未通过），报名随即结束（已结束）",
)
async def withdraw_applicant(
    applicant_id: str, body: WithdrawRequest, identity: ApprovedEnterprise, rt: RuntimeDep
) -> None:
    await review.withdraw(rt.store, applicant_id, enterprise_id=identity.org_id or "", reason=body.reason)


@router.post("/applicants/{applicant_id}/qualify", status_code=204, summary="资格审核通过（已审核）")
async def qualify(applicant_id: str, identity: Institution, rt: RuntimeDep) -> None:
    await review.review(
        rt.store,
        [applicant_id],
        institution_id=identity.org_id or "",
        reviewer_id=identity.account_id,
        approve=True,
    )


@router.post(
    "/applicants/{applicant_id}/reject", status_code=204, summary="资格审核不通过（须填写原因，企业可见）"
)
async def reject(applicant_id: str, body: RejectRequest, identity: Institution, rt: RuntimeDep) -> None:
    await review.review(
        rt.store,
        [applicant_id],
        institution_id=identity.org_id or "",
        reviewer_id=identity.account_id,
        approve=False,
        reason=body.reason,
    )


@router.post("/applicants/review", status_code=204, summary="批量资格审核（全部成功或全部不做）")
async def bulk_review(body: ReviewRequest, identity: Institution, rt: RuntimeDep) -> None:
    if body.decision not in ("approve", "reject"):
        raise DomainError("decision 应为 approve（审核通过）或 reject（审核不通过）", code="invalid_decision")
    await review.review(
        rt.store,
        body.applicant_ids,
        institution_id=identity.org_id or "",
        reviewer_id=identity.account_id,
        approve=body.decision == "approve",
        reason=body.reason,
    )
