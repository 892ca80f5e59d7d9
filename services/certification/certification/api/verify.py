"""Public verification (no login): by certificate number or by the signed token of the QR code.

JSON by default; an HTML page when the client asks for text/html (a phone's browser opening the QR code).
The answer comes from the event store (the certificate's stream folded), never from a lagging read model, so
a revocation or a renewal shows at once.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from servicekit.app import RuntimeDep
from servicekit.errors import DomainError, NotFound

from ..adapters.signing import CertificateSigner, VerificationClaims, verify_token
from ..application import handlers
from ..application.rendering import claims_of
from ..domain.certificate import Certificate
from ..domain.numbers import is_valid_number, mask_id_number, mask_name, same_name

router = APIRouter(prefix="/api/certification", tags=["证书查验（公开）"])

STATE_NOTES = {
    "valid": "证书有效。",
    "lapsed": "继续教育学时不足，证书已失效，持证人须重新参加培训考核。",
    "superseded": "该证书已更新为新的电子证书，原证书作废。",
    "revoked": "该证书已被注销。",
}


def _signer(request: Request) -> CertificateSigner:
    signer: CertificateSigner = request.app.state.certificate_signer
    return signer


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


async def _public(rt: RuntimeDep, cert: Certificate) -> dict[str, Any]:
    renews_number = None
    if cert.renews:
        previous = await rt.store.db[handlers.INDEX].find_one({"_id": cert.renews}, {"number": 1})
        renews_number = previous["number"] if previous else None
    if cert.institution_id and cert.institution_id != "legacy":
        institution = await handlers.institution_name(rt.store, cert.institution_id)
        if institution == cert.institution_id and cert.institution_name:
            institution = cert.institution_name
    else:
        institution = cert.institution_name or cert.issuer
    return {
        "certificate_number": cert.number,
        "state": cert.state,
        "state_label": cert.state_label,
        "state_note": STATE_NOTES[cert.state],
        "holder_name": mask_name(cert.holder_name),
        "id_number": mask_id_number(cert.id_number),
        "position": cert.position,
        "specialisation": cert.specialisation,
        "institution_id": cert.institution_id,
        "institution_name": institution,
        "issued_on": cert.issued_on.isoformat(),
        "legacy": cert.legacy,
        "renewed_by_number": cert.renewed_by_number,
        "renews_number": renews_number,
    }


def _page(title: str, rows: list[tuple[str, str]], note: str = "", status: int = 200) -> HTMLResponse:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows if v is not None
    )
    body = (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1.2em;max-width:40em}"
        "th{text-align:left;padding:.3em 1em .3em 0;color:#555;white-space:nowrap}td{padding:.3em 0}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table>{cells}</table>"
        f"<p>{html.escape(note)}</p><p><small>浙江省施工现场专业人员证书查验</small></p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _render(request: Request, data: dict[str, Any], token_checked: bool = False) -> Response:
    if not wants_html(request):
        return JSONResponse(data)
    rows = [
        ("证书状态", data["state_label"]),
        ("证书编号", data["certificate_number"]),
        ("姓名", data["holder_name"]),
        ("身份证号", data["id_number"]),
        ("岗位", data["position"] + (f"（{data['specialisation']}）" if data.get("specialisation") else "")),
        ("培训机构", data["institution_name"] or ""),
        ("发证日期", data["issued_on"]),
    ]
    if data.get("renewed_by_number"):
        rows.append(("更新后证书编号", data["renewed_by_number"]))
    if data.get("renews_number"):
        rows.append(("原证书编号", data["renews_number"]))
    if token_checked:
        rows.append(("二维码签名", "有效（本平台签发）" if data.get("signature_valid") else "无效"))
    return _page("证书查验结果", rows, data["state_note"])


def _error_response(request: Request, exc: DomainError) -> Response:
    if wants_html(request):
        return _page("证书查验", [], exc.message, status=exc.status)
    raise exc


@router.get(
    "/verify/public-key",
    summary="证书二维码签名公钥（PEM，Ed25519），用于离线查验",
    response_class=Response,
)
async def public_key(request: Request) -> Response:
    return Response(_signer(request).public_key_pem(), media_type="application/x-pem-file")


@router.get("/verify", summary="扫码查验：二维码中的签名查验码（公开）")
async def verify_by_token(
    request: Request, rt: RuntimeDep, token: str = Query(min_length=1, max_length=4096)
) -> Response:
    try:
        claims = verify_token(token, _signer(request).public_key_pem())
        found = await handlers.find_by_number(rt.store, claims.number)
        if found is None:
            raise NotFound("未查询到该编号的证书", code="certificate_not_found")
        cert, _ = found
        data = await _public(rt, cert)
    except DomainError as exc:
        return _error_response(request, exc)
    data["signature_valid"] = True
    data["claims"] = _claims_view(claims)
    data["claims_match"] = claims == claims_of(cert, str(claims.institution)) and claims.institution in (
        data["institution_name"],
        cert.institution_name,
        cert.institution_id,
    )
    return _render(request, data, token_checked=True)


def _claims_view(claims: VerificationClaims) -> dict[str, Any]:
    return {
        "number": claims.number,
        "name_masked": claims.name_masked,
        "id_masked": claims.id_masked,
        "position": claims.position,
        "specialisation": claims.specialisation,
        "institution": claims.institution,
        "issued_on": claims.issued_on.isoformat(),
    }


@router.get(
    "/verify/{certificate_number}",
    summary="公开查验：按证书编号（可加持证人姓名）查询证书状态（姓名、身份证号脱敏）",
    description="给出姓名（name）时须与持证人姓名一致（不计空格），否则 404 `name_mismatch`。",
)
async def verify(
    certificate_number: str,
    request: Request,
    rt: RuntimeDep,
    name: Annotated[str | None, Query(max_length=50, description="持证人姓名（全名）")] = None,
) -> Response:
    number = certificate_number.strip().upper()
    try:
        found = await handlers.find_by_number(rt.store, number)
        if found is None:
            if not is_valid_number(number):
                raise DomainError(
                    "证书编号格式或校验位不正确，请核对后重新输入",
                    code="invalid_certificate_number",
                    status=400,
                )
            raise NotFound("未查询到该编号的证书", code="certificate_not_found")
        if name is not None and name.strip() and not same_name(found[0].holder_name, name):
            raise NotFound("证书编号与持证人姓名不一致，请核对后重新输入", code="name_mismatch")
        data = await _public(rt, found[0])
    except DomainError as exc:
        return _error_response(request, exc)
    return _render(request, data)
