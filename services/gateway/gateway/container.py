"""Wiring: the gateway's adapters and use cases, built once per app inside its event loop."""

from __future__ import annotations

from typing import Any

import httpx
from servicekit.auth import TokenCodec
from servicekit.runtime import ServiceRuntime

from .adapters.accounts_mongo import MongoAccountRepository
from .adapters.activation_codes_mongo import MongoActivationCodeStore
from .adapters.login_attempts_mongo import MongoLoginAttempts
from .adapters.notifications import LocalNotifier
from .adapters.passwords import Argon2PasswordHasher, generate_activation_code, generate_password
from .adapters.persons_mongo import MongoPersonDirectory
from .adapters.revocation_events import StoreRevocationLog
from .adapters.revoked_tokens import MongoRevokedTokenStore
from .adapters.upstream import ReverseProxy, create_http_client
from .application.accounts import AccountAdministration
from .application.activation import ActivationService
from .application.auth import AuthService, TokenIssuer
from .application.openapi import OpenAPIAggregator
from .domain.http_headers import client_address
from .domain.lockout import ThrottlePolicy
from .settings import GatewaySettings


class NotStarted(RuntimeError):
    pass


class Gateway:
    def __init__(
        self, settings: GatewaySettings, runtime: ServiceRuntime, hasher: Argon2PasswordHasher
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.hasher = hasher
        self.throttle = ThrottlePolicy(
            free_failures=settings.login_free_failures,
            account_free_failures=settings.login_account_free_failures,
            base_delay_seconds=settings.login_base_delay_seconds,
            max_delay_seconds=settings.login_max_delay_seconds,
            window_seconds=settings.login_failure_window_seconds,
        )
        self._auth: AuthService | None = None
        self._admin: AccountAdministration | None = None
        self._activation: ActivationService | None = None
        self._proxy: ReverseProxy | None = None
        self._openapi: OpenAPIAggregator | None = None
        self.http: httpx.AsyncClient | None = None

    async def start_storage(self, codec: TokenCodec) -> None:
        """Repositories on the runtime's database (created inside the running loop), with their indexes."""
        accounts = MongoAccountRepository(self.runtime.db)
        revoked = MongoRevokedTokenStore(self.runtime.db)
        codes = MongoActivationCodeStore(self.runtime.db)
        notifier = LocalNotifier(self.runtime.db)
        attempts = MongoLoginAttempts(self.runtime.db, self.throttle)
        for repository in (accounts, revoked, codes, notifier, attempts):
            await repository.ensure_indexes()
        tokens = TokenIssuer(
            codec, self.settings.access_token_ttl_seconds, self.settings.refresh_token_ttl_seconds
        )
        self._auth = AuthService(
            accounts,
            revoked,
            self.hasher,
            tokens,
            attempts,
            StoreRevocationLog(self.runtime.store),
            self.throttle,
        )
        self._admin = AccountAdministration(
            accounts, self.hasher, lambda username: generate_password(16, username)
        )
        self._activation = ActivationService(
            persons=MongoPersonDirectory(self.runtime.db),
            codes=codes,
            accounts=accounts,
            hasher=self.hasher,
            notifier=notifier,
            generate_code=generate_activation_code,
            ttl_seconds=self.settings.activation_code_ttl_seconds,
            max_attempts=self.settings.activation_max_attempts,
        )

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        """The caller's address as the login throttle counts it."""
        return client_address(peer, forwarded_for, self.settings.trusted_proxy_set())

    def start_http(self, own_openapi: Any) -> None:
        self.http = create_http_client(self.settings)
        proxy = ReverseProxy(
            self.http,
            self.settings.upstreams(),
            self.settings.proxy_max_body_bytes,
            signing_secret=self.settings.gateway_signing_secret.get_secret_value(),
        )
        timeout = self.settings.openapi_fetch_timeout_seconds

        async def fetch(service: str, base_url: str) -> dict[str, Any]:
            return await proxy.fetch_openapi(service, base_url, timeout)

        self._proxy = proxy
        self._openapi = OpenAPIAggregator(
            own_openapi, self.settings.upstreams(), fetch, ttl_seconds=self.settings.openapi_cache_seconds
        )

    async def stop_http(self) -> None:
        if self.http is not None:
            await self.http.aclose()
            self.http = None

    @property
    def auth(self) -> AuthService:
        if self._auth is None:
            raise NotStarted("gateway not started")
        return self._auth

    @property
    def admin(self) -> AccountAdministration:
        if self._admin is None:
            raise NotStarted("gateway not started")
        return self._admin

    @property
    def activation(self) -> ActivationService:
        if self._activation is None:
            raise NotStarted("gateway not started")
        return self._activation

    @property
    def proxy(self) -> ReverseProxy:
        if self._proxy is None:
            raise NotStarted("gateway not started")
        return self._proxy

    @property
    def openapi(self) -> OpenAPIAggregator:
        if self._openapi is None:
            raise NotStarted("gateway not started")
        return self._openapi
