"""The exam service: question banks, sessions and seats, face check-in, the timed exam with automatic
submission, results, violations and the blacklist."""

from __future__ import annotations

import asyncio

from events import ExamPassed
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime

from .api.admin_stats import router as admin_stats_router
from .api.banks import router as banks_router
from .api.candidates import router as candidates_router
from .api.discipline import router as discipline_router
from .api.live import router as live_router
from .api.sessions import router as sessions_router
from .application import attempts, live, write_indexes
from .application.checkin import face_answers
from .application.context import Clock, ExamRules, offset_clock, system_clock
from .application.sessions import ensure_indexes
from .projections import attempts as attempt_projection
from .projections import banks as bank_projection
from .projections import candidates as candidate_projection
from .projections import discipline as discipline_projection
from .projections import live as live_projection
from .projections import sanctions as sanction_projection
from .projections import sessions as session_projection
from .settings import ExamSettings


def build_runtime(
    settings: ExamSettings | None = None, rules: ExamRules | None = None, clock: Clock = system_clock
) -> ServiceRuntime:
    settings = settings or ExamSettings()
    database = settings.database_name
    runtime = ServiceRuntime(
        settings,
        projections=[
            candidate_projection.candidates(database),
            session_projection.sessions(database),
            attempt_projection.attempts(database),
            discipline_projection.discipline(database),
            bank_projection.question_banks(database),
            live_projection.live_checks(database),
            sanction_projection.institution_sanctions(database),
        ],
        own_topics=[ExamPassed.topic()],
        write_indexes=[write_indexes.schedule_claims(database)],
    )
    runtime.policies.append(face_answers(runtime, rules or ExamRules.from_settings(settings), clock))
    return runtime


def build_app(settings: ExamSettings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    """The app; `clock` is the server's clock of the exam (tests pass one they can move forward)."""
    settings = settings or ExamSettings()
    rules = ExamRules.from_settings(settings)  # refuses inconsistent marks at start-up
    if clock is system_clock and settings.exam_test_clock_offset_file:
        clock = offset_clock(settings.exam_test_clock_offset_file)
    runtime = build_runtime(settings, rules, clock)

    async def start(rt: ServiceRuntime) -> None:
        await ensure_indexes(rt.store)
        await live.ensure_indexes(rt.db)
        await rt.db[attempt_projection.ATTEMPTS].create_index([("status", 1), ("deadline", 1)])
        if settings.exam_sweep_seconds > 0:

            async def sweeper(stop: asyncio.Event) -> None:
                await attempts.sweeper(
                    rt.store, rules=rules, clock=clock, every=settings.exam_sweep_seconds, stop=stop
                )

            rt.run_background("exam-sweeper", sweeper)

            async def frame_sweeper(stop: asyncio.Event) -> None:
                assert rt.objects is not None
                await live.frame_sweeper(
                    rt.db, rt.objects, rules=rules, clock=clock, every=settings.exam_sweep_seconds, stop=stop
                )

            rt.run_background("exam-live-frame-sweeper", frame_sweeper)

    app = create_app(
        runtime,
        [
            sessions_router,
            candidates_router,
            live_router,
            discipline_router,
            banks_router,
            admin_stats_router,
        ],
        title="考试服务 exam",
        on_startup=[start],
    )
    app.state.clock = clock
    app.state.rules = rules
    return app
