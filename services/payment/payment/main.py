"""The payment service: orders priced from offers, vouchers and confirmation, cancellation, refunds,
invoices, reports."""

from __future__ import annotations

from events import OrderCreated
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime

from .api import online
from .api.routes import router
from .application import write_indexes
from .projections import offers, read_models
from .settings import PaymentSettings


def build_runtime(settings: PaymentSettings | None = None) -> ServiceRuntime:
    settings = settings or PaymentSettings()
    return ServiceRuntime(
        settings,
        projections=[
            read_models.qualified_applicants(settings.database_name),
            read_models.orders(settings.database_name),
            offers.offers(settings.database_name),
            offers.enterprises(settings.database_name),
            offers.trainings(settings.database_name),
        ],
        own_topics=[OrderCreated.topic()],
        write_indexes=[
            write_indexes.applicant_claims(settings.database_name),
            write_indexes.order_counters(settings.database_name),
            write_indexes.online_payments(settings.database_name),
        ],
    )


def build_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()  # refuses PAYMENT_SANDBOX with PLATFORM_ENV=production
    runtime = build_runtime(settings)
    routers = [router, online.router]
    if settings.payment_sandbox:  # a development adapter, off unless configured (docs/payments.md)
        routers.append(online.sandbox_router)
    app = create_app(runtime, routers, title="订单缴费服务 payment")
    if settings.payment_sandbox:
        online.attach_provider(app, runtime)  # checks PAYMENT_SANDBOX_SECRET at start
    return app
