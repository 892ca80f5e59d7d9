"""Request-body limits enforced before a body is read: a pure ASGI middleware.

Every route has a limit: `DEFAULT_MAX_BODY_BYTES` unless its endpoint declares its own with `@body_limit(...)`
(a number of bytes, or a function of the service's settings, e.g. `lambda s: s.max_zip_bytes + MiB`). A
request whose `Content-Length` is over the limit is answered 413 at once, nothing of its body read; a body
without a length (chunked) or longer than it claims is counted as it arrives and refused as soon as it passes
the limit, so neither memory nor the temporary directory (Starlette spools multipart files there before the
handler runs) ever holds more than the limit. The answer is problem+json, code `payload_too_large`, with a
Chinese message naming the limit in MB.

    @router.post("/batches/{batch_id}/materials")
    @body_limit(lambda s: s.max_zip_bytes + MiB)
    async def upload_materials(...): ...
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logging import correlation_id_var, get_logger

log = get_logger(__name__)

MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 12 * MiB
CODE = "payload_too_large"
ATTRIBUTE = "__servicekit_body_limit__"

Limit = int | Callable[[Any], int]
F = TypeVar("F", bound=Callable[..., Any])


def body_limit(limit: Limit) -> Callable[[F], F]:
    """Declare the largest request body (bytes, or a function of the settings) an endpoint accepts."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, ATTRIBUTE, limit)
        return endpoint

    return mark


def megabytes(limit: int) -> str:
    return f"{limit / MiB:g} MB" if limit % MiB == 0 else f"{limit / MiB:.1f} MB"


def too_large_message(limit: int) -> str:
    return f"请求内容过大，不能超过 {megabytes(limit)}"


def _resolve(limit: Limit | None, settings: Any, path: str = "") -> int:
    """A declared limit, else the settings' `max_body_bytes_for(path)` (a proxy: the gateway's limits per
    forwarded route), else their `max_request_body_bytes`, else `DEFAULT_MAX_BODY_BYTES`."""
    if limit is None:
        per_path = getattr(settings, "max_body_bytes_for", None)
        if callable(per_path):
            return int(per_path(path))
        return int(getattr(settings, "max_request_body_bytes", DEFAULT_MAX_BODY_BYTES))
    return int(limit(settings)) if callable(limit) else int(limit)


def _routes(app: Any) -> list[Any]:
    router = getattr(app, "router", None)
    return list(getattr(router, "routes", ()))


def route_limit(app: Any, scope: Scope) -> int:
    """The body limit of the route `scope` matches (the default when it matches none)."""
    settings = getattr(getattr(getattr(app, "state", None), "runtime", None), "settings", None)
    for route in _routes(app):
        try:
            match, _ = route.matches(scope)
        except Exception:  # a route that cannot judge this scope is not the one
            continue
        if match is Match.FULL:
            declared = getattr(getattr(route, "endpoint", None), ATTRIBUTE, None)
            return _resolve(declared, settings, str(scope.get("path", "")))
    return _resolve(None, settings, str(scope.get("path", "")))


def declared_limits(app: Any) -> Iterator[tuple[str, frozenset[str], int]]:
    """(path, methods, bytes) of every route that declares a limit of its own."""
    settings = getattr(getattr(getattr(app, "state", None), "runtime", None), "settings", None)
    for route in _routes(app):
        limit = getattr(getattr(route, "endpoint", None), ATTRIBUTE, None)
        if limit is not None:
            yield route.path, frozenset(getattr(route, "methods", None) or ()), _resolve(limit, settings)


class _TooLarge(Exception):
    pass


def _problem(limit: int) -> tuple[dict[str, Any], bytes]:
    message = too_large_message(limit)
    body: dict[str, Any] = {
        "type": f"urn:zj-cert:error:{CODE}",
        "title": message,
        "status": 413,
        "code": CODE,
        "detail": message,
        "limit_bytes": limit,
    }
    correlation_id = correlation_id_var.get()
    if correlation_id:
        body["correlation_id"] = correlation_id
    encoded = json.dumps(body, ensure_ascii=False).encode()
    start = {
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(encoded)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, encoded


class BodyLimitMiddleware:
    """Refuses (413) a request body over its route's limit, before reading it or as soon as it passes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The limit is known once the request is routed (the router sets scope["route"]), which is before
        # the endpoint asks for the first byte of its body: checked there, nothing of a refused body is read
        # (beyond what the server buffers, 64 KB for uvicorn).
        declared = _content_length(scope)
        limit: int | None = None
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal limit, received, exceeded
            if limit is None:
                limit = limit_after_routing(scope)
                if declared is not None and declared > limit:
                    exceeded = True
                    log.info("http.body_refused", path=scope.get("path"), declared=declared, limit=limit)
                    raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    log.info("http.body_refused", path=scope.get("path"), received=received, limit=limit)
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app answers to the interrupted body, the caller gets the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            assert limit is not None
            await _send_problem(send, limit)


def limit_after_routing(scope: Scope) -> int:
    """The limit of the route the router chose (`scope["route"]`), or found by matching the app's routes."""
    app = scope.get("app")
    route = scope.get("route")
    endpoint = getattr(route, "endpoint", None) or scope.get("endpoint")
    if endpoint is None:
        return route_limit(app, scope)
    settings = getattr(getattr(getattr(app, "state", None), "runtime", None), "settings", None)
    return _resolve(getattr(endpoint, ATTRIBUTE, None), settings, str(scope.get("path", "")))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_problem(send: Send, limit: int) -> None:
    start, body = _problem(limit)
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
