"""A lease in the service's database: at most one replica at a time does the work that must be single.

The holder renews the lease every `ttl / 3`; another replica takes it over only once it has expired. Expiry
is judged by the database server's clock (read from `hello`), never by the replicas' own clocks, so replicas
whose clocks differ cannot both believe they hold it. Each takeover increments `epoch`; work that must not
be done twice also writes conditionally (the sequencer's counter, the relay's checkpoint), so a holder that
was paused past its expiry and wakes up cannot undo what its successor did.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from .logging import get_logger
from .mongo import Database

log = get_logger(__name__)

LEASES = "leases"


def holder_name() -> str:
    """This process: host, pid and a random suffix (a restarted process is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def server_time(database: Database) -> datetime:
    hello = await database.client.admin.command("hello")
    now = hello.get("localTime")
    if not isinstance(now, datetime):  # a server that does not say: fall back to ours
        return datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


class Lease:
    def __init__(
        self, database: Database, name: str, *, ttl_seconds: float = 10.0, holder: str | None = None
    ):
        self.db = database
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.holder = holder or holder_name()
        self.held = False
        self.epoch = 0

    async def try_acquire(self) -> bool:
        """Renew the lease if held, take it if free or expired; returns whether it is held now."""
        now = await server_time(self.db)
        expires = now + self.ttl
        leases = self.db[LEASES]
        renewed = await leases.find_one_and_update(
            {"_id": self.name, "holder": self.holder},
            {"$set": {"expires_at": expires}},
            return_document=True,
        )
        if renewed is None:
            renewed = await leases.find_one_and_update(
                {"_id": self.name, "expires_at": {"$lt": now}},
                {
                    "$set": {"holder": self.holder, "expires_at": expires, "acquired_at": now},
                    "$inc": {"epoch": 1},
                },
                return_document=True,
            )
        if renewed is None:
            try:
                await leases.insert_one(
                    {
                        "_id": self.name,
                        "holder": self.holder,
                        "expires_at": expires,
                        "acquired_at": now,
                        "epoch": 1,
                    }
                )
                renewed = {"epoch": 1}
            except DuplicateKeyError:
                renewed = None
        self._set(renewed is not None, int(renewed["epoch"]) if renewed else self.epoch)
        return self.held

    def _set(self, held: bool, epoch: int) -> None:
        if held != self.held:
            log.info(
                "lease.acquired" if held else "lease.lost", lease=self.name, holder=self.holder, epoch=epoch
            )
        self.held, self.epoch = held, epoch

    async def release(self) -> None:
        if self.held:
            await self.db[LEASES].update_one(
                {"_id": self.name, "holder": self.holder},
                {"$set": {"expires_at": datetime(1970, 1, 1, tzinfo=UTC)}},
            )
            self._set(False, self.epoch)

    async def keep(self, stop: asyncio.Event) -> None:
        """Hold (or wait for) the lease until `stop`; a database error counts as not holding it."""
        while not stop.is_set():
            try:
                await self.try_acquire()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("lease.error", lease=self.name, error=repr(exc)[:300])
                self._set(False, self.epoch)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.ttl.total_seconds() / 3)
        try:
            await self.release()
        except Exception as exc:  # the next holder waits for the expiry instead
            log.warning("lease.release_failed", lease=self.name, error=repr(exc)[:300])
