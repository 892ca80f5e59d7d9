"""Identity carried by JWT access tokens, and the role/ownership checks every endpoint makes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from .errors import Forbidden, Unauthorized
from .revocation import RevocationView, token_version


class Role(StrEnum):
    ENTERPRISE = "enterprise"
    REVIEWER = "reviewer"  # municipal authority reviewer
    INSTITUTION = "institution"
    PERSON = "person"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.ENTERPRISE: "企业",
    Role.REVIEWER: "市级建设主管部门审核员",
    Role.INSTITUTION: "培训机构",
    Role.PERSON: "学员",
    Role.ADMIN: "管理员",
}


@dataclass(frozen=True)
class Identity:
    account_id: str
    role: Role
    org_id: str | None = None  # enterprise id, institution id, city code or (person) ID number
    city: str | None = None
    username: str = ""

    def owns(self, org_id: str | None) -> bool:
        return org_id is not None and self.org_id == org_id


class TokenCodec:
    """HS256 access tokens. The secret comes from `JWT_SECRET`; there is no default secret."""

    def __init__(self, secret: str, issuer: str, access_ttl_seconds: int = 900) -> None:
        if len(secret) < 32:
            raise ValueError("JWT_SECRET must be set to at least 32 random characters")
        self.secret = secret
        self.issuer = issuer
        self.access_ttl_seconds = access_ttl_seconds

    def issue(
        self,
        identity: Identity,
        *,
        ttl_seconds: int | None = None,
        token_type: str = "access",
        version: int = 0,
    ) -> str:
        """A signed token; `version` is the account's token version (`ver`): revoking an account's sessions
        raises it, and every token below it is refused (servicekit.revocation)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": identity.account_id,
            "role": identity.role.value,
            "org": identity.org_id,
            "city": identity.city,
            "name": identity.username,
            "iss": self.issuer,
            "iat": now,
            "exp": now + (ttl_seconds or self.access_ttl_seconds),
            "jti": uuid.uuid4().hex,
            "typ": token_type,
            "ver": version,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def decode(self, token: str, *, token_type: str = "access") -> tuple[Identity, dict[str, Any]]:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"require": ["exp", "sub", "role", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("登录已过期，请重新登录", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("登录凭证无效，请重新登录", code="token_invalid") from exc
        if claims.get("typ", "access") != token_type:
            raise Unauthorized("登录凭证类型不正确", code="token_invalid")
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise Unauthorized("登录凭证中的角色无效", code="token_invalid") from exc
        identity = Identity(
            account_id=str(claims["sub"]),
            role=role,
            org_id=claims.get("org"),
            city=claims.get("city"),
            username=claims.get("name") or "",
        )
        return identity, claims


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("请先登录（缺少 Authorization: Bearer 令牌）", code="not_authenticated")
    return token.strip()


async def current_identity(request: Request) -> Identity:
    """The caller's identity from a valid access token that was not revoked since it was issued (a logout, a
    password change…: see servicekit.revocation; 401 `token_revoked`)."""
    codec: TokenCodec = request.app.state.token_codec
    identity, claims = codec.decode(bearer_token(request))
    runtime = getattr(request.app.state, "runtime", None)
    view: RevocationView | None = getattr(runtime, "revocations", None)
    if runtime is not None and view is not None:
        jti = claims.get("jti")
        await view.ensure_valid(
            runtime.db, identity.account_id, token_version(claims), jti if isinstance(jti, str) else None
        )
    return identity


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


def require_roles(*roles: Role) -> Callable[[Identity], Identity]:
    """A dependency that admits only the given roles (403 with the reason otherwise)."""
    allowed = frozenset(roles)

    def check(identity: CurrentIdentity) -> Identity:
        if identity.role not in allowed:
            labels = "、".join(ROLE_LABELS[r] for r in sorted(allowed))
            raise Forbidden(
                f"此操作仅限{labels}账号，当前账号角色为{ROLE_LABELS[identity.role]}", code="role_forbidden"
            )
        return identity

    return check


def ensure_owner(identity: Identity, org_id: str | None, *, what: str = "该数据") -> None:
    """Ownership check: administrators see everything, others only their own organisation's data."""
    if identity.role is Role.ADMIN or identity.owns(org_id):
        return
    raise Forbidden(f"无权访问{what}", code="not_owner")


def scope_filter(
    identity: Identity,
    *,
    enterprise: str | None = "enterprise_id",
    institution: str | None = "institution_id",
    person: str | None = None,
    reviewer: str | None = None,
) -> dict[str, Any]:
    """The read-model filter that limits a list to what the caller owns (administrators: everything).

    Each keyword names the field that holds that role's organisation (`reviewer`: the field holding the city);
    a role mapped to None sees nothing here and gets a 403.
    """
    if identity.role is Role.ADMIN:
        return {}
    field = {
        Role.ENTERPRISE: enterprise,
        Role.INSTITUTION: institution,
        Role.PERSON: person,
        Role.REVIEWER: reviewer,
    }[identity.role]
    if field is None:
        raise Forbidden(f"{ROLE_LABELS[identity.role]}账号无权查看此列表", code="role_forbidden")
    return {field: identity.city if identity.role is Role.REVIEWER else identity.org_id}
