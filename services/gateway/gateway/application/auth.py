"""Login, token refresh with rotation, logout, password change, and access-token checks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from servicekit.auth import Identity, TokenCodec
from servicekit.errors import DomainError, Forbidden, NotFound, Unauthorized
from servicekit.logging import get_logger
from servicekit.revocation import token_version

from ..domain.accounts import Account, normalize_username
from ..domain.errors import AccountLocked, InvalidCredentials, LoginThrottled, TokenRevoked, WrongPassword
from ..domain.lockout import ThrottlePolicy, retry_after_seconds, wait_seconds
from ..domain.passwords import ensure_strong_password
from .ports import (
    AccountRepository,
    Clock,
    LoginAttempts,
    PasswordHasher,
    RevocationLog,
    RevokedTokenStore,
    utc_now,
)

log = get_logger(__name__)

# Kinds of revocation recorded in the revoked-token store.
ROTATED = "refresh_rotated"
LOGGED_OUT = "refresh_logout"
ACCESS_LOGGED_OUT = "access_logout"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True)
class Session:
    """A verified, unrevoked access token."""

    identity: Identity
    claims: dict[str, Any]
    token: str


class TokenIssuer:
    def __init__(self, codec: TokenCodec, access_ttl_seconds: int, refresh_ttl_seconds: int) -> None:
        self.codec = codec
        self.access_ttl_seconds = access_ttl_seconds
        self.refresh_ttl_seconds = refresh_ttl_seconds

    def issue_pair(self, account: Account) -> TokenPair:
        identity = account.identity()
        version = account.token_version
        return TokenPair(
            access_token=self.codec.issue(
                identity, ttl_seconds=self.access_ttl_seconds, token_type="access", version=version
            ),
            refresh_token=self.codec.issue(
                identity, ttl_seconds=self.refresh_ttl_seconds, token_type="refresh", version=version
            ),
            expires_in=self.access_ttl_seconds,
            refresh_expires_in=self.refresh_ttl_seconds,
        )


def _disabled_error() -> AccountLocked:
    return AccountLocked(None, None)


def _expiry(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


def _jti(claims: dict[str, Any]) -> str:
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise Unauthorized("登录凭证无效，请重新登录", code="token_invalid")
    return jti


class AuthService:
    def __init__(
        self,
        accounts: AccountRepository,
        revoked: RevokedTokenStore,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        attempts: LoginAttempts,
        revocations: RevocationLog,
        throttle: ThrottlePolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.accounts = accounts
        self.revoked = revoked
        self.hasher = hasher
        self.tokens = tokens
        self.attempts = attempts
        self.revocations = revocations
        self.throttle = throttle or ThrottlePolicy()
        self.clock = clock

    # --- password checks under the login throttle -------------------------------------------------------

    async def _check_password(
        self, username: str, account: Account | None, password: str, client: str, *, wrong: DomainError
    ) -> Account:
        """Verify a password under the throttle (per client and account, progressive delay; 429)."""
        now = self.clock()
        state = await self.attempts.load(username, client, now)
        wait = wait_seconds(state, now, self.throttle)
        if wait > 0:
            log.info("auth.login_throttled", username_known=account is not None, wait=round(wait, 1))
            raise LoginThrottled(retry_after_seconds(wait))
        if account is None:
            await self.hasher.verify_dummy(password)
            await self.attempts.failed(username, client, state.known_client, now)
            raise wrong
        if not await self.hasher.verify(account.password_hash, password):
            after = await self.attempts.failed(username, client, state.known_client, now)
            log.info(
                "auth.password_rejected",
                account_id=account.id,
                client_failures=after.pair.count,
                known_client=state.known_client,
            )
            raise wrong
        if account.login_state.disabled:
            raise _disabled_error()
        await self.attempts.succeeded(username, client, now)
        if self.hasher.needs_rehash(account.password_hash):
            await self.accounts.rehash(account.id, account.password_hash, await self.hasher.hash(password))
        return account

    async def _revoke_sessions(self, account_id: str, reason: str) -> int:
        """Raise the account's token version and tell every service (their views refuse older tokens)."""
        now = self.clock()
        version = await self.accounts.revoke_sessions(account_id, now)
        await self.revocations.sessions_revoked(account_id, version, now, reason)
        log.warning("auth.sessions_revoked", account_id=account_id, reason=reason, token_version=version)
        return version

    # --- use cases ------------------------------------------------------------------------------------

    def issue(self, account: Account) -> TokenPair:
        return self.tokens.issue_pair(account)

    async def login(self, username: str, password: str, client: str = "") -> tuple[Account, TokenPair]:
        """`client`: the caller's address as the gateway sees it (domain.http_headers.client_address)."""
        name = normalize_username(username)
        account = await self.accounts.by_username(name)
        account = await self._check_password(name, account, password, client, wrong=InvalidCredentials())
        log.info("auth.login", account_id=account.id, role=account.role.value)
        return account, self.tokens.issue_pair(account)

    async def refresh(self, refresh_token: str) -> tuple[Account, TokenPair]:
        """Exchange a refresh token for a new pair; the old one is revoked (rotation).

        Presenting a refresh token that was already rotated means two parties hold it: every session of the
        account is ended.
        """
        identity, claims = self.tokens.codec.decode(refresh_token, token_type="refresh")
        jti = _jti(claims)
        account = await self.accounts.by_id(identity.account_id)
        if account is None:
            raise Unauthorized("账号不存在或已被删除，请重新登录", code="token_invalid")
        now = self.clock()
        if account.login_state.disabled:
            raise _disabled_error()
        if not account.token_still_valid(token_version(claims)):
            raise TokenRevoked("登录状态已失效（密码已修改或刷新凭证被重复使用），请重新登录")
        earlier = await self.revoked.revoke(
            jti, expires_at=_expiry(claims), account_id=account.id, kind=ROTATED, now=now
        )
        if earlier is not None:
            if earlier == ROTATED:
                log.warning("auth.refresh_token_reused", account_id=account.id)
                await self._revoke_sessions(account.id, "refresh_token_reused")
            raise TokenRevoked()
        return account, self.tokens.issue_pair(account)

    async def authenticate(self, access_token: str) -> Session:
        """Verify an access token (signature, expiry, type), that its version is the account's current one
        (no password change, refresh-token reuse or disabling since) and that it was not logged out."""
        identity, claims = self.tokens.codec.decode(access_token, token_type="access")
        # every proxied request comes here: the two reads go together (one round trip of latency, not two)
        account, revoked = await asyncio.gather(
            self.accounts.by_id(identity.account_id), self.revoked.is_revoked(_jti(claims))
        )
        if account is None:
            raise Unauthorized("账号不存在或已被删除，请重新登录", code="account_not_found")
        if account.login_state.disabled:
            raise TokenRevoked("账号已被停用，请联系管理员")
        if not account.token_still_valid(token_version(claims)):
            raise TokenRevoked("登录状态已失效（密码已修改或登录凭证被重复使用），请重新登录")
        if revoked:
            raise TokenRevoked()
        return Session(identity, claims, access_token)

    async def logout(self, session: Session, refresh_token: str | None) -> None:
        """Revoke the given refresh token (if any) and the access token used for the call."""
        now = self.clock()
        try:
            if refresh_token is None:
                raise Unauthorized("没有刷新令牌", code="token_expired")  # nothing to revoke but the access
            identity, claims = self.tokens.codec.decode(refresh_token, token_type="refresh")
        except Unauthorized as exc:
            if exc.code != "token_expired":
                raise
        else:
            if identity.account_id != session.identity.account_id:
                raise Forbidden("该刷新凭证不属于当前账号", code="not_owner")
            await self.revoked.revoke(
                _jti(claims),
                expires_at=_expiry(claims),
                account_id=identity.account_id,
                kind=LOGGED_OUT,
                now=now,
            )
        jti = _jti(session.claims)
        await self.revoked.revoke(
            jti,
            expires_at=_expiry(session.claims),
            account_id=session.identity.account_id,
            kind=ACCESS_LOGGED_OUT,
            now=now,
        )
        await self.revocations.access_token_revoked(jti, session.identity.account_id, _expiry(session.claims))
        log.info("auth.logout", account_id=session.identity.account_id)

    async def change_password(
        self, session: Session, old_password: str, new_password: str, client: str = ""
    ) -> TokenPair:
        """Check the policy and the old password, replace the hash, end every session (this one too: the
        answer carries a new pair), and tell every service."""
        account = await self.current_account(session)
        ensure_strong_password(new_password, account.username, old_password=old_password)
        account = await self._check_password(
            account.username, account, old_password, client, wrong=WrongPassword()
        )
        now = self.clock()
        version = await self.accounts.set_password(account.id, await self.hasher.hash(new_password), now)
        await self.revocations.sessions_revoked(account.id, version, now, "password_changed")
        log.info("auth.password_changed", account_id=account.id, token_version=version)
        refreshed = await self.accounts.by_id(account.id)
        return self.tokens.issue_pair(refreshed or account)

    async def set_disabled(self, account_id: str, disabled: bool) -> Account:
        """An administrator disables (every token of the account void at once) or enables an account."""
        account = await self.accounts.by_id(account_id)
        if account is None:
            raise NotFound("账号不存在", code="account_not_found")
        now = self.clock()
        version = await self.accounts.set_disabled(account_id, disabled, now)
        if disabled:
            await self.revocations.sessions_revoked(account_id, version, now, "account_disabled")
        log.warning("auth.account_disabled" if disabled else "auth.account_enabled", account_id=account_id)
        return await self.accounts.by_id(account_id) or account

    async def current_account(self, session: Session) -> Account:
        account = await self.accounts.by_id(session.identity.account_id)
        if account is None:
            raise Unauthorized("账号不存在或已被删除，请重新登录", code="account_not_found")
        return account
