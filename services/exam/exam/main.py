"""The exam service: candidates and results (sessions, face check-in and the timed exam come later)."""

from __future__ import annotations

from events import ExamPassed
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime

from .api.routes import router
from .projections import read_models
from .settings import ExamSettings


def build_runtime(settings: ExamSettings | None = None) -> ServiceRuntime:
    settings = settings or ExamSettings()
    return ServiceRuntime(
        settings,
        projections=[read_models.candidates(settings.database_name)],
        own_topics=[ExamPassed.topic()],
    )


def build_app(settings: ExamSettings | None = None) -> FastAPI:
    return create_app(build_runtime(settings), [router], title="考试服务 exam")
