"""Creating accounts: enterprise self-signup and administrator-created accounts (API and CLI alike)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from servicekit.auth import ROLE_LABELS, Role
from servicekit.paging import MAX_LIMIT, MAX_SKIP

from ..domain.accounts import (
    ADMIN_CREATABLE_ROLES,
    Account,
    normalize_city,
    validate_account_scope,
    validate_username,
)
from ..domain.errors import InvalidAccountData, UsernameTaken
from ..domain.passwords import ensure_strong_password
from .ports import AccountQuery, AccountRepository, Clock, PasswordGenerator, PasswordHasher, utc_now

MAX_DISPLAY_NAME = 100
MAX_PAGE_SIZE = MAX_LIMIT


@dataclass(frozen=True)
class NewAccount:
    username: str
    role: Role
    display_name: str | None = None
    org_id: str | None = None
    city: str | None = None
    password: str | None = None  # None: a random one is generated and returned once

    def __repr__(self) -> str:  # never show the password
        return f"NewAccount(username={self.username!r}, role={self.role.value!r})"


@dataclass(frozen=True)
class CreatedAccount:
    account: Account
    generated_password: str | None = None


@dataclass(frozen=True)
class AccountPage:
    items: list[Account]
    total: int
    skip: int
    limit: int


def new_enterprise_id() -> str:
    return uuid.uuid4().hex


class AccountAdministration:
    def __init__(
        self,
        accounts: AccountRepository,
        hasher: PasswordHasher,
        generate_password: PasswordGenerator,
        clock: Clock = utc_now,
    ) -> None:
        self.accounts = accounts
        self.hasher = hasher
        self.generate_password = generate_password
        self.clock = clock

    async def create(
        self, command: NewAccount, *, allowed_roles: tuple[Role, ...] = ADMIN_CREATABLE_ROLES
    ) -> CreatedAccount:
        """Validate, hash and store a new account. Duplicate usernames → `username_taken`."""
        username = validate_username(command.username)
        if command.role not in allowed_roles:
            labels = "、".join(f"{r.value}（{ROLE_LABELS[r]}）" for r in allowed_roles)
            raise InvalidAccountData(f"不能创建该角色的账号，可选角色：{labels}")
        city = normalize_city(command.city)
        org_id = (command.org_id or "").strip() or None
        if command.role is Role.ENTERPRISE and org_id is None:
            org_id = new_enterprise_id()
        validate_account_scope(command.role, org_id, city)
        display_name = (command.display_name or "").strip() or username
        if len(display_name) > MAX_DISPLAY_NAME:
            raise InvalidAccountData(f"显示名称不能超过 {MAX_DISPLAY_NAME} 个字符")

        generated: str | None = None
        if command.password is None:
            generated = self.generate_password(username)
            password = generated
        else:
            password = command.password
            ensure_strong_password(password, username)

        if await self.accounts.by_username(username) is not None:  # fail fast; the unique index decides
            raise UsernameTaken(username)
        now = self.clock()
        account = Account(
            id=uuid.uuid4().hex,
            username=username,
            role=command.role,
            display_name=display_name,
            password_hash=await self.hasher.hash(password),
            created_at=now,
            password_changed_at=now,
            org_id=org_id,
            city=city,
        )
        await self.accounts.add(account)
        return CreatedAccount(account, generated)

    async def signup_enterprise(self, username: str, password: str, display_name: str) -> Account:
        """An enterprise chooses its own password; its organisation id is a new enterprise id."""
        if not display_name.strip():
            raise InvalidAccountData("请填写企业名称（display_name）")
        command = NewAccount(
            username=username,
            role=Role.ENTERPRISE,
            display_name=display_name,
            org_id=new_enterprise_id(),
            password=password,
        )
        created = await self.create(command, allowed_roles=(Role.ENTERPRISE,))
        return created.account

    async def list_accounts(
        self,
        *,
        role: Role | None = None,
        city: str | None = None,
        username_prefix: str | None = None,
        skip: int = 0,
        limit: int = 50,
    ) -> AccountPage:
        """Accounts filtered by role, city (“杭州” or “杭州市”) and username prefix, sorted by username."""
        if not 0 <= skip <= MAX_SKIP or not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidAccountData(f"分页参数不正确：skip 为 0–{MAX_SKIP}，limit 为 1–{MAX_PAGE_SIZE}")
        prefix = (username_prefix or "").strip().lower() or None
        query = AccountQuery(
            role=role, city=normalize_city(city), username_prefix=prefix, skip=skip, limit=limit
        )
        items, total = await self.accounts.search(query)
        return AccountPage(items, total, skip, limit)
