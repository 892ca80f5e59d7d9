"""HTTP API of the certification context."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import DomainError, NotFound
from servicekit.runtime import ServiceRuntime

from ..domain.certificate import STATES
from ..domain.numbers import is_valid_number, mask_id_number, mask_name
from ..projections.read_models import CERTIFICATES

router = APIRouter(prefix="/api/certification", tags=["证书"])


def runtime(request: Request) -> ServiceRuntime:
    rt: ServiceRuntime = request.app.state.runtime
    return rt


Runtime = Annotated[ServiceRuntime, Depends(runtime)]
Viewer = Annotated[Identity, Depends(require_roles(Role.PERSON, Role.INSTITUTION, Role.ADMIN))]


def _scope(identity: Identity) -> dict[str, Any]:
    if identity.role is Role.PERSON:
        return {"id_number": identity.org_id}
    if identity.role is Role.INSTITUTION:
        return {"institution_id": identity.org_id}
    return {}


def _view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in doc.items() if k != "_id"},
        "certificate_id": doc["_id"],
        "state_label": STATES[doc["state"]],
    }


@router.get("/certificates", summary="证书管理：持证人看本人的，培训机构看本机构颁发的")
async def list_certificates(
    identity: Viewer,
    rt: Runtime,
    applicant_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    query = _scope(identity)
    if applicant_id:
        query["applicant_id"] = applicant_id
    items = [_view(d) async for d in rt.db[CERTIFICATES].find(query).sort("issued_on", -1).limit(limit)]
    return {"items": items}


@router.get("/certificates/{certificate_id}", summary="证书详情")
async def get_certificate(certificate_id: str, identity: Viewer, rt: Runtime) -> dict[str, Any]:
    doc = await rt.db[CERTIFICATES].find_one({"_id": certificate_id, **_scope(identity)})
    if doc is None:
        raise NotFound("未找到该证书", code="certificate_not_found")
    return _view(doc)


@router.get("/verify/{certificate_number}", summary="公开查验：证书状态（姓名、身份证号脱敏）")
async def verify(certificate_number: str, rt: Runtime) -> dict[str, Any]:
    number = certificate_number.strip().upper()
    if not is_valid_number(number):
        raise DomainError(
            "证书编号格式或校验位不正确，请核对后重新输入", code="invalid_certificate_number", status=400
        )
    doc = await rt.db[CERTIFICATES].find_one({"certificate_number": number})
    if doc is None:
        raise NotFound("未查询到该编号的证书", code="certificate_not_found")
    return {
        "certificate_number": number,
        "state": doc["state"],
        "state_label": STATES[doc["state"]],
        "holder_name": mask_name(doc["holder_name"]),
        "id_number": mask_id_number(doc["id_number"]),
        "position": doc["position"],
        "specialisation": doc.get("specialisation"),
        "institution_id": doc["institution_id"],
        "issued_on": doc["issued_on"],
    }
