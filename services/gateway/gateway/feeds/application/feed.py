"""Reading the feed: a page after a cursor (long-polled), and the wait for the log's head to move."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from servicekit.logging import get_logger

from ..domain.audience import Audience
from ..domain.messages import feed_message
from .ports import FeedReader

log = get_logger(__name__)


class HeadWatcher:
    """One poll of the log's head per process however many readers wait (the log is appended by whichever
    replica consumes the records: a poll sees all of them). Polls only while someone waits."""

    def __init__(self, reader: FeedReader, poll_seconds: float) -> None:
        self.reader = reader
        self.poll_seconds = poll_seconds
        self.head = 0
        self._tick = asyncio.Event()
        self._poke = asyncio.Event()
        self._waiters = 0
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        try:
            while self._waiters > 0:
                try:
                    self.head = max(self.head, await self.reader.head())
                except Exception as exc:  # the database is away: the waiters time out, nothing else
                    log.warning("feeds.head_failed", error=repr(exc)[:300])
                tick, self._tick = self._tick, asyncio.Event()
                tick.set()
                self._poke.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), timeout=self.poll_seconds)
        finally:
            self._task = None

    def poke(self) -> None:
        """Something was appended here: look at the head now rather than at the next poll."""
        self._poke.set()

    async def wait_beyond(self, seen: int, timeout: float) -> int:
        """The head once it is beyond `seen`, or the last head known when `timeout` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiters += 1
        try:
            if self._task is None:
                self._task = loop.create_task(self._loop(), name="feeds-head")
            while self.head <= seen:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                tick = self._tick
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(tick.wait(), remaining)
            return self.head
        finally:
            self._waiters -= 1

    async def stop(self) -> None:
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    cursor: int


class FeedService:
    def __init__(self, reader: FeedReader, watcher: HeadWatcher) -> None:
        self.reader = reader
        self.watcher = watcher

    async def page(self, audience: Audience, after: int, limit: int, wait: float = 0.0) -> Page:
        """The caller's entries after `after` (at most `limit`); with `wait`, until one exists or `wait`
        seconds pass. With none, the cursor may move past entries of other scopes (never past one of the
        caller's), so a later call reads less."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            head = await self.reader.head()  # before the read: every entry up to it is committed
            entries = await self.reader.read(audience.scope, after, limit)
            if entries:
                return Page([feed_message(e, audience.role) for e in entries], int(entries[-1]["_id"]))
            after = max(after, head)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return Page([], after)
            await self.watcher.wait_beyond(head, remaining)
