"""Only requests that came through the gateway: its signature on each request it forwards.

The gateway is the only ingress (docs/security-auth.md): it verifies the caller's token, checks it was not
revoked, and forwards. With `REQUIRE_GATEWAY` on (default in production) a service answers a request only
when it carries the gateway's proof `X-Gateway-Proof: v1:<unix seconds>:<hex HMAC-SHA256>` over the method,
the raw path (without the query) and the time, made with `GATEWAY_SIGNING_SECRET`, and not older (or further
in the future) than `GATEWAY_PROOF_MAX_AGE_SECONDS` (30 s). Anything else gets 403 `not_via_gateway`;
/healthz, /readyz and /metrics stay open (orchestrators and Prometheus call them directly).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .settings import ServiceSettings

PROOF_HEADER = "X-Gateway-Proof"
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
MIN_SECRET_LENGTH = 32

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _mac(secret: str, method: str, path: bytes, timestamp: int) -> str:
    message = method.upper().encode() + b"\n" + path + b"\n" + str(timestamp).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, method: str, path: bytes, now: float | None = None) -> str:
    """The proof header's value for a request (path: the raw path as sent, without the query string)."""
    timestamp = int(time.time() if now is None else now)
    return f"v1:{timestamp}:{_mac(secret, method, path, timestamp)}"


def verify(
    secret: str, method: str, path: bytes, value: str, *, max_age: float, now: float | None = None
) -> bool:
    """Whether `value` is a current proof of this method and path."""
    version, _, rest = value.partition(":")
    stamp, _, mac = rest.partition(":")
    if version != "v1" or not stamp.isdigit() or not mac:
        return False
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > max_age:
        return False
    return hmac.compare_digest(mac, _mac(secret, method, path, timestamp))


def _raw_path(scope: Scope) -> bytes:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.split(b"?", 1)[0]
    return str(scope.get("path", "")).encode()


REFUSAL = {
    "type": "urn:zj-cert:error:not_via_gateway",
    "title": "请通过统一网关访问本服务",
    "status": 403,
    "code": "not_via_gateway",
    "detail": "请通过统一网关访问本服务（服务只接受经网关签名转发的请求）",
}


class GatewayOriginMiddleware:
    """Pure ASGI: refuses HTTP requests without a valid gateway proof (403 `not_via_gateway`)."""

    def __init__(self, app: ASGIApp, *, secret: str, max_age: float) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                "REQUIRE_GATEWAY is on: GATEWAY_SIGNING_SECRET must be set to at least 32 random characters"
            )
        self.app = app
        self.secret = secret
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        proof = ""
        for name, value in scope.get("headers") or ():
            if name == b"x-gateway-proof":
                proof = value.decode("latin-1")
                break
        if proof and verify(self.secret, scope["method"], _raw_path(scope), proof, max_age=self.max_age):
            await self.app(scope, receive, send)
            return
        body = json.dumps(REFUSAL, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install_origin_check(app: Any, settings: ServiceSettings) -> None:
    """Refuse requests that did not come through the gateway, when `settings.gateway_required()`."""
    if settings.gateway_required():
        secret = settings.gateway_signing_secret.get_secret_value()
        if len(secret) < MIN_SECRET_LENGTH:  # at start, not at the first request
            raise ValueError(
                "REQUIRE_GATEWAY is on: GATEWAY_SIGNING_SECRET must be set to at least 32 random characters"
            )
        app.add_middleware(
            GatewayOriginMiddleware,
            secret=secret,
            max_age=settings.gateway_proof_max_age_seconds,
        )
