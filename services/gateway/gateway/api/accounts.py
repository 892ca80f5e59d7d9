"""`/api/gateway/accounts`: administrator-created accounts (reviewers, institution staff, administrators…)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from servicekit.auth import Identity, Role, require_roles
from servicekit.logging import get_logger

from ..application.accounts import NewAccount
from .deps import CurrentSession, GatewayDep
from .schemas import AccountListResponse, AccountOut, CreateAccountRequest, CreatedAccountResponse

log = get_logger(__name__)

router = APIRouter(prefix="/api/gateway/accounts", tags=["账号管理"])

AdminIdentity = Annotated[Identity, Depends(require_roles(Role.ADMIN))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedAccountResponse,
    summary="创建账号（仅管理员；不填密码则生成一次性显示的随机密码）",
)
async def create_account(
    body: CreateAccountRequest, session: CurrentSession, admin: AdminIdentity, gateway: GatewayDep
) -> CreatedAccountResponse:
    created = await gateway.admin.create(
        NewAccount(
            username=body.username,
            role=body.role,
            display_name=body.display_name,
            org_id=body.org_id,
            city=body.city,
            password=body.password,
        )
    )
    log.info(
        "accounts.created",
        by=admin.account_id,
        account_id=created.account.id,
        role=created.account.role.value,
        generated_password=created.generated_password is not None,
    )
    return CreatedAccountResponse(
        account=AccountOut.of(created.account), generated_password=created.generated_password
    )


@router.get(
    "",
    response_model=AccountListResponse,
    summary="账号列表（仅管理员；可按角色、城市、用户名前缀筛选，分页；不含密码哈希）",
)
async def list_accounts(
    session: CurrentSession,
    admin: AdminIdentity,
    gateway: GatewayDep,
    role: Role | None = Query(default=None, description="角色"),
    city: str | None = Query(default=None, max_length=16, description="所属城市，如 杭州"),
    username: str | None = Query(default=None, max_length=64, description="用户名前缀"),
    limit: int = Query(default=50, ge=1, le=500),
    skip: int = Query(default=0, ge=0),
) -> AccountListResponse:
    page = await gateway.admin.list_accounts(
        role=role, city=city, username_prefix=username, skip=skip, limit=limit
    )
    return AccountListResponse(
        items=[AccountOut.of(a) for a in page.items], total=page.total, skip=page.skip, limit=page.limit
    )
