"""Request-scoped access to the gateway's use cases, and the bearer-session dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from servicekit.errors import Unauthorized

from ..application.auth import Session
from ..container import Gateway

bearer_scheme = HTTPBearer(auto_error=False, description="登录后获得的访问令牌（access_token）")


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def current_session(
    gateway: GatewayDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Session:
    """A valid, unrevoked access token (401 problem+json otherwise)."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("请先登录（缺少 Authorization: Bearer 令牌）", code="not_authenticated")
    return await gateway.auth.authenticate(credentials.credentials)


CurrentSession = Annotated[Session, Depends(current_session)]
