"""The merged OpenAPI document and its Swagger UI, in place of FastAPI's own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.routing import BaseRoute

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"


def install_merged_docs(app: FastAPI) -> None:
    def replaced(route: BaseRoute) -> bool:
        return getattr(route, "path", None) in {OPENAPI_PATH, DOCS_PATH}

    app.router.routes[:] = [r for r in app.router.routes if not replaced(r)]

    async def openapi(request: Request) -> JSONResponse:
        document: dict[str, Any] = await request.app.state.gateway.openapi.document()
        return JSONResponse(document)

    async def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title=f"{app.title} - 接口文档")

    app.add_route(OPENAPI_PATH, openapi, include_in_schema=False)
    app.add_route(DOCS_PATH, docs, include_in_schema=False)
