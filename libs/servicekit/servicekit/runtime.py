"""What one service process runs besides its HTTP API: connections, the outbox relay and its consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from . import kafka
from .consumer import ConsumerRunner, EventHandlers, run_in_background
from .eventstore import EventStore
from .jobs import Jobs
from .logging import get_logger
from .mongo import Database, Document, create_client, ping
from .objectstore import ObjectStore
from .projections import Projection, RebuildReport, rebuild
from .relay import OutboxRelay
from .settings import ServiceSettings

log = get_logger(__name__)


@dataclass
class Policy:
    """A consumer that reacts to events by issuing commands (it is never replayed by a rebuild)."""

    name: str
    handlers: EventHandlers = field(default_factory=EventHandlers)

    def group_id(self, service: str) -> str:
        return f"{service}.policy.{self.name}"


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        projections: Sequence[Projection] = (),
        policies: Sequence[Policy] = (),
        own_topics: Sequence[str] = (),
        use_object_store: bool = True,
        run_relay: bool = True,
    ) -> None:
        self.settings = settings
        self.projections = list(projections)
        self.policies = list(policies)
        self.own_topics = list(own_topics)
        self.use_object_store = use_object_store
        self.run_relay = run_relay
        self._client: AsyncMongoClient[Document] | None = None
        self._store: EventStore | None = None
        self._jobs: Jobs | None = None
        self.objects = ObjectStore(settings) if use_object_store else None
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.runners: list[ConsumerRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    @property
    def client(self) -> AsyncMongoClient[Document]:
        if self._client is None:  # created inside the running event loop
            self._client = create_client(self.settings.mongo_url)
        return self._client

    @property
    def db(self) -> Database:
        return self.client[self.settings.database_name]

    @property
    def store(self) -> EventStore:
        if self._store is None:
            self._store = EventStore(self.client, self.db, source=f"/{self.settings.service_name}")
        return self._store

    @property
    def jobs(self) -> Jobs:
        """Long-running commands with progress (see servicekit.jobs)."""
        if self._jobs is None:
            self._jobs = Jobs(self.db)
        return self._jobs

    @property
    def all_topics(self) -> list[str]:
        topics = set(self.own_topics)
        for projection in self.projections:
            topics |= set(projection.topics)
        for policy in self.policies:
            topics |= set(policy.handlers.topics)
        return sorted(topics)

    async def start(self, *, consumers: bool = True) -> None:
        await self.store.ensure_indexes()
        await ConsumerRunner.ensure_indexes(self.db)
        for projection in self.projections:
            await projection.ensure_indexes(self.db)
        if self.objects is not None:
            await self.objects.ensure_bucket()
        await kafka.ensure_topics(self.settings, self.all_topics)
        self.producer = kafka.create_producer(self.settings)
        await self.producer.start()
        if not consumers:
            return
        await self.jobs.recover()
        if self.run_relay:
            self.relay = OutboxRelay(self.store, self.producer, poll_seconds=self.settings.relay_poll_seconds)
            self.store.set_on_append(self.relay.wake)
            self._tasks.append(run_in_background(self.relay.run(self._stop), "relay"))
        groups: list[tuple[str, EventHandlers, list[str]]] = [
            (p.group_id(self.settings.service_name), p.handlers, p.topics) for p in self.projections
        ] + [(p.group_id(self.settings.service_name), p.handlers, p.handlers.topics) for p in self.policies]
        for group, handlers, topics in groups:
            runner = ConsumerRunner(
                settings=self.settings,
                client=self.client,
                database=self.db,
                group_id=group,
                handlers=handlers,
                producer=self.producer,
                topics=topics,
                on_handled=self.store.notify,
            )
            self.runners.append(runner)
            self._tasks.append(run_in_background(runner.run(self._stop), group))
        log.info("service.started", topics=self.all_topics, consumers=[r.group_id for r in self.runners])

    def run_background(self, name: str, work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Start a service's own background loop (a timer, a sweeper): it gets the stop event, and `stop()`
        waits for it like for the consumers."""
        self._tasks.append(run_in_background(work(self._stop), name))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        if self.producer is not None:
            with contextlib.suppress(Exception):
                await self.producer.stop()
        if self._client is not None:
            await self._client.close()
            self._client = None
            self._store = None
            self._jobs = None

    async def wait_until_consuming(self, timeout: float = 60.0) -> None:
        """Wait until every consumer has joined its group and has partitions (useful in tests)."""
        await asyncio.wait_for(asyncio.gather(*(r.ready.wait() for r in self.runners)), timeout)

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}

        async def check(name: str, probe: asyncio.Future[None] | object) -> None:
            try:
                await asyncio.wait_for(probe, timeout=5)  # type: ignore[arg-type]
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"error: {exc!r}"[:300]

        await check("mongo", ping(self.client))
        await check("kafka", kafka.ping(self.settings))
        if self.objects is not None:
            await check("s3", self.objects.ping())
        return checks

    async def rebuild_projections(self, names: Sequence[str] | None = None) -> list[RebuildReport]:
        assert self.producer is not None, "start() first"
        reports = []
        for projection in self.projections:
            if names and projection.name not in names:
                continue
            reports.append(
                await rebuild(
                    projection,
                    settings=self.settings,
                    client=self.client,
                    database=self.db,
                    producer=self.producer,
                )
            )
        return reports
