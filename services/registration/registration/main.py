"""The registration service: enterprise registration and municipal review."""

from __future__ import annotations

from events import EnterpriseRegistered
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings

from .api.routes import router
from .application.handlers import ensure_indexes
from .projections import enterprises


def build_runtime(settings: ServiceSettings | None = None) -> ServiceRuntime:
    settings = settings or ServiceSettings(service_name="registration")
    return ServiceRuntime(
        settings,
        projections=[enterprises.build(settings.database_name)],
        own_topics=[EnterpriseRegistered.topic()],
    )


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)

    async def indexes(rt: ServiceRuntime) -> None:
        await ensure_indexes(rt.store)

    return create_app(runtime, [router], title="企业注册服务 registration", on_startup=[indexes])
