"""How this context plugs into the gateway app (`gateway.main` calls these; nothing else does).

- `policies`: the feed log's writer (`gateway.policy.feeds`), a consumer of the five public topics that is
  never replayed by a rebuild (the log keeps its numbering).
- `start`: indexes, the feed reader, the webhook dispatcher (its tasks run only on the replica holding the
  gateway's leader lease).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from servicekit.consumer import run_in_background
from servicekit.mongo import Session
from servicekit.projections import Projection
from servicekit.runtime import Policy

from .adapters.log_mongo import MongoFeedLog
from .adapters.sender import HttpSender
from .adapters.webhooks_mongo import MongoWebhooks
from .api.context import FeedsContext
from .api.routes import router
from .application.appender import feed_policy
from .application.dispatcher import Dispatcher
from .application.feed import FeedService, HeadWatcher
from .application.subscriptions import SubscriptionService
from .settings import FeedSettings

if TYPE_CHECKING:
    from ..container import Gateway
    from ..settings import GatewaySettings


def projections(settings: GatewaySettings) -> list[Projection]:
    """Read models this context keeps (consumers of the public topics, rebuildable): none — the feed log
    must never be renumbered, so its writer is a policy."""
    return []


def policies(settings: GatewaySettings) -> list[Policy]:
    """Consumers with effects (never replayed by a rebuild)."""
    database = settings.database_name

    def log_for(session: Session) -> MongoFeedLog:
        return MongoFeedLog(session.client[database])

    return [feed_policy(log_for)]


def routers() -> list[APIRouter]:
    """The context's HTTP routes (they come before the gateway's catch-all proxy)."""
    return [router]


async def start(gateway: Gateway, app: FastAPI) -> None:
    """After the runtime started (its database and Kafka are up): background tasks, indexes."""
    settings = FeedSettings()
    runtime = gateway.runtime
    log = MongoFeedLog(runtime.db)
    webhooks = MongoWebhooks(runtime.db)
    await log.ensure_indexes()
    await webhooks.ensure_indexes()
    watcher = HeadWatcher(log, settings.poll_seconds)
    sender = HttpSender(settings.timeout_seconds)

    def leading() -> bool:
        return runtime.lease is not None and runtime.lease.held

    dispatcher = Dispatcher(
        settings=settings, reader=log, webhooks=webhooks, sender=sender, watcher=watcher, leading=leading
    )
    feeds = FeedsContext(
        settings=settings,
        log=log,
        webhooks=webhooks,
        watcher=watcher,
        feed=FeedService(log, watcher),
        subscriptions=SubscriptionService(settings, webhooks, log, dispatcher.wake),
        dispatcher=dispatcher,
        sender=sender,
    )
    feeds.task = run_in_background(dispatcher.run(feeds.stop), "webhooks-dispatcher")
    app.state.feeds = feeds


async def stop(app: FastAPI) -> None:
    """Before the runtime stops."""
    feeds: FeedsContext | None = getattr(app.state, "feeds", None)
    if feeds is None:
        return
    feeds.stop.set()
    if feeds.task is not None:
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
            await asyncio.wait_for(feeds.task, timeout=10)
    await feeds.dispatcher.stop_tasks()
    await feeds.watcher.stop()
    await feeds.sender.close()
    app.state.feeds = None
