"""The enrollment service: batches of applicants, institution review, enrollment on payment."""

from __future__ import annotations

from events import ApplicantsImported
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings

from .api.routes import router
from .application.handlers import ensure_indexes
from .application.policies import enroll_on_payment
from .projections import read_models


def build_runtime(settings: ServiceSettings | None = None) -> ServiceRuntime:
    settings = settings or ServiceSettings(service_name="enrollment")
    runtime = ServiceRuntime(
        settings,
        projections=[
            read_models.enterprise_status(settings.database_name),
            read_models.applicants(settings.database_name),
        ],
        own_topics=[ApplicantsImported.topic()],
    )
    runtime.policies.append(enroll_on_payment(runtime))
    return runtime


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)

    async def indexes(rt: ServiceRuntime) -> None:
        await ensure_indexes(rt.store)

    return create_app(runtime, [router], title="学员报名服务 enrollment", on_startup=[indexes])
