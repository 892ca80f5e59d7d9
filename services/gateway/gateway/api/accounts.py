"""`/api/gateway/accounts`: administrator-created accounts (reviewers, institution staff, administrators…)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from servicekit.auth import Identity, Role, require_roles
from servicekit.logging import get_logger
from servicekit.paging import Paging

from ..application.accounts import NewAccount
from .deps import CurrentSession, GatewayDep
from .schemas import (
    AccountListResponse,
    AccountOut,
    CreateAccountRequest,
    CreatedAccountResponse,
    DisableAccountRequest,
)

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
    page_params: Paging,
    role: Role | None = Query(default=None, description="角色"),
    city: str | None = Query(default=None, max_length=16, description="所属城市，如 杭州"),
    username: str | None = Query(default=None, max_length=64, description="用户名前缀"),
) -> AccountListResponse:
    page = await gateway.admin.list_accounts(
        role=role, city=city, username_prefix=username, skip=page_params.skip, limit=page_params.limit
    )
    return AccountListResponse(
        items=[AccountOut.of(a) for a in page.items], total=page.total, skip=page.skip, limit=page.limit
    )


@router.put(
    "/{account_id}/disabled",
    response_model=AccountOut,
    summary="停用或恢复账号（仅管理员；停用后该账号的全部登录立即失效，各服务随即拒绝其令牌）",
)
async def set_disabled(
    account_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: DisableAccountRequest,
    session: CurrentSession,
    admin: AdminIdentity,
    gateway: GatewayDep,
) -> AccountOut:
    account = await gateway.auth.set_disabled(account_id, body.disabled)
    log.info("accounts.disabled_set", by=admin.account_id, account_id=account_id, disabled=body.disabled)
    return AccountOut.of(account)
