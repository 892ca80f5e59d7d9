"""Login, token refresh with rotation, logout, password change, and access-token checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from servicekit.auth import Identity, TokenCodec
from servicekit.errors import DomainError, Forbidden, Unauthorized
from servicekit.logging import get_logger

from ..domain.accounts import Account, normalize_username
from ..domain.errors import AccountLocked, InvalidCredentials, TokenRevoked, WrongPassword
from ..domain.lockout import LockoutPolicy, LoginState, after_failure, after_success, is_locked, minutes_left
from ..domain.passwords import ensure_strong_password
from .ports import AccountRepository, Clock, PasswordHasher, RevokedTokenStore, utc_now

log = get_logger(__name__)

# Kinds of revocation recorded in the revoked-token store.
ROTATED = "refresh_rotated"
LOGGED_OUT = "refresh_logout"
ACCESS_LOGGED_OUT = "access_logout"

MAX_STATE_WRITES = 8


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
        return TokenPair(
            access_token=self.codec.issue(identity, ttl_seconds=self.access_ttl_seconds, token_type="access"),
            refresh_token=self.codec.issue(
                identity, ttl_seconds=self.refresh_ttl_seconds, token_type="refresh"
            ),
            expires_in=self.access_ttl_seconds,
            refresh_expires_in=self.refresh_ttl_seconds,
        )


def _locked_error(state: LoginState, now: datetime) -> AccountLocked:
    until = state.locked_until.isoformat() if state.locked_until else None
    return AccountLocked(minutes_left(state, now), until)


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
        lockout: LockoutPolicy,
        clock: Clock = utc_now,
    ) -> None:
        self.accounts = accounts
        self.revoked = revoked
        self.hasher = hasher
        self.tokens = tokens
        self.lockout = lockout
        self.clock = clock

    # --- password checks with lockout -------------------------------------------------------------------

    async def _check_password(self, account: Account, password: str, *, wrong: DomainError) -> Account:
        """Verify a password under the lockout rule; returns the account as stored afterwards."""
        if is_locked(account.login_state, self.clock()):
            raise _locked_error(account.login_state, self.clock())
        ok = await self.hasher.verify(account.password_hash, password)
        current: Account | None = account
        now = self.clock()
        new_state = account.login_state
        for _ in range(MAX_STATE_WRITES):
            if current is None:
                raise InvalidCredentials()
            now = self.clock()
            state = current.login_state
            if is_locked(state, now):  # a concurrent attempt locked it meanwhile
                raise _locked_error(state, now)
            new_state = after_success(state) if ok else after_failure(state, now, self.lockout)
            updated = current.with_login_state(new_state)
            if updated == current or await self.accounts.save_login_state(current, updated):
                current = updated
                break
            current = await self.accounts.by_id(current.id)
        else:
            raise DomainError("登录请求过于频繁，请稍后重试", code="login_busy", status=429)
        if not ok:
            log.info("auth.password_rejected", account_id=current.id, failed_logins=new_state.failed_logins)
            if is_locked(new_state, now):
                log.warning("auth.account_locked", account_id=current.id, until=str(new_state.locked_until))
                raise _locked_error(new_state, now)
            raise wrong
        if self.hasher.needs_rehash(current.password_hash):
            await self.accounts.rehash(current.id, current.password_hash, await self.hasher.hash(password))
        return current

    # --- use cases ------------------------------------------------------------------------------------

    def issue(self, account: Account) -> TokenPair:
        return self.tokens.issue_pair(account)

    async def login(self, username: str, password: str) -> tuple[Account, TokenPair]:
        account = await self.accounts.by_username(normalize_username(username))
        if account is None:
            await self.hasher.verify_dummy(password)
            raise InvalidCredentials()
        account = await self._check_password(account, password, wrong=InvalidCredentials())
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
            raise _locked_error(account.login_state, now)
        if not account.token_still_valid(int(claims.get("iat", 0))):
            raise TokenRevoked("登录状态已失效（密码已修改或刷新凭证被重复使用），请重新登录")
        earlier = await self.revoked.revoke(
            jti, expires_at=_expiry(claims), account_id=account.id, kind=ROTATED, now=now
        )
        if earlier is not None:
            if earlier == ROTATED:
                log.warning("auth.refresh_token_reused", account_id=account.id)
                await self.accounts.revoke_sessions(account.id, now)
            raise TokenRevoked()
        return account, self.tokens.issue_pair(account)

    async def authenticate(self, access_token: str) -> Session:
        """Verify an access token (signature, expiry, type) and that it was not revoked by a logout."""
        identity, claims = self.tokens.codec.decode(access_token, token_type="access")
        if await self.revoked.is_revoked(_jti(claims)):
            raise TokenRevoked()
        return Session(identity, claims, access_token)

    async def logout(self, session: Session, refresh_token: str) -> None:
        """Revoke the given refresh token and the access token used for the call."""
        now = self.clock()
        try:
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
        await self.revoked.revoke(
            _jti(session.claims),
            expires_at=_expiry(session.claims),
            account_id=session.identity.account_id,
            kind=ACCESS_LOGGED_OUT,
            now=now,
        )
        log.info("auth.logout", account_id=session.identity.account_id)

    async def change_password(self, session: Session, old_password: str, new_password: str) -> TokenPair:
        """Check the policy and the old password, replace the hash, end other sessions, return a new pair."""
        account = await self.current_account(session)
        ensure_strong_password(new_password, account.username, old_password=old_password)
        account = await self._check_password(account, old_password, wrong=WrongPassword())
        now = self.clock()
        await self.accounts.set_password(account.id, await self.hasher.hash(new_password), now)
        log.info("auth.password_changed", account_id=account.id)
        refreshed = await self.accounts.by_id(account.id)
        return self.tokens.issue_pair(refreshed or account)

    async def current_account(self, session: Session) -> Account:
        account = await self.accounts.by_id(session.identity.account_id)
        if account is None:
            raise Unauthorized("账号不存在或已被删除，请重新登录", code="account_not_found")
        return account
