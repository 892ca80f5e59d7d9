"""How this context plugs into the gateway app (`gateway.main` calls these; nothing else does)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from servicekit.projections import Projection
from servicekit.runtime import Policy

from .adapters.sms import LocalSmsFile, SmsSender
from .adapters.store import MessageStore
from .api import inbox
from .application.consumer import NotificationsConsumer
from .application.dispatch import SmsDispatcher
from .settings import NotifySettings

if TYPE_CHECKING:
    from ..container import Gateway
    from ..settings import GatewaySettings


def projections(settings: GatewaySettings) -> list[Projection]:
    """Read models this context keeps (consumers of the public topics, rebuildable)."""
    return []


def sms_sender(notify: NotifySettings) -> SmsSender:
    """The configured SMS adapter (refused at start when none exists for the provider)."""
    notify.check_provider()
    return LocalSmsFile(notify.sms_file)


def policies(settings: GatewaySettings) -> list[Policy]:
    """Consumers with effects (never replayed by a rebuild): the notifications consumer. The settings, the
    provider and the templates are checked here, when the app is built: a wrong one stops the start."""
    notify = NotifySettings()
    notify.check_provider()
    consumer = NotificationsConsumer(
        settings.database_name,
        notify.templates(),
        notify.exam_bring,
        max_age=timedelta(hours=notify.max_event_age_hours),
    )
    return [consumer.policy()]


def routers() -> list[APIRouter]:
    """The context's HTTP routes (they come before the gateway's catch-all proxy)."""
    return [inbox.router]


async def start(gateway: Gateway, app: FastAPI) -> None:
    """After the runtime started (its database and Kafka are up): background tasks, indexes."""
    runtime = gateway.runtime
    store = MessageStore(runtime.db)
    await store.ensure_indexes()
    app.state.notification_store = store
    notify = NotifySettings()

    def leading() -> bool:
        return runtime.lease is None or runtime.lease.held

    dispatcher = SmsDispatcher(
        store, sms_sender(notify), every_seconds=notify.dispatch_seconds, leading=leading
    )
    app.state.sms_dispatcher = dispatcher
    runtime.run_background("notifications-sms", dispatcher.run)


async def stop(app: FastAPI) -> None:
    """Before the runtime stops."""
