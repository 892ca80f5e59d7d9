"""HTTP API of the registration context (thin: parse, authorize, call a use case)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from events.registration import ReviewCheck
from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.bodylimit import MiB, body_limit
from servicekit.errors import NotFound
from servicekit.mongo import without_id
from servicekit.paging import MAX_TEXT_LENGTH, BoundedModel, Paging

from ..adapters.commitment_letter import LetterData, commitment_letter_pdf
from ..application import handlers
from ..domain.cities import ZHEJIANG_CITIES, authority_name
from ..domain.documents import DOCUMENT_KINDS, KINDS, scope_hint
from ..domain.enterprise import STATUS_LABELS, Enterprise, RegistrationForm, Status
from ..projections.enterprises import COLLECTION
from ..settings import RegistrationSettings

router = APIRouter(prefix="/api/registration", tags=["企业注册"])

EnterpriseUser = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]
Reviewer = Annotated[Identity, Depends(require_roles(Role.REVIEWER, Role.ADMIN))]
AnyUser = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.REVIEWER, Role.ADMIN))]
OptionalFile = Annotated[UploadFile | None, File(description="JPEG、PNG 或 PDF")]


def _settings(rt: RuntimeDep) -> RegistrationSettings:
    settings = rt.settings
    assert isinstance(settings, RegistrationSettings)
    return settings


Settings = Annotated[RegistrationSettings, Depends(_settings)]


# natural bounds of the form's texts (characters)
NAME = 100  # an enterprise's registered name
PERSON = 50  # a person's name
SHORT = 20  # a city, a mobile number
SHORT_ID = 64  # an identifier
ADDRESS = 200
# the registration form and its three documents (each ≤ max_document_bytes)
FORM_BODY_LIMIT = body_limit(lambda s: len(DOCUMENT_KINDS) * s.max_document_bytes + MiB)


class ReviewRequest(BoundedModel):
    checks: list[ReviewCheck] = Field(
        default_factory=list, max_length=10, description="三项审核：属地企业、施工企业、资料规范"
    )
    reason: str = Field(default="", max_length=500)


class Accepted(BaseModel):
    enterprise_id: str
    status: str
    submission: int


async def _files(settings: RegistrationSettings, **uploads: UploadFile | None) -> list[handlers.UploadedFile]:
    files = []
    for kind, upload in uploads.items():
        if upload is None or (not upload.filename and not upload.size):
            continue
        data = await upload.read(settings.max_document_bytes + 1)  # one byte more tells "too large"
        files.append(handlers.UploadedFile(kind=kind, data=data, filename=upload.filename or ""))
    return files


def _view(state: Enterprise, settings: RegistrationSettings, *, for_reviewer: bool) -> dict[str, Any]:
    assert state.form is not None and state.status is not None
    form = state.form
    view: dict[str, Any] = {
        "enterprise_id": state.enterprise_id,
        "credit_code": form.credit_code,
        "name": form.name,
        "city": form.city,
        "authority": authority_name(form.city),
        "is_branch": form.is_branch,
        "legal_representative": form.legal_representative,
        "contact_name": form.contact_name,
        "contact_mobile": form.contact_mobile,
        "address": form.address,
        "business_scope": form.business_scope,
        "preferred_institution_id": form.preferred_institution_id,
        "documents": [
            {"kind": d.kind, "label": KINDS[d.kind].label, "content_type": d.content_type, "size": d.size}
            for d in form.documents
        ],
        "status": state.status.value,
        "status_label": STATUS_LABELS[state.status],
        "submission": state.submission,
        "rejection_reason": state.rejection_reason,
        "reviews": state.reviews,
    }
    if for_reviewer:
        view["scope_hint"] = scope_hint(form.business_scope, settings.scope_keywords)
    return view


async def _visible(rt: RuntimeDep, enterprise_id: str, identity: Identity) -> Enterprise:
    """The registration, if the caller may see it: its enterprise, its city's reviewer, an administrator."""
    state = await handlers.load(rt.store, enterprise_id)
    visible = state.status is not None and (
        identity.role is Role.ADMIN
        or (identity.role is Role.ENTERPRISE and identity.org_id == enterprise_id)
        or (identity.role is Role.REVIEWER and identity.city == state.city)
    )
    if not visible:
        raise NotFound("未找到该企业的注册信息", code="enterprise_not_found")
    return state


@router.get("/cities", summary="可选的审核部门（11 个设区市）及各市可选的培训机构")
async def cities(settings: Settings) -> dict[str, Any]:
    return {
        "cities": [
            {
                "city": city,
                "authority": authority_name(city),
                "institutions": [c.model_dump() for c in settings.city_institutions.get(city, [])],
            }
            for city in ZHEJIANG_CITIES
        ],
        "documents": [{"kind": k.name, "label": k.label, "required": k.required} for k in DOCUMENT_KINDS],
        "max_document_bytes": settings.max_document_bytes,
    }


@router.post(
    "/enterprises",
    status_code=201,
    response_model=Accepted,
    summary="企业注册（multipart：表单字段 + 营业执照、资质证书、承诺书；每个企业只能注册一次）",
)
@FORM_BODY_LIMIT
async def register(
    identity: EnterpriseUser,
    rt: RuntimeDep,
    settings: Settings,
    credit_code: Annotated[str, Form(max_length=32, description="统一社会信用代码（18 位）")] = "",
    name: Annotated[str, Form(max_length=NAME, description="企业全称")] = "",
    city: Annotated[str, Form(max_length=SHORT, description="所在城市，由该市建设主管部门审核")] = "",
    legal_representative: Annotated[str, Form(max_length=PERSON)] = "",
    contact_name: Annotated[str, Form(max_length=PERSON)] = "",
    contact_mobile: Annotated[str, Form(max_length=SHORT)] = "",
    address: Annotated[str, Form(max_length=ADDRESS)] = "",
    business_scope: Annotated[str, Form(max_length=MAX_TEXT_LENGTH)] = "",
    is_branch: Annotated[bool, Form()] = False,
    preferred_institution_id: Annotated[str | None, Form(max_length=SHORT_ID)] = None,
    business_licence: OptionalFile = None,
    qualification_certificate: OptionalFile = None,
    commitment_letter: OptionalFile = None,
) -> Accepted:
    assert identity.org_id, "enterprise accounts always carry their enterprise id"
    form = RegistrationForm(
        credit_code=credit_code,
        name=name,
        city=city,
        legal_representative=legal_representative,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        address=address,
        business_scope=business_scope,
        is_branch=is_branch,
        preferred_institution_id=preferred_institution_id,
    )
    files = await _files(
        settings,
        business_licence=business_licence,
        qualification_certificate=qualification_certificate,
        commitment_letter=commitment_letter,
    )
    assert rt.objects is not None
    await handlers.register(
        rt.store,
        rt.objects,
        settings,
        enterprise_id=identity.org_id,
        account_id=identity.account_id,
        form=form,
        files=files,
    )
    return Accepted(enterprise_id=identity.org_id, status=Status.SUBMITTED.value, submission=1)


@router.post(
    "/enterprises/me/resubmit",
    response_model=Accepted,
    summary="审核不通过后修改并重新提交（只传需要修改的字段和需要替换的资料）",
)
@FORM_BODY_LIMIT
async def resubmit(
    identity: EnterpriseUser,
    rt: RuntimeDep,
    settings: Settings,
    name: Annotated[str | None, Form(max_length=NAME)] = None,
    city: Annotated[str | None, Form(max_length=SHORT)] = None,
    legal_representative: Annotated[str | None, Form(max_length=PERSON)] = None,
    contact_name: Annotated[str | None, Form(max_length=PERSON)] = None,
    contact_mobile: Annotated[str | None, Form(max_length=SHORT)] = None,
    address: Annotated[str | None, Form(max_length=ADDRESS)] = None,
    business_scope: Annotated[str | None, Form(max_length=MAX_TEXT_LENGTH)] = None,
    is_branch: Annotated[bool | None, Form()] = None,
    preferred_institution_id: Annotated[str | None, Form(max_length=SHORT_ID)] = None,
    credit_code: Annotated[
        str | None, Form(max_length=32, description="不可修改；如填写须与原值一致")
    ] = None,
    business_licence: OptionalFile = None,
    qualification_certificate: OptionalFile = None,
    commitment_letter: OptionalFile = None,
) -> Accepted:
    changes = {
        "name": name,
        "city": city,
        "legal_representative": legal_representative,
        "contact_name": contact_name,
        "contact_mobile": contact_mobile,
        "address": address,
        "business_scope": business_scope,
        "is_branch": is_branch,
        "preferred_institution_id": preferred_institution_id,
        "credit_code": credit_code,
    }
    files = await _files(
        settings,
        business_licence=business_licence,
        qualification_certificate=qualification_certificate,
        commitment_letter=commitment_letter,
    )
    assert rt.objects is not None and identity.org_id
    submission = await handlers.resubmit(
        rt.store,
        rt.objects,
        settings,
        enterprise_id=identity.org_id,
        changes={k: v for k, v in changes.items() if v is not None},
        files=files,
    )
    return Accepted(enterprise_id=identity.org_id, status=Status.SUBMITTED.value, submission=submission)


@router.get("/enterprises/me", summary="本企业的注册信息、审核状态与审核意见")
async def my_registration(identity: EnterpriseUser, rt: RuntimeDep, settings: Settings) -> dict[str, Any]:
    state = await handlers.load(rt.store, identity.org_id or "")
    if state.status is None:
        raise NotFound("本企业尚未提交注册信息", code="enterprise_not_found")
    return _view(state, settings, for_reviewer=False)


@router.get(
    "/enterprises/me/commitment-letter.pdf",
    summary="下载企业承诺书（附件1），已预填本企业的注册信息（尚未注册时用查询参数中填写的信息）",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def commitment_letter(
    identity: EnterpriseUser,
    rt: RuntimeDep,
    name: str | None = Query(default=None, max_length=NAME),
    credit_code: str | None = Query(default=None, max_length=32),
    city: str | None = Query(default=None, max_length=SHORT),
    legal_representative: str | None = Query(default=None, max_length=PERSON),
    address: str | None = Query(default=None, max_length=ADDRESS),
    contact_name: str | None = Query(default=None, max_length=PERSON),
    contact_mobile: str | None = Query(default=None, max_length=SHORT),
) -> Response:
    state = await handlers.load(rt.store, identity.org_id or "")
    form = state.form
    # the registered data wins over what the page sends (a registration is what the letter pledges for)
    letter_city = form.city if form else (city or "")
    data = LetterData(
        name=form.name if form else (name or ""),
        credit_code=form.credit_code if form else (credit_code or ""),
        legal_representative=form.legal_representative if form else (legal_representative or ""),
        address=form.address if form else (address or ""),
        contact_name=form.contact_name if form else (contact_name or ""),
        contact_mobile=form.contact_mobile if form else (contact_mobile or ""),
        authority=authority_name(letter_city) if letter_city in ZHEJIANG_CITIES else "",
    )
    pdf = await asyncio.to_thread(commitment_letter_pdf, data)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": "attachment; filename*=UTF-8''commitment-letter.pdf"},
    )


@router.get("/enterprises/{enterprise_id}", summary="查看一家企业的注册信息（本企业、本市审核员、管理员）")
async def get_enterprise(
    enterprise_id: str, identity: AnyUser, rt: RuntimeDep, settings: Settings
) -> dict[str, Any]:
    state = await _visible(rt, enterprise_id, identity)
    return _view(state, settings, for_reviewer=identity.role is not Role.ENTERPRISE)


@router.get(
    "/enterprises/{enterprise_id}/documents",
    summary="当前提交的资料：每份一个短时有效的查看链接（本企业、本市审核员、管理员）",
)
async def documents(
    enterprise_id: str, identity: AnyUser, rt: RuntimeDep, settings: Settings
) -> dict[str, Any]:
    state = await _visible(rt, enterprise_id, identity)
    assert rt.objects is not None
    links = await handlers.document_links(
        rt.objects, state, expires=timedelta(seconds=settings.document_url_seconds)
    )
    return {"enterprise_id": enterprise_id, "submission": state.submission, "documents": links}


@router.get("/enterprises", summary="审核队列：本市的企业注册（可按状态、名称、提交日期筛选）")
async def review_queue(
    identity: Reviewer,
    rt: RuntimeDep,
    page: Paging,
    status: Status | None = None,
    name: str | None = Query(default=None, max_length=NAME, description="企业名称包含"),
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
) -> dict[str, Any]:
    query = scope_filter(identity, enterprise=None, institution=None, reviewer="city")
    if status:
        query["status"] = status.value
    if name:
        query["name"] = {"$regex": re.escape(name)}
    if submitted_from or submitted_to:
        query["submitted_at"] = {k: v for k, v in (("$gte", submitted_from), ("$lte", submitted_to)) if v}
    cursor = page.apply(rt.db[COLLECTION].find(query).sort("submitted_at", 1))
    items = [without_id(doc, "enterprise_id") async for doc in cursor]
    return {"items": items, "total": await rt.db[COLLECTION].count_documents(query)}


@router.post("/enterprises/{enterprise_id}/approve", status_code=204, summary="审核通过（三项均须通过）")
async def approve(enterprise_id: str, body: ReviewRequest, identity: Reviewer, rt: RuntimeDep) -> None:
    await handlers.review(
        rt.store,
        enterprise_id,
        reviewer_id=identity.account_id,
        reviewer_city=identity.city if identity.role is Role.REVIEWER else None,
        checks=body.checks,
        approve=True,
    )


@router.post(
    "/enterprises/{enterprise_id}/reject", status_code=204, summary="审核不通过（须填写原因，企业可见）"
)
async def reject(enterprise_id: str, body: ReviewRequest, identity: Reviewer, rt: RuntimeDep) -> None:
    await handlers.review(
        rt.store,
        enterprise_id,
        reviewer_id=identity.account_id,
        reviewer_city=identity.city if identity.role is Role.REVIEWER else None,
        checks=body.checks,
        approve=False,
        reason=body.reason,
    )
