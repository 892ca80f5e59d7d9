"""FastAPI app factory: health, readiness, metrics, correlation ids, problem+json errors."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from .admin import dead_letters_router
from .auth import TokenCodec
from .bodylimit import BodyLimitMiddleware
from .errors import DomainError
from .eventstore import appended_in_request
from .logging import configure_logging, correlation_id_var, get_logger
from .origin import install_origin_check
from .runtime import ServiceRuntime

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
CORRELATION_HEADER = "X-Correlation-ID"

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"]
)

_PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为是/否（true/false）",
    "bool_type": "应为是/否（true/false）",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "date_from_datetime_parsing": "日期格式不正确（应为 YYYY-MM-DD）",
    "date_parsing": "日期格式不正确（应为 YYYY-MM-DD）",
    "datetime_parsing": "时间格式不正确",
    "json_invalid": "JSON 格式不正确",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值不正确",
}


def get_runtime(request: Request) -> ServiceRuntime:
    """FastAPI dependency: the service's runtime (database, event store, object store)."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


def problem_response(status: int, code: str, message: str, errors: Any = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:zj-cert:error:{code}",
        "title": message,
        "status": status,
        "code": code,
        "detail": message,
    }
    if errors is not None:
        body["errors"] = errors
    correlation_id = correlation_id_var.get()
    if correlation_id:
        body["correlation_id"] = correlation_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        field = ".".join(loc[1:] if loc and loc[0] in {"body", "query", "path", "header"} else loc)
        kind = str(err.get("type", ""))
        message = _PYDANTIC_MESSAGES.get(kind, "取值不正确")
        ctx = err.get("ctx") or {}
        if kind == "value_error" and ctx.get("error"):
            message = str(ctx["error"])
        out.append(
            {
                "field": field or "(请求体)",
                "location": loc[0] if loc else "",
                "code": kind,
                "message": message,
            }
        )
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = "、".join(e["field"] for e in errors[:5])
        return problem_response(422, "invalid_request", f"请求数据不正确：{fields}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "请求的地址不存在", 405: "不支持该请求方法", 401: "请先登录", 403: "无权执行此操作"}
        message = messages.get(exc.status_code, str(exc.detail))
        return problem_response(exc.status_code, f"http_{exc.status_code}", message)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled_error", error=repr(exc))
        return problem_response(500, "internal_error", "服务器内部错误，请稍后重试；如持续出现请联系技术支持")


READ_MODELS_HEADER = "X-Read-Models"


def install_middleware(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def correlation_and_metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id = request.headers.get(CORRELATION_HEADER) or uuid.uuid4().hex
        token = correlation_id_var.set(correlation_id)
        appended: list[str] = []
        appended_token = appended_in_request.set(appended)
        started = time.perf_counter()
        status = 500
        try:
            with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
                response = await call_next(request)
            status = response.status_code
            response.headers[CORRELATION_HEADER] = correlation_id
            if appended and status < 400:
                # Read-your-writes: the caller's next read of this service shows what this command did.
                runtime: ServiceRuntime = request.app.state.runtime
                applied = await runtime.wait_applied(appended, runtime.settings.read_your_writes_seconds)
                response.headers[READ_MODELS_HEADER] = "current" if applied else "updating"
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(service, request.method, path, str(status)).inc()
            HTTP_LATENCY.labels(service, request.method, path).observe(time.perf_counter() - started)
            appended_in_request.reset(appended_token)
            correlation_id_var.reset(token)


DOCS_ASSETS = "/docs-assets"


def swagger_page(title: str, openapi_url: str = "/openapi.json") -> HTMLResponse:
    """Swagger UI from files this process serves (`/docs-assets`, from the fastapi-offline package): the page
    works without internet access."""
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
    )


def install_docs(app: FastAPI) -> None:
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    async def docs(_: Request) -> HTMLResponse:
        return swagger_page(f"{app.title} - 接口文档")

    app.add_route("/docs", docs, include_in_schema=False)


def create_app(
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter],
    *,
    title: str,
    description: str = "",
    on_startup: Sequence[Callable[[ServiceRuntime], Awaitable[None]]] = (),
) -> FastAPI:
    """The standard service app: runtime started in the lifespan, operational endpoints, error format."""
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        for hook in on_startup:
            await hook(runtime)
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.state.runtime = runtime
    app.state.token_codec = TokenCodec(settings.jwt_secret.get_secret_value(), settings.jwt_issuer)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)  # inside the correlation middleware: a 413 carries its id
    install_middleware(app, settings.service_name)
    install_origin_check(app, settings)  # outermost: only the gateway's signed requests (REQUIRE_GATEWAY)

    @app.get("/healthz", tags=["ops"], summary="存活检查")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", tags=["ops"], summary="就绪检查（MongoDB、Kafka、对象存储）")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
        )

    @app.get("/metrics", tags=["ops"], summary="Prometheus 指标")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # before the service's own routers (the gateway's catch-all proxy route comes last)
    app.include_router(dead_letters_router(settings.service_name))
    for router in routers:
        app.include_router(router)
    return app
