"""What the feeds' routes use, built by `wiring.start` and kept on `app.state.feeds`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import Request
from servicekit.errors import DomainError

from ..adapters.log_mongo import MongoFeedLog
from ..adapters.sender import HttpSender
from ..adapters.webhooks_mongo import MongoWebhooks
from ..application.dispatcher import Dispatcher
from ..application.feed import FeedService, HeadWatcher
from ..application.subscriptions import SubscriptionService
from ..settings import FeedSettings


class FeedsStarting(DomainError):
    status = 503
    code = "feeds_starting"


@dataclass
class FeedsContext:
    settings: FeedSettings
    log: MongoFeedLog
    webhooks: MongoWebhooks
    watcher: HeadWatcher
    feed: FeedService
    subscriptions: SubscriptionService
    dispatcher: Dispatcher
    sender: HttpSender
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


def get_feeds(request: Request) -> FeedsContext:
    feeds: FeedsContext | None = getattr(request.app.state, "feeds", None)
    if feeds is None:
        raise FeedsStarting("事件订阅服务正在启动，请稍后重试")
    return feeds
