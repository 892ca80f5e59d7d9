"""Request and response bodies of the gateway's own endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from servicekit.auth import ROLE_LABELS, Role
from servicekit.paging import BoundedModel

from ..application.auth import TokenPair
from ..domain.accounts import Account


class SignupRequest(BoundedModel):
    username: str = Field(
        min_length=1, max_length=64, description="登录用户名（3–64 位字母、数字或 _ . @ -）"
    )
    password: str = Field(
        min_length=1, max_length=128, description="至少 10 位，同时包含字母和数字，不能是常见密码"
    )
    display_name: str = Field(min_length=1, max_length=100, description="企业名称")


class LoginRequest(BoundedModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(BoundedModel):
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="刷新令牌；省略时使用登录时设置的 HttpOnly Cookie（网页端）",
    )


class LogoutRequest(BoundedModel):
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="要作废的刷新令牌；省略时使用 HttpOnly Cookie（网页端）",
    )


class PasswordChangeRequest(BoundedModel):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class CreateAccountRequest(BoundedModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role = Field(
        description="reviewer（审核员，需 city）、institution（培训机构，需 org_id）、admin、enterprise"
    )
    org_id: str | None = Field(default=None, max_length=128, description="所属组织编号（培训机构账号必填）")
    city: str | None = Field(default=None, max_length=16, description="所属城市（审核员账号必填）")
    display_name: str | None = Field(default=None, max_length=100)
    password: str | None = Field(
        default=None, max_length=128, description="不填则生成 16 位随机密码，仅在本次响应中返回一次"
    )


class AccountOut(BaseModel):
    id: str
    username: str
    role: Role
    role_label: str
    org_id: str | None
    city: str | None
    display_name: str
    status: str
    created_at: datetime
    password_changed_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            id=account.id,
            username=account.username,
            role=account.role,
            role_label=ROLE_LABELS[account.role],
            org_id=account.org_id,
            city=account.city,
            display_name=account.display_name,
            status=account.status.value,
            created_at=account.created_at,
            password_changed_at=account.password_changed_at,
        )


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="访问令牌有效期（秒）")
    refresh_expires_in: int = Field(description="刷新令牌有效期（秒）")
    account_id: str
    username: str
    role: Role
    org_id: str | None
    city: str | None

    @classmethod
    def of(cls, account: Account, pair: TokenPair) -> TokenResponse:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
            refresh_expires_in=pair.refresh_expires_in,
            account_id=account.id,
            username=account.username,
            role=account.role,
            org_id=account.org_id,
            city=account.city,
        )


class SignupResponse(TokenResponse):
    account: AccountOut


class MeResponse(BaseModel):
    account_id: str
    username: str
    role: Role
    role_label: str
    org_id: str | None
    city: str | None
    display_name: str
    status: str
    password_changed_at: datetime


class CreatedAccountResponse(BaseModel):
    account: AccountOut
    generated_password: str | None = Field(
        default=None, description="系统生成的初始密码（仅此一次返回，请转交本人并提醒其尽快修改）"
    )


class DisableAccountRequest(BoundedModel):
    disabled: bool = Field(description="true 停用（该账号的全部登录立即失效）；false 恢复")


class AccountListResponse(BaseModel):
    items: list[AccountOut]
    total: int = Field(description="符合条件的账号总数")
    skip: int
    limit: int


class ActivationCodeResponse(BaseModel):
    id_number: str
    name: str = Field(description="学员姓名（报名名单中的）")
    code: str = Field(description="一次性激活码（8 位数字，仅此一次返回，请转交学员本人）")
    expires_at: datetime = Field(description="激活码失效时间")
    max_attempts: int = Field(description="允许输错的次数，超过后激活码作废")
    sent_to: str | None = Field(description="激活码已发送到的手机号（已脱敏）；未发送时为空")
    activate_path: str = Field(
        default="/api/gateway/auth/activate", description="学员凭激活码激活账号并设置密码的接口"
    )


class ActivateRequest(BoundedModel):
    id_number: str = Field(min_length=1, max_length=32, description="18 位身份证号")
    code: str = Field(min_length=1, max_length=32, description="一次性激活码（8 位数字）")
    username: str | None = Field(
        default=None, max_length=64, description="登录用户名（可不填，默认为身份证号，字母小写）"
    )
    password: str = Field(
        min_length=1,
        max_length=128,
        description="学员自设的密码：至少 10 位，同时包含字母和数字，不能是常见密码",
    )
