"""The enrollment service: institutions' offers, batches of applicants, materials, institution review,
enrollment on payment, training plans, the application for the exam (and again after a failed exam), and
the person's own profile."""

from __future__ import annotations

from events import ApplicantsImported
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime

from .api.admin_stats import router as admin_stats_router
from .api.institutions import router as institutions_router
from .api.profile import router as profile_router
from .api.routes import router
from .api.sanctions import router as sanctions_router
from .api.training import router as training_router
from .application import write_indexes
from .application.handlers import ensure_indexes
from .application.policies import follow_certification, follow_exam_results, follow_orders
from .application.training import ensure_training_indexes
from .projections import institutions as institution_projection
from .projections import read_models
from .projections import sanctions as sanction_projection
from .projections import training as training_projection
from .settings import EnrollmentSettings


def build_runtime(settings: EnrollmentSettings | None = None) -> ServiceRuntime:
    settings = settings or EnrollmentSettings()
    database = settings.database_name
    runtime = ServiceRuntime(
        settings,
        projections=[
            read_models.enterprise_status(database),
            read_models.applicants(database),
            read_models.certificate_holders(database),
            read_models.person_profiles(database),
            institution_projection.institutions(database),
            training_projection.training_plans(database),
            sanction_projection.institution_sanctions(database),
        ],
        own_topics=[ApplicantsImported.topic()],
        write_indexes=[write_indexes.applicant_index(database), write_indexes.plan_trainees(database)],
    )
    runtime.policies.append(follow_orders(runtime))
    runtime.policies.append(follow_exam_results(runtime))
    runtime.policies.append(follow_certification(runtime))
    return runtime


def build_app(settings: EnrollmentSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)

    async def indexes(rt: ServiceRuntime) -> None:
        await ensure_indexes(rt.store)
        await ensure_training_indexes(rt.store)

    return create_app(
        runtime,
        [router, institutions_router, sanctions_router, training_router, profile_router, admin_stats_router],
        title="学员报名服务 enrollment",
        on_startup=[indexes],
    )
