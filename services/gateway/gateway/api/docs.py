"""The merged OpenAPI document and its Swagger UI, in place of FastAPI's own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from servicekit.app import swagger_page
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
        return swagger_page(f"{app.title} - 接口文档", OPENAPI_PATH)

    app.add_route(OPENAPI_PATH, openapi, include_in_schema=False)
    app.add_route(DOCS_PATH, docs, include_in_schema=False)
