"""HTTP API of the certification context: certificates (证书管理), continuing-education hours, old-style
certificates, renewal, revocation and the lapse check. The public verification is in `api/verify.py`."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from pydantic import Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import DomainError, Forbidden, NotFound
from servicekit.idempotency import IdempotencyDep, upload_digest
from servicekit.mongo import Document, without_id
from servicekit.paging import BoundedModel, Paging

from ..adapters import spreadsheet
from ..adapters.qr_image import qr_svg
from ..application import handlers
from ..application.handlers import today_in_china
from ..application.rendering import claims_of, render_pdf, verify_url
from ..domain import certificate as certificate_rules
from ..domain import hours as hours_rules
from ..domain import sheets
from ..domain.certificate import STATES, Certificate
from ..projections.read_models import CERTIFICATES, ISSUE_REFUSALS, UNCREDITED_TRAININGS
from ..settings import CertificationSettings

router = APIRouter(prefix="/api/certification", tags=["证书"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Viewer = Annotated[
    Identity, Depends(require_roles(Role.PERSON, Role.INSTITUTION, Role.ENTERPRISE, Role.ADMIN))
]
Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
Importer = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]
Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]
Person = Annotated[Identity, Depends(require_roles(Role.PERSON))]


def get_settings(request: Request) -> CertificationSettings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, CertificationSettings)
    return settings


Settings = Annotated[CertificationSettings, Depends(get_settings)]


# -- who may see what ---------------------------------------------------------------------------------------


def list_scope(identity: Identity) -> dict[str, Any]:
    """Person: own certificates; institution: those it trained or imported (never those it only recorded
    hours for); enterprise: its staff's (the enterprise that enrolled them); administrator: all."""
    org = identity.org_id or "\x00"
    if identity.role is Role.ADMIN:
        return {}
    if identity.role is Role.PERSON:
        return {"id_number": org}
    if identity.role is Role.ENTERPRISE:
        return {"enterprise_id": org}
    if identity.role is Role.INSTITUTION:
        # `readers` = institution_id and imported_by in one indexed field (a top-level `$or` makes the local
        # MongoDB server scan the whole collection); the `$or` only filters what the index found, so that a
        # reader added by hours before recording stopped granting reading (older read models) is not one.
        return {"readers": org, "$or": [{"institution_id": org}, {"imported_by": org}]}
    raise Forbidden("该账号无权查看证书", code="role_forbidden")


def may_view(identity: Identity, index: Document) -> bool:
    org = identity.org_id
    if identity.role is Role.ADMIN:
        return True
    if org is None:
        return False
    if identity.role is Role.PERSON:
        return bool(index["id_number"] == org)
    if identity.role is Role.ENTERPRISE:
        return bool(index.get("enterprise_id") == org)
    if identity.role is Role.INSTITUTION:
        # the institution that trained the holder or imported the certificate; recording hours is no reason
        return org in (index.get("institution_id"), index.get("imported_by"))
    return False


def may_download(identity: Identity, cert: Certificate) -> bool:
    """The PDF: the holder, the institution that trained them, the administrator; nobody else."""
    if identity.role is Role.ADMIN:
        return True
    if identity.role is Role.PERSON:
        return identity.org_id == cert.id_number
    if identity.role is Role.INSTITUTION:
        return identity.org_id is not None and identity.org_id == cert.institution_id
    return False


async def viewable(rt: RuntimeDep, certificate_id: str, identity: Identity) -> tuple[Certificate, Document]:
    cert, index = await handlers.load(rt.store, certificate_id)
    if not may_view(identity, index):
        raise NotFound("未找到该证书", code="certificate_not_found")  # do not reveal that it exists
    return cert, index


def detail(cert: Certificate, index: Document, institution_name: str) -> dict[str, Any]:
    return {
        "certificate_id": cert.certificate_id,
        "certificate_number": cert.number,
        "holder_name": cert.holder_name,
        "gender": cert.gender,
        "id_number": cert.id_number,
        "position": cert.position,
        "specialisation": cert.specialisation,
        "institution_id": cert.institution_id,
        "institution_name": institution_name,
        "issuer": cert.issuer,
        "issued_on": cert.issued_on.isoformat(),
        "legacy": cert.legacy,
        "enterprise_id": cert.enterprise_id,
        "state": cert.state,
        "state_label": cert.state_label,
        "renews": cert.renews,
        "renewed_by": cert.renewed_by,
        "renewed_by_number": cert.renewed_by_number,
        "revoked_reason": cert.revoked_reason,
        "hours_total": sum(r.hours for r in cert.records),
        "has_photo": bool(cert.head_photo_key),
    }


def _view(doc: Document) -> Document:
    view = without_id(doc, "certificate_id")
    view.pop("readers", None)  # the list's access field, not part of the certificate
    return {**view, "state_label": STATES.get(doc.get("state", ""), "")}


# -- certificates -------------------------------------------------------------------------------------------


@router.get("/certificates", summary="证书管理：持证人看本人的，培训机构看本机构的，企业看本企业人员的")
async def list_certificates(
    identity: Viewer,
    rt: RuntimeDep,
    page: Paging,
    applicant_id: Annotated[str | None, Query(max_length=64)] = None,
    state: Literal["valid", "lapsed", "superseded", "revoked"] | None = None,
    number: Annotated[str | None, Query(max_length=64, description="证书编号")] = None,
) -> dict[str, Any]:
    query = list_scope(identity)
    if applicant_id:
        query["applicant_id"] = applicant_id
    if state:
        query["state"] = state
    if number:
        query["certificate_number"] = number.strip().upper()
    cursor = page.apply(rt.db[CERTIFICATES].find(query).sort([("issued_on", -1), ("_id", 1)]))
    return {"items": [_view(d) async for d in cursor]}


@router.get("/certificates/{certificate_id}", summary="证书详情（含状态、学时合计、更新与注销信息）")
async def get_certificate(certificate_id: str, identity: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    cert, index = await viewable(rt, certificate_id, identity)
    name = await _institution_label(rt, cert)
    return detail(cert, index, name)


async def _institution_label(rt: RuntimeDep, cert: Certificate) -> str:
    if cert.institution_id and cert.institution_id != "legacy":
        name = await handlers.institution_name(rt.store, cert.institution_id)
        if name != cert.institution_id or not cert.institution_name:
            return name
        return cert.institution_name
    return cert.institution_name or cert.issuer


@router.get(
    "/certificates/{certificate_id}/pdf",
    summary="下载电子证书（PDF）：持证人本人、培训机构、管理员",
    response_class=Response,
)
async def certificate_pdf(
    certificate_id: str, identity: Viewer, rt: RuntimeDep, settings: Settings, request: Request
) -> Response:
    cert, _ = await handlers.load(rt.store, certificate_id)
    if not may_download(identity, cert):
        raise Forbidden("只有持证人本人、培训机构和管理员可以下载该证书", code="not_owner")
    if cert.legacy:
        raise DomainError(
            "旧版岗位证书没有电子证书文件；学时达标后可更新为电子证书", code="legacy_no_pdf", status=409
        )
    signer = request.app.state.certificate_signer
    pdf = await render_pdf(settings, signer, cert, await _institution_label(rt, cert))
    filename = quote(f"{cert.number}-{cert.holder_name}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/certificates/{certificate_id}/verification",
    summary="证书的查验二维码（SVG）与查验页地址（与电子证书上的二维码相同；能查看该证书的账号）",
)
async def certificate_verification(
    certificate_id: str, identity: Viewer, rt: RuntimeDep, settings: Settings, request: Request
) -> dict[str, Any]:
    cert, _ = await viewable(rt, certificate_id, identity)
    signer = request.app.state.certificate_signer
    url = verify_url(settings, signer.token(claims_of(cert, await _institution_label(rt, cert))))
    return {
        "certificate_id": cert.certificate_id,
        "certificate_number": cert.number,
        "verify_url": url,
        "qr_svg": await asyncio.to_thread(qr_svg, url),
    }


# -- continuing education -----------------------------------------------------------------------------------


def _lapses_on(cert: Certificate, today: date, rules: hours_rules.HoursRules) -> date | None:
    if cert.state != "valid":
        return None
    return hours_rules.lapses_on(cert.issued_on, cert.records, today, rules, judged_from=cert.judged_from())


def _retraining_view(cert: Certificate, rules: hours_rules.HoursRules) -> dict[str, Any] | None:
    """A lapsed certificate: its lapse and the retraining credited since (what reinstatement still needs)."""
    if cert.state != "lapsed" or cert.lapsed is None:
        return None
    decision = hours_rules.reinstatement_decision(cert.retraining, rules)
    return {
        "lapsed_on": cert.lapsed.lapsed_on.isoformat() if cert.lapsed.lapsed_on else None,
        "cycles_from": cert.lapsed.cycles_from.isoformat(),
        "cycles_to": cert.lapsed.cycles_to.isoformat(),
        "rule": rules.reinstatement_rule,
        "hours": decision.hours,
        "professional": decision.professional,
        "required_hours": decision.required_hours,
        "required_professional": decision.required_professional,
        "missing_total": max(decision.required_hours - decision.hours, 0.0),
        "missing_professional": max(decision.required_professional - decision.professional, 0.0),
    }


def _progress_view(cert: Certificate, today: date, rules: hours_rules.HoursRules) -> dict[str, Any]:
    cycles = hours_rules.progress(cert.issued_on, cert.records, today, rules)
    lapses_on = _lapses_on(cert, today, rules)
    renewal = (
        hours_rules.renewal_decision(cert.issued_on, cert.records, today, rules) if cert.legacy else None
    )
    return {
        "certificate_id": cert.certificate_id,
        "certificate_number": cert.number,
        "state": cert.state,
        "state_label": cert.state_label,
        "issued_on": cert.issued_on.isoformat(),
        "today": today.isoformat(),
        "rules": {
            "hours_per_cycle": rules.hours_per_cycle,
            "professional_hours_per_cycle": rules.professional_hours_per_cycle,
            "lapse_hours_two_cycles": rules.lapse_hours_two_cycles,
            "renewal_rule": rules.renewal_rule,
        },
        "first_cycle_starts_on": hours_rules.cycle(cert.issued_on, 1, rules).starts_on.isoformat(),
        "cycles": [
            {
                "index": p.cycle.index,
                "starts_on": p.cycle.starts_on.isoformat(),
                "ends_on": p.cycle.ends_on.isoformat(),
                "total": p.total,
                "professional": p.professional,
                "general": p.general,
                "complete": p.complete,
                "met": p.met,
                "missing_total": p.missing_total,
                "missing_professional": p.missing_professional,
                # the current cycle, short: the day the certificate lapses if it stays so
                "lapses_on": lapses_on.isoformat()
                if lapses_on is not None and not p.complete and not p.met
                else None,
            }
            for p in cycles
        ],
        "lapses_on": lapses_on.isoformat() if lapses_on is not None else None,
        "reinstated_on": cert.reinstated_on.isoformat() if cert.reinstated_on else None,
        "retraining": _retraining_view(cert, rules),
        "reminders": [
            {
                "cycle": r.cycle,
                "cycle_starts_on": r.cycle_starts_on.isoformat(),
                "cycle_ends_on": r.cycle_ends_on.isoformat(),
                "days_before": r.days_before,
                "hours": r.hours,
                "required_hours": r.required_hours,
                "professional_hours": r.professional_hours,
                "required_professional_hours": r.required_professional_hours,
                "lapses_on": r.lapses_on.isoformat() if r.lapses_on else None,
            }
            for r in cert.reminders
        ],
        "records": [
            {
                **asdict(r),
                "studied_on": r.studied_on.isoformat(),
                "kind_label": hours_rules.KIND_LABELS[r.kind],
            }
            for r in sorted(cert.records, key=lambda r: r.studied_on)
        ],
        "renewal": None
        if renewal is None
        else {"eligible": renewal.eligible, "by": renewal.by, "reason": renewal.reason},
    }


@router.get("/certificates/{certificate_id}/hours", summary="继续教育学时：每个周期的进度与记录")
async def certificate_hours(
    certificate_id: str, identity: Viewer, rt: RuntimeDep, settings: Settings
) -> dict[str, Any]:
    cert, _ = await viewable(rt, certificate_id, identity)
    return _progress_view(cert, today_in_china(), settings.hours_rules())


class HoursIn(BoundedModel):
    studied_on: date
    hours: float = Field(gt=0, le=24)
    kind: Literal["professional", "general"]
    course: str = Field(min_length=1, max_length=100)


def _recorder(identity: Identity) -> str | None:
    """The institution that records hours; None for the administrator."""
    return None if identity.role is Role.ADMIN else identity.org_id or ""


@router.post(
    "/certificates/{certificate_id}/hours",
    status_code=201,
    summary="登记一条继续教育学时（颁证或继续教育报名的培训机构、管理员）；同一条记录再次登记：200，答复已有记录",
    responses={
        200: {
            "description": "同一证书、学习日期、课程和类别、同样学时的记录已登记：答复已有记录（duplicate）"
        },
        409: {"description": "同一证书、学习日期、课程和类别已登记了其他学时（hours_record_conflict）"},
    },
)
async def record_hours(
    certificate_id: str,
    body: HoursIn,
    identity: Importer,
    rt: RuntimeDep,
    settings: Settings,
    idem: IdempotencyDep,
    response: Response,
) -> dict[str, Any]:
    async def work() -> dict[str, Any]:
        record_id, created = await handlers.record_hours(
            rt.store,
            certificate_id,
            institution_id=_recorder(identity),
            studied_on=body.studied_on,
            hours=body.hours,
            kind=body.kind,
            course=body.course,
            recorded_by=identity.account_id,
            today=today_in_china(),
            rules=settings.hours_rules(),
        )
        if not created:
            response.status_code = 200
        return {"record_id": record_id, "certificate_id": certificate_id, "duplicate": not created}

    return await idem.run(body, work)


async def _read_upload(
    file: UploadFile, settings: CertificationSettings
) -> tuple[list[object], list[tuple[object, ...]]]:
    data = await file.read(settings.max_sheet_bytes + 1)
    if len(data) > settings.max_sheet_bytes:
        raise DomainError(
            f"文件过大，不能超过 {settings.max_sheet_bytes // 1048576} MB", code="file_too_large", status=413
        )
    return await asyncio.to_thread(spreadsheet.read_rows, data, settings.max_sheet_rows)


def _sheet_refused(problems: list[sheets.RowProblem], what: str) -> DomainError:
    problems.sort(key=lambda p: (p.row, p.column))
    return DomainError(
        f"{what}有 {len(problems)} 处问题，未导入任何数据；请按行号修改后重新导入",
        code="invalid_sheet",
        status=422,
        details=[asdict(p) for p in problems],
    )


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.get("/hours/template.xlsx", summary="下载继续教育学时登记表模板")
async def hours_template(identity: Institution) -> Response:
    return _xlsx(await asyncio.to_thread(spreadsheet.hours_template), "继续教育学时登记表.xlsx")


@router.post("/hours/import", status_code=201, summary="导入继续教育学时（.xlsx，全部正确才导入）")
async def import_hours(
    identity: Institution,
    rt: RuntimeDep,
    settings: Settings,
    idem: IdempotencyDep,
    file: Annotated[UploadFile, File(description="继续教育学时登记表（.xlsx）")],
) -> dict[str, Any]:
    identifies = {"file": await upload_digest(file)} if idem.key is not None else None
    return await idem.run(identifies, lambda: _import_hours(identity, rt, settings, file))


async def _import_hours(
    identity: Identity, rt: RuntimeDep, settings: CertificationSettings, file: UploadFile
) -> dict[str, Any]:
    header, rows = await _read_upload(file, settings)
    numbers = {sheets.cell_text(c).upper() for c in _column(header, rows, sheets.NUMBER)} - {""}
    facts: dict[str, sheets.CertificateFacts] = {}
    recorded: dict[str, hours_rules.HoursRecord] = {}
    refused: list[str] = []
    async for index in rt.db[handlers.INDEX].find({"number": {"$in": sorted(numbers)}}):
        cert, _ = await handlers.load(rt.store, index["_id"])
        if not certificate_rules.may_record_hours(
            cert,
            institution_id=identity.org_id or "",
            trains_holder=await handlers.trains_holder(rt.store, identity.org_id, cert.id_number),
        ):
            refused.append(cert.number)
            continue
        facts[cert.number] = sheets.CertificateFacts(
            cert.certificate_id, cert.id_number, cert.issued_on, cert.state, cert.state_label
        )
        recorded.update(cert.records_by_key)
    if refused:  # before any row is checked against the holder's data
        raise Forbidden(
            f"本机构未培训以下证书的持证人，不能登记其继续教育学时：{'、'.join(sorted(refused))}；"
            "未导入任何数据",
            code=certificate_rules.NOT_TRAINING_INSTITUTION,
            details={"certificate_numbers": sorted(refused)},
        )
    today = today_in_china()
    records, problems = sheets.hours_rows(
        header, rows, facts, today=today, rules=settings.hours_rules(), recorded=recorded
    )
    if problems:
        raise _sheet_refused(problems, "学时登记表")
    if not records:
        raise DomainError("学时登记表中没有数据", code="empty_sheet", status=422)
    record_ids = await handlers.record_hours_rows(
        rt.store,
        records,
        institution_id=identity.org_id or "",
        recorded_by=identity.account_id,
        today=today,
        rules=settings.hours_rules(),
    )
    return {"count": len(record_ids), "record_ids": record_ids}


def _column(header: list[object], rows: list[tuple[object, ...]], name: str) -> list[object]:
    names = [sheets.cell_text(c) for c in header]
    if name not in names:
        return []
    i = names.index(name)
    return [row[i] for row in rows if i < len(row)]


# -- old-style certificates ---------------------------------------------------------------------------------


class LegacyIn(BoundedModel):
    certificate_number: str = Field(min_length=1, max_length=40)
    holder_name: str = Field(min_length=1, max_length=30)
    gender: str = Field(max_length=10)
    id_number: str = Field(max_length=32)
    position: str = Field(max_length=50)
    specialisation: str | None = Field(default=None, max_length=50)
    issued_on: date
    issuer: str = Field(default="", max_length=100)


def _importer(identity: Identity) -> str:
    return identity.org_id or "" if identity.role is Role.INSTITUTION else f"admin:{identity.account_id}"


@router.post("/legacy", status_code=201, summary="录入一张旧版岗位证书（管理员、培训机构）")
async def import_legacy_one(body: LegacyIn, identity: Importer, rt: RuntimeDep) -> dict[str, Any]:
    today = today_in_china()
    number = sheets.cell_text(body.certificate_number).upper()
    id_number = sheets.cell_text(body.id_number).upper()
    found = sheets.legacy_problems(
        number=number,
        holder_name=body.holder_name.strip(),
        gender=body.gender.strip(),
        id_number=id_number,
        position=body.position.strip(),
        specialisation=(body.specialisation or "").strip() or None,
        issued_on_value=body.issued_on,
        today=today,
    )
    if await handlers.existing_numbers(rt.store, [number]):
        found.append((sheets.NUMBER, "certificate_exists", "该证书编号已导入"))
    if found:
        raise DomainError(
            "旧版证书信息不正确：" + "；".join(m for _, _, m in found),
            code="invalid_legacy_certificate",
            status=422,
            details=[{"field": f, "code": c, "message": m} for f, c, m in found],
        )
    row = sheets.LegacyRow(
        row=1,
        certificate_number=number,
        holder_name=body.holder_name.strip(),
        gender=body.gender.strip(),
        id_number=id_number,
        position=body.position.strip(),
        specialisation=(body.specialisation or "").strip() or None,
        issued_on=body.issued_on,
        issuer=body.issuer.strip(),
    )
    importer = _importer(identity)
    (imported,) = await handlers.import_legacy(
        rt.store, [row], imported_by=importer, importer_org=importer, today=today
    )
    return imported


@router.get("/legacy/template.xlsx", summary="下载旧版岗位证书导入表模板")
async def legacy_template(identity: Importer) -> Response:
    return _xlsx(await asyncio.to_thread(spreadsheet.legacy_template), "旧版岗位证书导入表.xlsx")


@router.post("/legacy/import", status_code=201, summary="导入旧版岗位证书（.xlsx，全部正确才导入）")
async def import_legacy_sheet(
    identity: Importer,
    rt: RuntimeDep,
    settings: Settings,
    file: Annotated[UploadFile, File(description="旧版岗位证书导入表（.xlsx）")],
) -> dict[str, Any]:
    header, rows = await _read_upload(file, settings)
    numbers = [sheets.cell_text(c).upper() for c in _column(header, rows, sheets.NUMBER)]
    existing = await handlers.existing_numbers(rt.store, [n for n in numbers if n])
    today = today_in_china()
    records, problems = sheets.legacy_rows(header, rows, existing_numbers=existing, today=today)
    if problems:
        raise _sheet_refused(problems, "旧版岗位证书导入表")
    if not records:
        raise DomainError("导入表中没有数据", code="empty_sheet", status=422)
    importer = _importer(identity)
    imported = await handlers.import_legacy(
        rt.store, records, imported_by=importer, importer_org=importer, today=today
    )
    return {"count": len(imported), "certificates": imported}


# -- renewal, revocation, lapse -----------------------------------------------------------------------------


@router.post(
    "/certificates/{certificate_id}/renew",
    status_code=201,
    summary="更新旧版岗位证书为电子证书（持证人本人；继续教育学时须达标）",
)
async def renew(certificate_id: str, identity: Person, rt: RuntimeDep, settings: Settings) -> dict[str, Any]:
    return await handlers.renew(
        rt.store,
        certificate_id,
        holder_id_number=identity.org_id or "",
        today=today_in_china(),
        rules=settings.hours_rules(),
    )


class RevokeIn(BoundedModel):
    reason: str = Field(min_length=2, max_length=500)


@router.post("/certificates/{certificate_id}/revoke", summary="注销证书（管理员，须填写原因）")
async def revoke(certificate_id: str, body: RevokeIn, identity: Admin, rt: RuntimeDep) -> dict[str, Any]:
    await handlers.revoke(
        rt.store, certificate_id, reason=body.reason, source="admin", revoked_by=identity.account_id
    )
    cert, _ = await handlers.load(rt.store, certificate_id)
    return {"certificate_id": certificate_id, "state": cert.state, "state_label": cert.state_label}


@router.post("/lapse-check", summary="继续教育学时检查：学时不足的证书失效（管理员；可指定日期、可预览）")
async def lapse_check(
    identity: Admin,
    rt: RuntimeDep,
    settings: Settings,
    today: date | None = None,
    dry_run: bool = False,
    certificate_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    return await handlers.lapse_check(
        rt.store,
        today=today or today_in_china(),
        rules=settings.hours_rules(),
        dry_run=dry_run,
        certificate_id=certificate_id,
    )


# -- continuing education: the enterprise's staff, trainings not credited, certificates not issued ---------

EnterpriseOrAdmin = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.ADMIN))]
InstitutionOrAdmin = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]


def _staff_row(
    cert: Certificate, today: date, rules: hours_rules.HoursRules, ce_enrolled: bool
) -> dict[str, Any]:
    """One holder's certificate as the enterprise follows it: the current cycle, its hours and what is
    missing, the day it would lapse, or for a lapsed certificate what retraining still needs."""
    current = hours_rules.current_cycle(cert.issued_on, today, rules)
    row: dict[str, Any] = {
        "certificate_id": cert.certificate_id,
        "certificate_number": cert.number,
        "holder_name": cert.holder_name,
        "id_number": cert.id_number,  # the enterprise's own staff: it has their ID numbers on its sheets
        "position": cert.position,
        "specialisation": cert.specialisation,
        "issued_on": cert.issued_on.isoformat(),
        "legacy": cert.legacy,
        "state": cert.state,
        "state_label": cert.state_label,
        "ce_enrolled": ce_enrolled,
        "cycle": None,
        "hours": 0.0,
        "professional_hours": 0.0,
        "required_hours": rules.hours_per_cycle,
        "required_professional_hours": rules.professional_hours_per_cycle,
        "missing_total": 0.0,
        "missing_professional": 0.0,
        "lapses_on": None,
        "short": False,
        "retraining": _retraining_view(cert, rules),
    }
    if current is not None:
        p = hours_rules.progress_of(current, cert.records, today, rules)
        row.update(
            cycle={
                "index": current.index,
                "starts_on": current.starts_on.isoformat(),
                "ends_on": current.ends_on.isoformat(),
            },
            hours=p.total,
            professional_hours=p.professional,
            missing_total=p.missing_total,
            missing_professional=p.missing_professional,
            short=not p.met,
        )
    lapses_on = _lapses_on(cert, today, rules)
    row["lapses_on"] = lapses_on.isoformat() if lapses_on is not None else None
    if cert.state == "lapsed":
        row["short"] = True
    return row


@router.get(
    "/staff/continuing-education",
    summary="企业查看本企业持证人员的继续教育情况（当前周期学时、差额、失效日期；short=true 只看学时不足的）",
)
async def staff_continuing_education(
    identity: EnterpriseOrAdmin,
    rt: RuntimeDep,
    settings: Settings,
    page: Paging,
    short: bool = False,
    enterprise_id: Annotated[
        str | None, Query(max_length=128, description="管理员查看某企业时必填；企业账号忽略")
    ] = None,
) -> dict[str, Any]:
    """Its staff: holders whose certificate came from an exam it enrolled them for (`enterprise_id` of the
    certificate), and holders it enrolled in continuing education (their valid or lapsed certificates)."""
    if identity.role is Role.ENTERPRISE:
        org = identity.org_id or "\x00"
    elif enterprise_id:
        org = enterprise_id
    else:
        raise DomainError("请指定企业（enterprise_id）", code="enterprise_required", status=422)
    live = {"$in": ["valid", "lapsed"]}
    enrolled = {
        str(d["id_number"])
        async for d in rt.db[handlers.CE_ENROLLMENTS].find({"enterprise_id": org}, {"id_number": 1})
        if d.get("id_number")
    }
    query: dict[str, Any] = {"state": live, "enterprise_id": org}
    if enrolled:
        query = {"state": live, "$or": [{"enterprise_id": org}, {"id_number": {"$in": sorted(enrolled)}}]}
    ids = [str(d["_id"]) async for d in rt.db[handlers.INDEX].find(query, {"_id": 1})]
    today = today_in_china()
    rules = settings.hours_rules()
    rows = []
    for certificate_id in ids:
        cert, _ = await handlers.load(rt.store, certificate_id)
        rows.append(_staff_row(cert, today, rules, cert.id_number in enrolled))
    if short:
        rows = [r for r in rows if r["short"]]
    rows.sort(
        key=lambda r: (
            not r["short"],
            r["state"] != "lapsed",
            r["lapses_on"] or "9999-12-31",
            r["holder_name"],
            r["certificate_number"],
        )
    )
    return {
        "today": today.isoformat(),
        "total": len(rows),
        "items": rows[page.skip : page.skip + page.limit],
    }


@router.get(
    "/uncredited-trainings",
    summary="未能计入学时的继续教育培训（持证人没有该岗位的有效或已失效证书）：管理员看全部，培训机构看本机构的",
)
async def uncredited_trainings(identity: InstitutionOrAdmin, rt: RuntimeDep, page: Paging) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if identity.role is Role.INSTITUTION:
        query["institution_id"] = identity.org_id or "\x00"
    cursor = page.apply(rt.db[UNCREDITED_TRAININGS].find(query).sort([("completed_on", -1), ("_id", 1)]))
    return {"items": [without_id(d, "source_ref") async for d in cursor]}


@router.get(
    "/issue-refusals", summary="考试合格但未发证的记录（已持有同岗位有效证书，且设置为不重复发证）：管理员"
)
async def issue_refusals(identity: Admin, rt: RuntimeDep, page: Paging) -> dict[str, Any]:
    cursor = page.apply(rt.db[ISSUE_REFUSALS].find({}).sort([("refused_on", -1), ("_id", 1)]))
    return {"items": [without_id(d, "attempt_id") async for d in cursor]}
