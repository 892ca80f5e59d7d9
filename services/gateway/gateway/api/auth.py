"""`/api/gateway/auth/…`: signup, login, refresh, logout, password change, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from servicekit.app import problem_response
from servicekit.auth import ROLE_LABELS
from servicekit.errors import Unauthorized

from ..application.activation import Activation
from ..domain.errors import LoginThrottled
from .deps import CurrentSession, GatewayDep
from .schemas import (
    AccountOut,
    ActivateRequest,
    LoginRequest,
    LogoutRequest,
    MeResponse,
    PasswordChangeRequest,
    RefreshRequest,
    SignupRequest,
    SignupResponse,
    TokenResponse,
)

router = APIRouter(prefix="/api/gateway/auth", tags=["登录与账号"])

# The web application's refresh token: HttpOnly (no script reads it), SameSite=Strict, sent only to the auth
# endpoints, Secure over TLS. The answers keep carrying the tokens in the body for API clients (curl).
REFRESH_COOKIE = "zj_refresh"
REFRESH_COOKIE_PATH = "/api/gateway/auth"


def over_tls(request: Request, gateway: GatewayDep) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return gateway.settings.cookie_secure or request.url.scheme == "https" or forwarded == "https"


def set_refresh_cookie(
    response: Response, request: Request, gateway: GatewayDep, body: TokenResponse
) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        body.refresh_token,
        max_age=body.refresh_expires_in,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=over_tls(request, gateway),
    )


def clear_refresh_cookie(response: Response, request: Request, gateway: GatewayDep) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=over_tls(request, gateway),
    )


@router.post(
    "/signup/enterprise",
    status_code=status.HTTP_201_CREATED,
    response_model=SignupResponse,
    summary="企业注册账号（自设密码）",
)
async def signup_enterprise(
    body: SignupRequest, request: Request, response: Response, gateway: GatewayDep
) -> SignupResponse:
    account = await gateway.admin.signup_enterprise(body.username, body.password, body.display_name)
    pair = gateway.auth.issue(account)
    base = TokenResponse.of(account, pair)
    set_refresh_cookie(response, request, gateway, base)
    return SignupResponse(**base.model_dump(), account=AccountOut.of(account))


def client_of(request: Request, gateway: GatewayDep) -> str:
    """The caller's address (X-Forwarded-For only from TRUSTED_PROXIES)."""
    peer = request.client.host if request.client else None
    return gateway.client(peer, request.headers.get("x-forwarded-for"))


def throttled(exc: LoginThrottled) -> JSONResponse:
    response = problem_response(exc.status, exc.code, exc.message, exc.details)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@router.post(
    "/login",
    response_model=TokenResponse,
    summary="登录",
    description="同一客户端对同一账号连续输错密码后须等待（逐次加长，429 并带 Retry-After），不会锁定账号。",
)
async def login(
    body: LoginRequest, request: Request, response: Response, gateway: GatewayDep
) -> TokenResponse | JSONResponse:
    try:
        account, pair = await gateway.auth.login(body.username, body.password, client_of(request, gateway))
    except LoginThrottled as exc:
        return throttled(exc)
    answer = TokenResponse.of(account, pair)
    set_refresh_cookie(response, request, gateway, answer)
    return answer


@router.post(
    "/activate",
    response_model=TokenResponse,
    summary="学员激活账号：身份证号 + 一次性激活码 + 自设密码（成功后即已登录）",
    description=(
        "激活码由报名的企业或培训机构生成并转交（也会以短信发送）。输错 5 次后激活码作废（423），"
        "过期返回 410。身份证号不存在、已激活或激活码不对时回答相同（401），不透露该身份证号是否已有账号。"
    ),
)
async def activate(
    body: ActivateRequest, request: Request, response: Response, gateway: GatewayDep
) -> TokenResponse:
    account = await gateway.activation.activate(
        Activation(id_number=body.id_number, code=body.code, password=body.password, username=body.username)
    )
    answer = TokenResponse.of(account, gateway.auth.issue(account))
    set_refresh_cookie(response, request, gateway, answer)
    return answer


@router.post(
    "/refresh",
    response_model=TokenResponse,
    summary="用刷新令牌换取新令牌（旧刷新令牌随即作废）",
    description=(
        "刷新令牌取自请求体；请求体没有时取自登录时设置的 HttpOnly Cookie（网页端刷新页面后保持登录）。"
    ),
)
async def refresh(
    request: Request, response: Response, gateway: GatewayDep, body: RefreshRequest | None = None
) -> TokenResponse:
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise Unauthorized("未登录或登录已过期，请重新登录", code="token_missing")
    account, pair = await gateway.auth.refresh(token)
    answer = TokenResponse.of(account, pair)
    set_refresh_cookie(response, request, gateway, answer)
    return answer


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录（作废刷新令牌和当前访问令牌）"
)
async def logout(
    request: Request, session: CurrentSession, gateway: GatewayDep, body: LogoutRequest | None = None
) -> Response:
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    await gateway.auth.logout(session, token)
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_refresh_cookie(answer, request, gateway)
    return answer


@router.post(
    "/password",
    response_model=TokenResponse,
    summary="修改密码（其他设备上的登录随即失效，返回新令牌）",
)
async def change_password(
    body: PasswordChangeRequest, request: Request, session: CurrentSession, gateway: GatewayDep
) -> TokenResponse | JSONResponse:
    try:
        pair = await gateway.auth.change_password(
            session, body.old_password, body.new_password, client_of(request, gateway)
        )
    except LoginThrottled as exc:
        return throttled(exc)
    account = await gateway.auth.current_account(session)
    return TokenResponse.of(account, pair)


@router.get("/me", response_model=MeResponse, summary="当前登录身份")
async def me(session: CurrentSession, gateway: GatewayDep) -> MeResponse:
    account = await gateway.auth.current_account(session)
    identity = session.identity
    return MeResponse(
        account_id=identity.account_id,
        username=identity.username or account.username,
        role=identity.role,
        role_label=ROLE_LABELS[identity.role],
        org_id=identity.org_id,
        city=identity.city,
        display_name=account.display_name,
        status=account.status.value,
        password_changed_at=account.password_changed_at,
    )
