"""How this context plugs into the gateway app (`gateway.main` calls these; nothing else does).

- `start`: indexes; the feed log's writer (`gateway.policy.feeds`), a consumer of the five public topics on
  every replica that is never replayed by a rebuild (the log keeps its numbering); the feed reader; the
  webhook dispatcher (its tasks run only on the replica holding the gateway's leader lease).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from servicekit import kafka
from servicekit.consumer import ReceivedEvent, run_in_background
from servicekit.mongo import Session
from servicekit.projections import Projection
from servicekit.runtime import Policy

from .adapters.feed_runner import FeedRunner, collecting_handlers
from .adapters.log_mongo import MongoFeedLog
from .adapters.sender import HttpSender
from .adapters.webhooks_mongo import MongoWebhooks
from .api.context import FeedsContext
from .api.routes import router
from .application.appender import FEED_TOPICS, GROUP_NAME, append_batch, feed_models
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
    """Consumers with effects (never replayed by a rebuild): none here — the feed log's writer is a consumer
    of its own kind (batch writes, see adapters/feed_runner.py), started by `start` and likewise never
    rebuilt."""
    return []


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
    if runtime.producer is not None and runtime.lease is not None:  # the runtime runs its consumers
        await kafka.ensure_topics(runtime.settings, list(FEED_TOPICS))
        database = runtime.settings.database_name

        async def write_batch(batch: list[ReceivedEvent], session: Session) -> None:
            await append_batch(MongoFeedLog(session.client[database]), batch, session)

        runner = FeedRunner(
            write_batch=write_batch,
            settings=runtime.settings,
            client=runtime.client,
            database=runtime.db,
            group_id=f"{runtime.settings.service_name}.policy.{GROUP_NAME}",
            handlers=collecting_handlers(feed_models()),
            producer=runtime.producer,
            topics=list(FEED_TOPICS),
            on_handled=watcher.poke,
            batch_size=250,
        )
        runtime.runners.append(runner)  # readiness and lag metrics, like the runtime's own consumers
        runtime.run_background(runner.group_id, runner.run)


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
