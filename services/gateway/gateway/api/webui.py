"""The built web application (web/dist) served at `/`: hashed assets cached for a year, `index.html` for every
client-side route (a GET outside `/api`, `/docs`, `/openapi.json` and the operational endpoints that accepts
text/html), security headers on every UI answer. Without a build, `/` says so in a short Chinese page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from servicekit.errors import NotFound

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
IMMUTABLE = "public, max-age=31536000, immutable"
# Paths the UI never answers: the API, the docs and the operational endpoints keep their own answers.
RESERVED_PREFIXES = ("api/", "docs", "openapi.json", "healthz", "readyz", "metrics")

NOT_BUILT_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>证书平台 · 网页端未构建</title></head>
<body><h1>网页端尚未构建</h1>
<p>请在仓库根目录运行 <code>make run</code>（会先构建网页端），或在 <code>web/</code> 目录运行
<code>npm ci &amp;&amp; npm run build</code>。接口文档见 <a href="/docs">/docs</a>。</p></body></html>
"""


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(object_store_url: str | None = None) -> str:
    """Scripts only from the gateway itself (no inline script); inline styles are allowed (Element Plus sets
    them); documents of the object store (short-lived links) may be shown as images or in a frame."""
    store = _origin(object_store_url)
    extra = f" {store}" if store else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{extra}",
            "font-src 'self' data:",
            "connect-src 'self'",
            f"frame-src 'self' blob:{extra}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }


def install_web_ui(app: FastAPI, dist_dir: Path, object_store_url: str | None = None) -> None:
    """Add the UI's catch-all GET route; call it after every other route is in place (it must come last)."""
    headers = security_headers(content_security_policy(object_store_url))
    router = APIRouter()

    def index() -> Response:
        page = dist_dir / "index.html"
        if not page.is_file():
            return HTMLResponse(NOT_BUILT_PAGE, headers={**headers, "Cache-Control": "no-cache"})
        return FileResponse(page, media_type="text/html", headers={**headers, "Cache-Control": "no-cache"})

    @router.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    def web_ui(path: str, request: Request) -> Response:  # sync: the file checks run in the threadpool
        if request.method not in ("GET", "HEAD") or path.startswith(RESERVED_PREFIXES) or path == "api":
            raise NotFound("请求的地址不存在", code="http_404")
        if path in ("", "index.html"):
            return index()
        root = dist_dir.resolve()
        candidate = (dist_dir / path).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={**headers, "Cache-Control": cache})
        if path.startswith("assets/") or "text/html" not in request.headers.get("accept", ""):
            raise NotFound("请求的地址不存在", code="http_404")
        return index()  # a client-side route: the application's router shows it

    app.include_router(router)
