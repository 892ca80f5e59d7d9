"""The registration service: enterprise registration and municipal review."""

from __future__ import annotations

from events import EnterpriseRegistered
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime

from .api.admin_stats import router as admin_stats_router
from .api.routes import router
from .application import write_indexes
from .application.handlers import ensure_indexes
from .projections import enterprises
from .settings import RegistrationSettings


def build_runtime(settings: RegistrationSettings | None = None) -> ServiceRuntime:
    settings = settings or RegistrationSettings()
    return ServiceRuntime(
        settings,
        projections=[enterprises.build(settings.database_name, settings.scope_keywords)],
        own_topics=[EnterpriseRegistered.topic()],
        write_indexes=[write_indexes.credit_code_claims(settings.database_name)],
    )


def build_app(settings: RegistrationSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)

    async def indexes(rt: ServiceRuntime) -> None:
        await ensure_indexes(rt.store)

    return create_app(
        runtime, [router, admin_stats_router], title="企业注册服务 registration", on_startup=[indexes]
    )
