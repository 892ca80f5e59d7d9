"""The SMS dispatcher: hands the `pending` SMS of the `notifications` collection to the SMS port.

Only the replica that holds the service's lease dispatches (one sender at a time). A batch is marked sent
after the port accepted it; a crash in between sends it again with the same message ids (see adapters.sms).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

from servicekit.logging import get_logger

from ...domain.persons import mask_mobile
from ..adapters.sms import SmsMessage, SmsSender
from ..adapters.store import MessageStore

log = get_logger(__name__)

BATCH = 200


class SmsDispatcher:
    def __init__(
        self,
        store: MessageStore,
        sender: SmsSender,
        *,
        every_seconds: float,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self.sender = sender
        self.every_seconds = every_seconds
        self.leading = leading
        self.sent = 0

    async def dispatch_once(self) -> int:
        """Sends what is pending (in batches); how many messages went."""
        total = 0
        while True:
            pending = await self.store.pending_sms(BATCH)
            if not pending:
                return total
            messages = [
                SmsMessage(
                    message_id=str(doc["_id"]),
                    mobile=str(doc.get("mobile", "")),
                    text=str(doc.get("text", "")),
                    kind=str(doc.get("kind", "")),
                    recipient=str(doc.get("recipient", "")),
                    at=doc.get("created_at") or datetime.now(UTC),
                )
                for doc in pending
            ]
            await self.sender.send(messages)
            await self.store.mark_sent([m.message_id for m in messages], datetime.now(UTC))
            log.info(
                "notification.sms_sent",
                provider=self.sender.name,
                count=len(messages),
                first=f"{messages[0].kind} {mask_mobile(messages[0].mobile)} {messages[0].message_id}",
            )
            total += len(messages)
            self.sent += len(messages)
            if len(pending) < BATCH:
                return total

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.leading():
                try:
                    await self.dispatch_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("notification.sms_dispatch_failed", error=repr(exc)[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every_seconds)
