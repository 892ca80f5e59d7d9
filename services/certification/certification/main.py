"""The certification service: electronic certificates issued on a passed exam, and their verification."""

from __future__ import annotations

from events import CertificateIssued
from fastapi import FastAPI
from pydantic import Field
from servicekit.app import create_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings

from .api.routes import router
from .application.policies import issue_on_exam_passed
from .projections import read_models


class CertificationSettings(ServiceSettings):
    service_name: str = Field(default="certification", validation_alias="SERVICE_NAME")


def build_runtime(settings: ServiceSettings | None = None) -> ServiceRuntime:
    settings = settings or CertificationSettings()
    runtime = ServiceRuntime(
        settings,
        projections=[read_models.certificates(settings.database_name)],
        own_topics=[CertificateIssued.topic()],
    )
    runtime.policies.append(issue_on_exam_passed(runtime))
    return runtime


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(build_runtime(settings), [router], title="证书服务 certification")
