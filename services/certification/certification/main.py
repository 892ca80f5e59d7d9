"""The certification service: electronic certificates issued on a passed exam, continuing education, old-style
certificates and their renewal, revocation, lapse, and the public verification."""

from __future__ import annotations

import asyncio
import contextlib

from events import CertificateIssued
from fastapi import FastAPI
from servicekit.app import create_app
from servicekit.logging import get_logger
from servicekit.runtime import ServiceRuntime

from .adapters.signing import CertificateSigner
from .api import verify
from .api.admin_stats import router as admin_stats_router
from .api.routes import router
from .application import handlers, write_indexes
from .application.policies import credit_on_training_completed, issue_on_exam_passed, revoke_on_blacklist
from .projections import read_models
from .settings import CertificationSettings

log = get_logger(__name__)


def build_runtime(settings: CertificationSettings | None = None) -> ServiceRuntime:
    settings = settings or CertificationSettings()
    database = settings.database_name
    runtime = ServiceRuntime(
        settings,
        projections=[
            read_models.certificates(database),
            read_models.institutions(database),
            read_models.person_photos(database),
            read_models.ce_enrollments(database),
            read_models.uncredited_trainings(database),
            read_models.issue_refusals(database),
        ],
        own_topics=[CertificateIssued.topic()],
        write_indexes=[
            write_indexes.certificate_index(database),
            write_indexes.certificate_counters(database),
            write_indexes.training_credits(database),
        ],
    )
    runtime.policies.append(issue_on_exam_passed(runtime))
    runtime.policies.append(revoke_on_blacklist(runtime))
    runtime.policies.append(credit_on_training_completed(runtime))
    return runtime


async def run_lapse_checks(
    runtime: ServiceRuntime, settings: CertificationSettings, stop: asyncio.Event
) -> None:
    """The periodic lapse check (every CERTIFICATION_LAPSE_CHECK_SECONDS; ≤ 0 turns it off). Each replica may
    run it: appends are at the expected version, so a certificate lapses once."""
    interval = settings.lapse_check_seconds
    if interval <= 0:
        return
    wait = min(interval, 60.0)  # the first round soon after start, so that restarts never starve it
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
        wait = interval
        if stop.is_set():
            return
        try:
            await handlers.lapse_check(
                runtime.store, today=handlers.today_in_china(), rules=settings.hours_rules()
            )
        except Exception as exc:  # next round
            log.warning("lapse.periodic_failed", error=repr(exc)[:300])


def build_app(settings: CertificationSettings | None = None) -> FastAPI:
    settings = settings or CertificationSettings()
    seed = settings.signing_key.get_secret_value()
    if not seed:
        raise RuntimeError(
            "CERTIFICATION_SIGNING_KEY is required (base64 of a 32-byte Ed25519 seed); "
            "`make run` generates one into .data/secrets.json"
        )
    signer = CertificateSigner.from_seed_b64(seed)
    handlers.use_test_clock(settings.test_clock_offset_file)
    runtime = build_runtime(settings)

    async def start(rt: ServiceRuntime) -> None:
        await handlers.ensure_indexes(rt.store)
        # runs with the runtime's consumers and stops with them
        rt.run_background("lapse-check", lambda stop: run_lapse_checks(rt, settings, stop))

    app = create_app(
        runtime,
        [verify.router, router, admin_stats_router],
        title="证书服务 certification",
        on_startup=[start],
    )
    app.state.certificate_signer = signer
    return app
