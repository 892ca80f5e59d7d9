"""Gateway settings: the shared service settings plus upstream addresses and login/token policy."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field
from servicekit.settings import ServiceSettings

# The repository's built web application (services/gateway/gateway/settings.py → <repo>/web/dist).
DEFAULT_WEB_DIST_DIR = Path(__file__).resolve().parents[3] / "web" / "dist"

SERVICES = ("registration", "enrollment", "payment", "exam", "certification")


MiB = 1024 * 1024
# Routes whose bodies may be larger than the default (the services declare the same with @body_limit): the
# materials zip (500 MB + 1 MB of form), the applicant sheet (20 MB + 1), registration's three documents
# (3 × 10 MB + 1), a violation's evidence (5 × 10 MB + 1).
ROUTE_MAX_BODY_BYTES: dict[str, int] = {
    r"^/api/enrollment/batches/[^/]+/materials$": 501 * MiB,
    r"^/api/enrollment/batches/import$": 21 * MiB,
    r"^/api/registration/enterprises(/me/resubmit)?$": 31 * MiB,
    r"^/api/exam/candidates/[^/]+/violations$": 51 * MiB,
}


class GatewaySettings(ServiceSettings):
    service_name: str = Field(default="gateway", validation_alias="SERVICE_NAME")

    registration_url: str = Field(default="http://127.0.0.1:8001", validation_alias="REGISTRATION_URL")
    enrollment_url: str = Field(default="http://127.0.0.1:8002", validation_alias="ENROLLMENT_URL")
    payment_url: str = Field(default="http://127.0.0.1:8003", validation_alias="PAYMENT_URL")
    exam_url: str = Field(default="http://127.0.0.1:8004", validation_alias="EXAM_URL")
    certification_url: str = Field(default="http://127.0.0.1:8005", validation_alias="CERTIFICATION_URL")

    access_token_ttl_seconds: int = Field(default=900, gt=0, validation_alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_seconds: int = Field(
        default=7 * 24 * 3600, gt=0, validation_alias="REFRESH_TOKEN_TTL_SECONDS"
    )
    # Login throttling (domain.lockout): per (client, username) the first LOGIN_FREE_FAILURES wrong
    # passwords cost nothing, then each waits twice as long as the one before (from
    # LOGIN_BASE_DELAY_SECONDS, 1 s, at most LOGIN_MAX_DELAY_SECONDS); past LOGIN_ACCOUNT_FREE_FAILURES
    # failures from clients the account does not know, every unknown client waits too.
    # Clients the account logged in from are never held back by failures elsewhere.
    login_free_failures: int = Field(default=3, ge=1, validation_alias="LOGIN_FREE_FAILURES")
    login_account_free_failures: int = Field(default=10, ge=1, validation_alias="LOGIN_ACCOUNT_FREE_FAILURES")
    login_base_delay_seconds: float = Field(default=1.0, gt=0, validation_alias="LOGIN_BASE_DELAY_SECONDS")
    login_max_delay_seconds: float = Field(default=900.0, gt=0, validation_alias="LOGIN_MAX_DELAY_SECONDS")
    login_failure_window_seconds: int = Field(
        default=3600, gt=0, validation_alias="LOGIN_FAILURE_WINDOW_SECONDS"
    )
    # Addresses of reverse proxies in front of the gateway (comma-separated): only from these is
    # X-Forwarded-For believed when telling clients apart. Empty: the connection's peer is the client.
    trusted_proxies: str = Field(default="", validation_alias="TRUSTED_PROXIES")
    # Person accounts: one-time activation codes.
    activation_code_ttl_seconds: int = Field(
        default=72 * 3600, gt=0, validation_alias="ACTIVATION_CODE_TTL_SECONDS"
    )
    activation_max_attempts: int = Field(default=5, ge=1, validation_alias="ACTIVATION_MAX_ATTEMPTS")

    # The largest body forwarded: the services' own limits (servicekit.bodylimit, docs/uploads.md), 12 MB on
    # every route but those of ROUTE_MAX_BODY_BYTES (regular expression of the path → bytes).
    proxy_max_body_bytes: int = Field(default=12 * MiB, gt=0, validation_alias="PROXY_MAX_BODY_BYTES")
    proxy_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, validation_alias="PROXY_CONNECT_TIMEOUT_SECONDS"
    )
    proxy_timeout_seconds: float = Field(default=120.0, gt=0, validation_alias="PROXY_TIMEOUT_SECONDS")
    openapi_cache_seconds: float = Field(default=30.0, ge=0, validation_alias="OPENAPI_CACHE_SECONDS")
    openapi_fetch_timeout_seconds: float = Field(
        default=3.0, gt=0, validation_alias="OPENAPI_FETCH_TIMEOUT_SECONDS"
    )

    # The built web application served at `/` (`npm run build` in web/; `make run` builds it when needed).
    web_dist_dir: Path = Field(default=DEFAULT_WEB_DIST_DIR, validation_alias="WEB_DIST_DIR")
    # The session cookie (refresh token) is marked Secure when the request came over TLS; COOKIE_SECURE=1
    # marks it Secure always (behind a proxy that terminates TLS without saying so).
    cookie_secure: bool = Field(default=False, validation_alias="COOKIE_SECURE")

    def gateway_required(self) -> bool:
        """The gateway is the ingress: it never asks its own callers for a gateway proof."""
        return False

    def trusted_proxy_set(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    def max_body_bytes_for(self, path: str) -> int:
        """The body limit of a path (servicekit.bodylimit asks it before the gateway reads a body): the
        forwarded route's own (ROUTE_MAX_BODY_BYTES), else `proxy_max_body_bytes`."""
        for pattern, limit in ROUTE_MAX_BODY_BYTES.items():
            if re.match(pattern, path):
                return limit
        return self.proxy_max_body_bytes

    def upstreams(self) -> dict[str, str]:
        """Base URL of each routed service, by the name used in `/api/<service>/…`."""
        return {
            "registration": self.registration_url,
            "enrollment": self.enrollment_url,
            "payment": self.payment_url,
            "exam": self.exam_url,
            "certification": self.certification_url,
        }
