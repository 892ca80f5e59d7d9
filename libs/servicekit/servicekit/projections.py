"""Projections: read models built from the event log, which can be dropped and rebuilt at any time.

A `Projection` owns some collections of its service's database and a set of handlers. It runs as its own
consumer group (`<service>.<name>`); `rebuild` drops its collections and its de-duplication marks and replays
every subscribed topic from the beginning to the high watermark through the very same handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer, ConsumerRecord
from pymongo import AsyncMongoClient, IndexModel

from .consumer import PROCESSED, ConsumerRunner, EventHandlers
from .kafka import read_to_end
from .logging import get_logger
from .mongo import Collection, Database, Document, Session
from .settings import ServiceSettings

log = get_logger(__name__)


@dataclass
class Projection:
    name: str
    collections: Sequence[str]
    database: str = ""
    handlers: EventHandlers = field(default_factory=EventHandlers)
    extra_topics: Sequence[str] = ()
    # The indexes of the read model's collections (collection → indexes), made at start and on a rebuild's
    # new collections. Every query a page or a handler runs on a large collection needs one: the local
    # MongoDB server scans the whole collection otherwise, and holds everyone else up while it does.
    indexes: Mapping[str, Sequence[IndexModel]] = field(default_factory=dict)

    async def ensure_indexes(self, database: Database, suffix: str = "") -> None:
        for name, models in self.indexes.items():
            if models:
                await database[name + suffix].create_indexes(list(models))

    def collection(self, session: Session, name: str | None = None) -> Collection:
        """One of the projection's collections, bound to the handler's transaction's client."""
        return session.client[self.database][name or self.collections[0]]

    def group_id(self, service: str) -> str:
        return f"{service}.projection.{self.name}"

    @property
    def topics(self) -> list[str]:
        return sorted(set(self.handlers.topics) | set(self.extra_topics))


@dataclass
class RebuildReport:
    projection: str
    records_read: int
    events_applied: int
    seconds: float


async def rebuild(
    projection: Projection,
    *,
    settings: ServiceSettings,
    client: AsyncMongoClient[Document],
    database: Database,
    producer: AIOKafkaProducer,
) -> RebuildReport:
    """Drop the projection's read model and replay the log into it."""
    import time

    started = time.perf_counter()
    group = projection.group_id(settings.service_name)
    for name in projection.collections:
        await database[name].drop()
    await database[PROCESSED].delete_many({"group": group})
    runner = ConsumerRunner(
        settings=settings,
        client=client,
        database=database,
        group_id=group,
        handlers=projection.handlers,
        producer=producer,
        topics=projection.topics,
    )
    read = 0
    pending: list[ConsumerRecord[bytes, bytes]] = []
    async for record in read_to_end(settings, projection.topics):
        read += 1
        pending.append(record)
        if len(pending) >= runner.batch_size:
            await runner.handle_batch(pending)
            pending = []
    if pending:
        await runner.handle_batch(pending)
    report = RebuildReport(projection.name, read, runner.handled, time.perf_counter() - started)
    log.info(
        "projection.rebuilt",
        projection=projection.name,
        records=read,
        applied=runner.handled,
        seconds=round(report.seconds, 3),
    )
    return report


async def snapshot(database: Database, collections: Iterable[str]) -> dict[str, list[Document]]:
    """The content of some collections, sorted by `_id`, for comparing a read model before and after."""
    result: dict[str, list[Document]] = {}
    for name in collections:
        result[name] = [doc async for doc in database[name].find({}).sort("_id", 1)]
    return result
