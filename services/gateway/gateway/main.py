"""The gateway app: `uvicorn gateway.main:build_app --factory`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime

from .adapters.passwords import Argon2PasswordHasher
from .api import accounts, auth, docs, persons, proxy, webui
from .container import Gateway
from .feeds import wiring as feeds
from .notifications import wiring as notifications
from .projections.persons import persons as persons_projection
from .settings import GatewaySettings

DESCRIPTION = (
    "统一入口：账号、登录与令牌（/api/gateway/…），并把 /api/<服务>/… 转发到各服务"
    "（registration、enrollment、payment、exam、certification）。本文档合并了各服务的接口。"
)


def build_runtime(settings: GatewaySettings | None = None) -> ServiceRuntime:
    """The gateway's runtime: its read model `persons` is built from enrollment's `ApplicantsImported` and
    certification's `LegacyCertificateImported`, `CertificateIssued` and `CertificateRenewed` (it subscribes
    to `enrollment.events` and `certification.events`: the topics of the projection's handlers); it publishes
    the identity events (token revocations)."""
    settings = settings or GatewaySettings()
    return ServiceRuntime(
        settings,
        projections=[
            persons_projection(settings.database_name),
            *feeds.projections(settings),
            *notifications.projections(settings),
        ],
        policies=[*feeds.policies(settings), *notifications.policies(settings)],
        use_object_store=False,
        # The identity events (token revocations) are stored here and published by the relay.
        own_topics=["identity.events"],
    )


def build_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime = build_runtime(settings)
    gateway = Gateway(settings, runtime, Argon2PasswordHasher())
    holder: dict[str, FastAPI] = {}

    async def start_storage(_: ServiceRuntime) -> None:
        await gateway.start_storage(holder["app"].state.token_codec)

    app = create_app(
        runtime,
        # The catch-all proxy route comes last: the gateway's own routes win.
        [
            auth.router,
            accounts.router,
            persons.router,
            *feeds.routers(),
            *notifications.routers(),
            proxy.router,
        ],
        title="浙江省建筑施工现场专业人员证书平台 · 网关",
        description=DESCRIPTION,
        on_startup=[start_storage],
    )
    holder["app"] = app
    app.state.gateway = gateway
    docs.install_merged_docs(app)
    # Last: the web application answers the GETs no other route takes.
    webui.install_web_ui(app, settings.web_dist_dir, settings.s3_public_endpoint or settings.s3_endpoint)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            gateway.start_http(app.openapi)
            await feeds.start(gateway, app)
            await notifications.start(gateway, app)
            try:
                yield state
            finally:
                await notifications.stop(app)
                await feeds.stop(app)
                await gateway.stop_http()

    app.router.lifespan_context = lifespan
    return app
