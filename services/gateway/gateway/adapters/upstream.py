"""HTTP to the services: the reverse proxy and the OpenAPI fetcher, over one shared httpx client."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from servicekit import origin
from servicekit.app import CORRELATION_HEADER
from servicekit.errors import DomainError, NotFound
from servicekit.logging import correlation_id_var, get_logger
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..domain.http_headers import (
    PROOF_HEADER,
    filter_request_headers,
    filter_response_headers,
    replace_header,
)
from ..settings import ROUTE_MAX_BODY_BYTES, GatewaySettings

log = get_logger(__name__)

SERVICE_LABELS: dict[str, str] = {
    "registration": "企业注册服务",
    "enrollment": "报名服务",
    "payment": "缴费服务",
    "exam": "考试服务",
    "certification": "证书服务",
}

METHODS_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


def service_label(service: str) -> str:
    return f"{SERVICE_LABELS.get(service, '服务')}（{service}）"


class UnknownService(NotFound):
    code = "unknown_service"

    def __init__(self, service: str) -> None:
        known = "、".join(SERVICE_LABELS)
        super().__init__(f"不存在名为“{service}”的服务，可用的服务：{known}")


class UpstreamUnavailable(DomainError):
    status = 502
    code = "upstream_unavailable"

    def __init__(self, service: str) -> None:
        super().__init__(f"{service_label(service)}暂时无法访问，请稍后重试")


class UpstreamTimeout(DomainError):
    status = 504
    code = "upstream_timeout"

    def __init__(self, service: str) -> None:
        super().__init__(f"{service_label(service)}响应超时，请稍后重试")


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"请求内容过大，不能超过 {limit // (1024 * 1024)} MB")


class _BodyTooLarge(Exception):
    pass


def create_http_client(settings: GatewaySettings) -> httpx.AsyncClient:
    """One pooled client for the process: no redirects followed, no proxy from the environment."""
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.proxy_timeout_seconds, connect=settings.proxy_connect_timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        # An idle pooled connection is dropped after 2 s, well before a service's keep-alive timeout
        # (uvicorn: 5 s by default, 30 s as the launcher starts them): reusing a connection the server is
        # closing at that very moment fails with a ReadError, which would reach the user as 502.
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=2.0),
    )
    # Forward what the client sent, not httpx's defaults (e.g. no Accept-Encoding the client did not ask for).
    for name in ("accept", "accept-encoding", "user-agent"):
        del client.headers[name]
    return client


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise _BodyTooLarge
        yield chunk


def _latin1(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


class ReverseProxy:
    def __init__(
        self,
        client: httpx.AsyncClient,
        upstreams: Mapping[str, str],
        max_body_bytes: int,
        route_max_body_bytes: Mapping[str, int] | None = None,
        *,
        signing_secret: str = "",
    ) -> None:
        self.client = client
        self.upstreams = dict(upstreams)
        self.max_body_bytes = max_body_bytes
        # GATEWAY_SIGNING_SECRET: each forwarded request carries the gateway's proof of origin
        # (servicekit.origin); without a secret nothing is signed (services then must not require it).
        self.signing_secret = signing_secret
        routes = ROUTE_MAX_BODY_BYTES if route_max_body_bytes is None else route_max_body_bytes
        self.route_limits = [(re.compile(pattern), limit) for pattern, limit in routes.items()]

    def body_limit(self, path: str) -> int:
        """The largest body forwarded on `path`: the route's own limit, or `max_body_bytes`."""
        routes = (limit for pattern, limit in self.route_limits if pattern.match(path))
        return next(routes, self.max_body_bytes)

    def _proof(self, method: str, url: httpx.URL) -> list[tuple[str, str]]:
        if not self.signing_secret:
            return []
        path = url.raw_path.split(b"?", 1)[0]
        return [(PROOF_HEADER, origin.sign(self.signing_secret, method, path))]

    def base_url(self, service: str) -> str:
        base = self.upstreams.get(service)
        if base is None:
            raise UnknownService(service)
        return base

    def _upstream_url(self, service: str, request: Request) -> httpx.URL:
        base = httpx.URL(self.base_url(service))
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        raw_path = raw_path.split(b"?", 1)[0]
        prefix = base.raw_path.split(b"?", 1)[0].rstrip(b"/")
        query: bytes = request.scope.get("query_string") or b""
        return base.copy_with(raw_path=prefix + raw_path + (b"?" + query if query else b""))

    def _headers(self, request: Request, identity_headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        headers = filter_request_headers(_latin1(request.headers.raw))
        correlation_id = (
            correlation_id_var.get() or request.headers.get(CORRELATION_HEADER) or uuid.uuid4().hex
        )
        headers = replace_header(headers, CORRELATION_HEADER, correlation_id)
        client_host = request.client.host if request.client else None
        if client_host:
            earlier = request.headers.get("x-forwarded-for")
            headers = replace_header(
                headers, "X-Forwarded-For", f"{earlier}, {client_host}" if earlier else client_host
            )
        if "x-forwarded-proto" not in request.headers:
            headers.append(("X-Forwarded-Proto", request.url.scheme))
        if "x-forwarded-host" not in request.headers and "host" in request.headers:
            headers.append(("X-Forwarded-Host", request.headers["host"]))
        return headers + identity_headers

    def _body(self, request: Request, limit: int) -> Any:
        """The content to send upstream (None: no body). Declared sizes over the limit are refused at once."""
        length = request.headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError as exc:
                raise DomainError("Content-Length 请求头不正确", code="invalid_request", status=400) from exc
            if declared > limit:
                raise PayloadTooLarge(limit)
            if declared == 0:
                return b""
            return _limited(request.stream(), limit)
        if "transfer-encoding" in request.headers or request.method not in METHODS_WITHOUT_BODY:
            return _limited(request.stream(), limit)
        return None

    async def forward(
        self, service: str, request: Request, identity_headers: list[tuple[str, str]]
    ) -> Response:
        url = self._upstream_url(service, request)
        headers = self._headers(request, identity_headers) + self._proof(request.method, url)
        limit = self.body_limit(request.url.path)
        content = self._body(request, limit)
        upstream_request = self.client.build_request(
            request.method, url, headers=_raw(headers), content=content
        )
        try:
            upstream = await self.client.send(upstream_request, stream=True)
        except _BodyTooLarge as exc:
            raise PayloadTooLarge(limit) from exc
        except httpx.ConnectTimeout as exc:
            log.warning("proxy.upstream_unavailable", service=service, error=repr(exc))
            raise UpstreamUnavailable(service) from exc
        except httpx.TimeoutException as exc:
            log.warning("proxy.upstream_timeout", service=service, error=repr(exc))
            raise UpstreamTimeout(service) from exc
        except httpx.TransportError as exc:
            if isinstance(exc.__cause__ or exc.__context__, _BodyTooLarge):
                raise PayloadTooLarge(limit) from exc
            log.warning("proxy.upstream_unavailable", service=service, error=repr(exc))
            raise UpstreamUnavailable(service) from exc
        response = StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
        )
        response.raw_headers = _raw(filter_response_headers(_latin1(upstream.headers.raw)))
        return response

    async def fetch_openapi(self, service: str, base_url: str, fetch_timeout: float) -> dict[str, Any]:
        base = httpx.URL(base_url)
        url = base.copy_with(raw_path=base.raw_path.split(b"?", 1)[0].rstrip(b"/") + b"/openapi.json")
        headers = [("Accept", "application/json"), *self._proof("GET", url)]
        response = await self.client.get(url, timeout=fetch_timeout, headers=headers)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError(f"{service}: /openapi.json is not an object")
        return document
