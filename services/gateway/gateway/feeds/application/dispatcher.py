"""Webhook delivery: one task per subscription, on the replica that holds the gateway's leader lease.

Each task follows its subscription's cursor over the feed log (entries of the subscription's scope, masked for
its owner's role): it POSTs one entry at a time, signed, and waits for the answer (timeout). A 2xx answer is
a delivery; anything else is retried after `first_delay`, 2×, 4×… (capped at `max_delay`) up to
`max_attempts`, then the delivery is marked failed and the cursor moves on (a failed delivery can be
replayed). Tasks share nothing but the HTTP client, so a receiver that hangs or fails holds back only its own
subscription. Losing the lease stops the tasks; the next holder resumes from the stored cursors (the entry
that was in flight may be delivered twice: receivers de-duplicate on the event id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from servicekit.auth import Role
from servicekit.logging import get_logger
from servicekit.signing import signed_headers

from ..domain.messages import (
    ATTEMPT_HEADER,
    CURSOR_HEADER,
    DELIVERY_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_PREFIX,
    TIMESTAMP_HEADER,
    body_of,
    feed_message,
)
from ..domain.webhooks import DeliveryStatus, is_success, retry_delay
from ..settings import FeedSettings
from .feed import HeadWatcher
from .ports import FeedReader, Sender, Webhooks

log = get_logger(__name__)

PAGE = 100
PRUNE_EVERY = 25
DELIVERED, FAILED, INTERRUPTED, GONE = "delivered", "failed", "interrupted", "gone"


class Dispatcher:
    def __init__(
        self,
        *,
        settings: FeedSettings,
        reader: FeedReader,
        webhooks: Webhooks,
        sender: Sender,
        watcher: HeadWatcher,
        leading: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.webhooks = webhooks
        self.sender = sender
        self.watcher = watcher
        self.leading = leading
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._scan = asyncio.Event()
        self._settled = 0

    def wake(self, subscription_id: str | None = None) -> None:
        """Look again now (a new or removed subscription, a replay asked for) — on this replica."""
        self._scan.set()
        if subscription_id is not None and subscription_id in self._wake:
            self._wake[subscription_id].set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._reconcile(stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhooks.scan_failed", error=repr(exc)[:300])
            self._scan.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._scan.wait(), timeout=self.settings.scan_seconds)
        await self.stop_tasks()

    async def _reconcile(self, stop: asyncio.Event) -> None:
        wanted = {doc["_id"] for doc in await self.webhooks.list_all()} if self.leading() else set()
        for subscription_id in list(self.tasks):
            task = self.tasks[subscription_id]
            if subscription_id not in wanted or task.done():
                if not task.done():
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                del self.tasks[subscription_id]
                self._wake.pop(subscription_id, None)
        for subscription_id in wanted - set(self.tasks):
            self._wake[subscription_id] = asyncio.Event()
            self.tasks[subscription_id] = asyncio.get_running_loop().create_task(
                self._follow(subscription_id, stop), name=f"webhook-{subscription_id}"
            )

    async def stop_tasks(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()

    # ------------------------------------------------------------------ one subscription

    async def _follow(self, subscription_id: str, stop: asyncio.Event) -> None:
        pause = 1.0
        while not stop.is_set():
            try:
                if not await self._step(subscription_id, stop):
                    return
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhooks.follow_failed", subscription=subscription_id, error=repr(exc)[:300])
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    async def _step(self, subscription_id: str, stop: asyncio.Event) -> bool:
        """Replays first, then the next page of new entries, else a wait; False once the subscription is
        gone."""
        subscription = await self.webhooks.get(subscription_id)
        if subscription is None:
            return False
        for queued in await self.webhooks.queued(subscription_id):
            entry = await self.reader.entry(int(queued["seq"]))
            if entry is not None:
                await self.deliver(subscription, entry, replay=True, stop=stop)
        head = await self.reader.head()
        entries = await self.reader.read(subscription["scope"], int(subscription["cursor"]), PAGE)
        for entry in entries:
            if stop.is_set():
                return True
            outcome = await self.deliver(subscription, entry, replay=False, stop=stop)
            if outcome == GONE:
                return False
            if outcome == INTERRUPTED:  # stopped between attempts: the entry is not settled
                return True
        if not entries:
            wake = self._wake.get(subscription_id)
            waits = [asyncio.ensure_future(self.watcher.wait_beyond(head, self.settings.scan_seconds * 5))]
            if wake is not None:
                waits.append(asyncio.ensure_future(wake.wait()))
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if wake is not None:
                wake.clear()
        return True

    async def deliver(
        self, subscription: Mapping[str, Any], entry: Mapping[str, Any], *, replay: bool, stop: asyncio.Event
    ) -> str:
        """POST one entry until it is delivered or the attempts run out; records every attempt. Settling a new
        entry moves the subscription's cursor past it in the same write. DELIVERED, FAILED, INTERRUPTED (stop
        asked for between attempts) or GONE (the subscription was removed meanwhile)."""
        subscription_id = str(subscription["_id"])
        seq = int(entry["_id"])
        body = body_of(feed_message(entry, Role(subscription["role"])))
        settings = self.settings
        record: dict[str, Any] = {
            "_id": f"{subscription_id}:{seq}",
            "subscription_id": subscription_id,
            "seq": seq,
            "event_id": entry["event_id"],
            "event_type": entry["type"],
            "created_at": datetime.now(UTC),
        }
        max_attempts = int(subscription.get("max_attempts") or settings.max_attempts)
        previous = await self.webhooks.delivery(subscription_id, seq) if replay else None
        done_before = int(previous.get("attempts", 0)) if previous else 0
        for attempt in range(1, max_attempts + 1):
            headers = {
                "Content-Type": "application/json",
                EVENT_ID_HEADER: str(entry["event_id"]),
                EVENT_TYPE_HEADER: str(entry["type"]),
                CURSOR_HEADER: str(seq),
                DELIVERY_HEADER: f"{subscription_id}:{seq}",
                ATTEMPT_HEADER: str(done_before + attempt),
            }
            signed = signed_headers(
                subscription["secret"],
                body,
                timestamp_header=TIMESTAMP_HEADER,
                signature_header=SIGNATURE_HEADER,
            )
            signed[SIGNATURE_HEADER] = SIGNATURE_PREFIX + signed[SIGNATURE_HEADER]
            result = await self.sender.post(subscription["url"], body, {**headers, **signed})
            now = datetime.now(UTC)
            success = result.status_code is not None and is_success(result.status_code)
            last = attempt == max_attempts
            if success:
                status = DeliveryStatus.DELIVERED
            else:
                status = DeliveryStatus.FAILED if last else DeliveryStatus.PENDING
            delay = (
                0.0
                if success or last
                else retry_delay(
                    attempt, first=settings.first_delay_seconds, maximum=settings.max_delay_seconds
                )
            )
            record.update(
                status=status.value,
                attempts=done_before + attempt,
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
                at=now,
                next_at=now + timedelta(seconds=delay) if status is DeliveryStatus.PENDING else None,
            )
            await self.webhooks.record(record)
            if success or last:
                found = await self.webhooks.settled(
                    subscription_id, seq=seq, success=success, at=now, error=result.error, replay=replay
                )
                self._settled += 1
                if self._settled % PRUNE_EVERY == 0:
                    await self.webhooks.prune(subscription_id, settings.keep_deliveries)
                if not success:
                    log.info(
                        "webhooks.delivery_failed", subscription=subscription_id, seq=seq, error=result.error
                    )
                if not found:
                    return GONE
                return DELIVERED if success else FAILED
            if not replay:
                await self.webhooks.trying(
                    subscription_id,
                    {
                        "seq": seq,
                        "event_id": entry["event_id"],
                        "attempts": attempt,
                        "next_at": record["next_at"],
                    },
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            if stop.is_set():
                return INTERRUPTED
        return INTERRUPTED
