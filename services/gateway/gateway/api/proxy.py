"""`/api/<service>/…`: routed to the service, the token verified once and the identity passed on."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from servicekit.errors import NotFound, Unauthorized

from ..domain.http_headers import IDENTITY_ACCOUNT, IDENTITY_ORG, IDENTITY_ROLE
from .deps import GatewayDep

router = APIRouter()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _header_value(value: str) -> str:
    """Header values are ASCII; anything else is percent-encoded (UTF-8)."""
    return value if value.isascii() else quote(value, safe="")


async def _identity_headers(request: Request, gateway: GatewayDep) -> list[tuple[str, str]]:
    header = request.headers.get("authorization")
    if header is None:
        return []  # the service decides (some endpoints are public)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("登录凭证格式不正确（应为 Authorization: Bearer 令牌）", code="token_invalid")
    session = await gateway.auth.authenticate(token.strip())
    identity = session.identity
    headers = [(IDENTITY_ACCOUNT, _header_value(identity.account_id)), (IDENTITY_ROLE, identity.role.value)]
    if identity.org_id:
        headers.append((IDENTITY_ORG, _header_value(identity.org_id)))
    return headers


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
async def proxy(service: str, path: str, request: Request, gateway: GatewayDep) -> Response:
    if service == "gateway":  # the gateway's own routes are matched before this one
        raise NotFound("请求的地址不存在", code="http_404")
    gateway.proxy.base_url(service)  # unknown service → 404 before anything else
    identity_headers = await _identity_headers(request, gateway)
    return await gateway.proxy.forward(service, request, identity_headers)
