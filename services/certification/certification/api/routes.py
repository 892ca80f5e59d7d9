"""HTTP API of the certification context."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import DomainError, NotFound
from servicekit.mongo import without_id

from ..domain.certificate import STATES
from ..domain.numbers import is_valid_number, mask_id_number, mask_name
from ..projections.read_models import CERTIFICATES

router = APIRouter(prefix="/api/certification", tags=["证书"])


Viewer = Annotated[Identity, Depends(require_roles(Role.PERSON, Role.INSTITUTION, Role.ADMIN))]


def _scope(identity: Identity) -> dict[str, Any]:
    return scope_filter(identity, enterprise=None, person="id_number")


def _view(doc: dict[str, Any]) -> dict[str, Any]:
    return {**without_id(doc, "certificate_id"), "state_label": STATES[doc["state"]]}


@router.get("/certificates", summary="证书管理：持证人看本人的，培训机构看本机构颁发的")
async def list_certificates(
    identity: Viewer,
    rt: RuntimeDep,
    applicant_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    query = _scope(identity)
    if applicant_id:
        query["applicant_id"] = applicant_id
    items = [_view(d) async for d in rt.db[CERTIFICATES].find(query).sort("issued_on", -1).limit(limit)]
    return {"items": items}


@router.get("/certificates/{certificate_id}", summary="证书详情")
async def get_certificate(certificate_id: str, identity: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    doc = await rt.db[CERTIFICATES].find_one({"_id": certificate_id, **_scope(identity)})
    if doc is None:
        raise NotFound("未找到该证书", code="certificate_not_found")
    return _view(doc)


@router.get("/verify/{certificate_number}", summary="公开查验：证书状态（姓名、身份证号脱敏）")
async def verify(certificate_number: str, rt: RuntimeDep) -> dict[str, Any]:
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
