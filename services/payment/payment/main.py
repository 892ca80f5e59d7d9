"""The payment service: orders, confirmation of payment, cancellation."""

from __future__ import annotations

from events import OrderCreated
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime

from .api.routes import router
from .projections import read_models
from .settings import PaymentSettings


def build_runtime(settings: PaymentSettings | None = None) -> ServiceRuntime:
    settings = settings or PaymentSettings()
    return ServiceRuntime(
        settings,
        projections=[
            read_models.qualified_applicants(settings.database_name),
            read_models.orders(settings.database_name),
        ],
        own_topics=[OrderCreated.topic()],
    )


def build_app(settings: PaymentSettings | None = None) -> FastAPI:
    return create_app(build_runtime(settings), [router], title="订单缴费服务 payment")
