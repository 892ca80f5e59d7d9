"""Accounts (pure): who may log in, with which role and organisation."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from events.reference import ZHEJIANG_CITIES
from events.reference import normalize_city as normalize_zhejiang_city
from servicekit.auth import Identity, Role

from .errors import InvalidAccountData, InvalidUsername
from .lockout import LoginState

# Roles an administrator may create (person accounts are activated by the trainee, never with a password).
ADMIN_CREATABLE_ROLES: tuple[Role, ...] = (Role.REVIEWER, Role.INSTITUTION, Role.ADMIN, Role.ENTERPRISE)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{2,63}$")


class AccountStatus(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive: stored trimmed and lower-cased."""
    return username.strip().lower()


def validate_username(username: str) -> str:
    name = normalize_username(username)
    if not _USERNAME.match(name):
        raise InvalidUsername("用户名须为 3–64 位英文字母、数字或 _ . @ -，并以字母或数字开头")
    return name


def normalize_city(city: str | None) -> str | None:
    """One of the 11 Zhejiang cities (“杭州” or “杭州市”); None when not given."""
    if city is None or not city.strip():
        return None
    name = normalize_zhejiang_city(city)
    if name not in ZHEJIANG_CITIES:
        raise InvalidAccountData(f"城市“{city}”不是浙江省的设区市，应为：{'、'.join(ZHEJIANG_CITIES)}")
    return name


def validate_account_scope(role: Role, org_id: str | None, city: str | None) -> None:
    """Reviewers belong to a city, institution staff to an institution."""
    if role is Role.REVIEWER and not city:
        raise InvalidAccountData("审核员账号必须指定所属城市（city）")
    if role is Role.INSTITUTION and not org_id:
        raise InvalidAccountData("培训机构账号必须指定所属机构编号（org_id）")
    if role is Role.PERSON:
        raise InvalidAccountData("学员账号须由学员本人凭一次性激活码激活，不能由管理员创建")


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    role: Role
    display_name: str
    password_hash: str
    created_at: datetime
    password_changed_at: datetime
    org_id: str | None = None
    city: str | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    failed_logins: int = 0
    locked_until: datetime | None = None
    # Refresh tokens issued before this instant are refused (password change, refresh-token reuse).
    sessions_revoked_at: datetime | None = None
    # Every token carries the version it was issued at (`ver`); revoking the sessions raises it, and tokens
    # below it are refused by the gateway and by every service (docs/security-auth.md).
    token_version: int = 0

    def __repr__(self) -> str:  # never show the hash
        return f"Account(id={self.id!r}, username={self.username!r}, role={self.role.value!r})"

    @property
    def login_state(self) -> LoginState:
        disabled = self.status is AccountStatus.LOCKED and self.locked_until is None
        return LoginState(self.failed_logins, self.locked_until, disabled)

    def with_login_state(self, state: LoginState) -> Account:
        status = (
            AccountStatus.LOCKED
            if (state.disabled or state.locked_until is not None)
            else AccountStatus.ACTIVE
        )
        return replace(
            self, failed_logins=state.failed_logins, locked_until=state.locked_until, status=status
        )

    def identity(self) -> Identity:
        return Identity(
            account_id=self.id, role=self.role, org_id=self.org_id, city=self.city, username=self.username
        )

    def token_still_valid(self, version: int) -> bool:
        """Whether a token of this version (its `ver` claim; 0 when absent) survived later revocations.

        Versions, not issue times: a token issued in the same second as a password change, before it, is
        refused all the same."""
        return version >= self.token_version
