"""Who reads a feed (pure): the roles admitted, the scope key of a caller, cursors."""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.auth import Identity, Role
from servicekit.errors import DomainError, Forbidden

from .scopes import PROVINCE, city_scope, institution_scope

FEED_ROLES = (Role.ADMIN, Role.REVIEWER, Role.INSTITUTION)


class InvalidCursor(DomainError):
    status = 422
    code = "feed_cursor_invalid"


@dataclass(frozen=True)
class Audience:
    """A receiver: its role (for masking) and its scope key (for filtering)."""

    role: Role
    scope: str
    owner: str  # what the scope names: "province", a city, an institution id


def audience_of(identity: Identity) -> Audience:
    """The caller's audience; 403 for roles that have no feed or an account without its organisation."""
    if identity.role is Role.ADMIN:
        return Audience(Role.ADMIN, PROVINCE, PROVINCE)
    if identity.role is Role.REVIEWER:
        if not identity.city:
            raise Forbidden("该审核员账号未设置所属城市，无法订阅事件", code="feed_no_scope")
        return Audience(Role.REVIEWER, city_scope(identity.city), identity.city)
    if identity.role is Role.INSTITUTION:
        if not identity.org_id:
            raise Forbidden("该培训机构账号未关联机构，无法订阅事件", code="feed_no_scope")
        return Audience(Role.INSTITUTION, institution_scope(identity.org_id), identity.org_id)
    raise Forbidden("事件订阅仅限管理员、市级建设主管部门审核员和培训机构账号", code="role_forbidden")


def parse_cursor(raw: str | None) -> int:
    """A cursor is the sequence number of the last entry read ("" or None: from the start)."""
    if raw is None or raw.strip() == "":
        return 0
    text = raw.strip()
    if not text.isdigit() or len(text) > 18:
        raise InvalidCursor(f"游标格式不正确：{text[:40]}（应为上一页返回的 cursor）")
    return int(text)


def format_cursor(seq: int) -> str:
    return str(seq)
