"""The SMS port and its local adapter.

`SmsSender` is what a real provider's adapter implements: it is given a batch of messages already stored (and
keyed) in the `notifications` collection and returns once the provider accepted them; the dispatcher then
marks them sent. A crash between the two sends the batch again: the provider de-duplicates by `message_id`
(every provider we know takes a client reference for that), and the local file shows the same id twice.

`LocalSmsFile` (NOTIFY_SMS_PROVIDER=local, the default and the only adapter built) appends each message as
one JSON line to NOTIFY_SMS_FILE, for developers and testers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    message_id: str
    mobile: str
    text: str
    kind: str
    at: datetime
    recipient: str = (
        ""  # the principal (`person:<ID number>`, `enterprise:<id>`): for the local file's readers
    )

    def __repr__(self) -> str:  # never the text nor the mobile in a log or a traceback
        return f"SmsMessage(id={self.message_id!r}, kind={self.kind!r})"


class SmsSender(Protocol):
    name: str

    async def send(self, messages: Sequence[SmsMessage]) -> None: ...


class LocalSmsFile:
    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    def _append(self, lines: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write("".join(lines))
            out.flush()

    async def send(self, messages: Sequence[SmsMessage]) -> None:
        lines = [
            json.dumps(
                {
                    "id": m.message_id,
                    "mobile": m.mobile,
                    "kind": m.kind,
                    "recipient": m.recipient,
                    "text": m.text,
                    "at": m.at.isoformat(),
                },
                ensure_ascii=False,
            )
            + "\n"
            for m in messages
        ]
        async with self._lock:
            await asyncio.to_thread(self._append, lines)
