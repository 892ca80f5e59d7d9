"""What a service process runs besides its HTTP API: connections, the relay, its subscriptions and consumers.

- The **lease** (`servicekit.lease`) makes one replica the service's leader: it sequences the stored events,
  publishes the integration events (`OutboxRelay`) and applies the service's own events to its projections
  and policies (`StoreSubscription`, in log order, straight from the event store).
- Every replica runs the **Kafka consumers** of other contexts' events (one group per projection or policy;
  Kafka spreads the partitions over the replicas).
- A small loop keeps the pipeline's **metrics** current, and `readiness` fails when a consumer has stopped or
  has work waiting and makes no progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from events import registry
from pymongo import AsyncMongoClient

from . import kafka
from .consumer import ConsumerRunner, EventHandlers, run_in_background
from .eventstore import RELAY_CHECKPOINT, STORE_META, EventStore
from .jobs import Jobs
from .lease import Lease
from .logging import get_logger
from .metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, SUBSCRIPTION_LAG
from .mongo import Database, Document, create_client, ping
from .objectstore import ObjectStore
from .projections import Projection, RebuildReport, check_write_index, rebuild
from .relay import OutboxRelay
from .revocation import POLICY_NAME, RevocationView
from .settings import ServiceSettings
from .subscription import StoreSubscription

log = get_logger(__name__)

METRICS_EVERY_SECONDS = 5.0


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
        write_indexes: Sequence[Projection] = (),
        revocations: bool = True,
    ) -> None:
        self.settings = settings
        self.projections = list(projections)
        # Write-side collections the commands keep beside their appends (claims, id indexes, counters): never
        # run as consumers; `check_write_indexes` builds them again from the events and compares.
        self.write_indexes = list(write_indexes)
        self.policies = list(policies)
        # Every service refuses revoked tokens (servicekit.revocation): it consumes the gateway's identity
        # events into `token_revocations`, which `current_identity` consults.
        self.revocations: RevocationView | None = None
        if revocations:
            self.revocations = RevocationView(
                settings.database_name, cache_seconds=settings.revocation_cache_seconds
            )
            self.policies.append(Policy(POLICY_NAME, self.revocations.handlers))
        self.own_topics = list(own_topics)
        # The service's own contexts: their events come from the event store, not from Kafka.
        self.own_contexts = sorted({t.removesuffix(".events") for t in own_topics})
        self.use_object_store = use_object_store
        self.run_relay = run_relay
        self._client: AsyncMongoClient[Document] | None = None
        self._store: EventStore | None = None
        self._jobs: Jobs | None = None
        self.objects = ObjectStore(settings) if use_object_store else None
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.lease: Lease | None = None
        self.runners: list[ConsumerRunner] = []
        self.subscriptions: list[StoreSubscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._named_tasks: dict[str, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._backlog: tuple[int, float] = (0, 0.0)

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

    def _consumers(self) -> list[tuple[str, EventHandlers, Sequence[str]]]:
        """(group, handlers, extra topics) of every projection and policy."""
        service = self.settings.service_name
        return [(p.group_id(service), p.handlers, p.extra_topics) for p in self.projections] + [
            (p.group_id(service), p.handlers, ()) for p in self.policies
        ]

    @property
    def published_topics(self) -> list[str]:
        """The topics the service's integration events go to."""
        mine = set(self.own_contexts)
        return sorted(
            {m.topic() for m in registry.public_models() if m.context in mine} | set(self.own_topics)
        )

    @property
    def all_topics(self) -> list[str]:
        topics = set(self.published_topics)
        for _, handlers, extra in self._consumers():
            _, foreign = handlers.split(self.own_contexts)
            topics |= set(foreign.topics) | set(extra)
        return sorted(topics)

    async def start(self, *, consumers: bool = True) -> None:
        await self.store.ensure_indexes()
        await ConsumerRunner.ensure_indexes(self.db, marks_days=self.settings.processed_marks_days)
        for projection in [*self.projections, *self.write_indexes]:
            await projection.ensure_indexes(self.db)
        if self.revocations is not None:
            await self.revocations.ensure_indexes(self.db)
        if self.objects is not None:
            await self.objects.ensure_bucket()
        await kafka.ensure_topics(self.settings, self.all_topics)
        self.producer = kafka.create_producer(self.settings)
        await self.producer.start()
        if not consumers:
            return
        await self.jobs.recover()
        service = self.settings.service_name
        self.lease = Lease(self.db, "leader", ttl_seconds=self.settings.lease_ttl_seconds)
        self._spawn("lease", self.lease.keep(self._stop))
        if self.run_relay:
            self.relay = OutboxRelay(
                self.store, self.producer, poll_seconds=self.settings.relay_poll_seconds, lease=self.lease
            )
            self.store.set_on_append(self.relay.wake)
            self._spawn("relay", self.relay.run(self._stop))
        for group, handlers, extra in self._consumers():
            own, foreign = handlers.split(self.own_contexts)
            if own and self.run_relay:
                subscription = StoreSubscription(
                    name=group, store=self.store, handlers=own, settings=self.settings, lease=self.lease
                )
                if self.relay is not None:
                    self.relay.on_sequenced(subscription.wake)
                self.subscriptions.append(subscription)
                self._spawn(f"{group}@store", subscription.run(self._stop))
            if foreign or extra:
                runner = ConsumerRunner(
                    settings=self.settings,
                    client=self.client,
                    database=self.db,
                    group_id=group,
                    handlers=foreign,
                    producer=self.producer,
                    topics=sorted(set(foreign.topics) | set(extra)),
                    on_handled=self.store.notify,
                )
                self.runners.append(runner)
                self._spawn(group, runner.run(self._stop))
        self._spawn("pipeline-metrics", self._keep_metrics(self._stop))
        log.info(
            "service.started",
            topics=self.all_topics,
            consumers=[r.group_id for r in self.runners],
            subscriptions=[s.name for s in self.subscriptions],
            service=service,
        )

    def _spawn(self, name: str, coro: Awaitable[None]) -> None:
        task = run_in_background(coro, name)
        self._tasks.append(task)
        self._named_tasks[name] = task

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
        """Until every consumer has joined its group and has partitions, and this replica leads (tests)."""
        waits = [r.ready.wait() for r in self.runners] + [s.ready.wait() for s in self.subscriptions]
        await asyncio.wait_for(asyncio.gather(*waits), timeout)

    # ------------------------------------------------------------------ what an operator sees

    async def outbox_backlog(self) -> tuple[int, float]:
        """(integration events not yet published, age in seconds of the oldest of them)."""
        store = self.store
        checkpoint = await store.db[STORE_META].find_one({"_id": RELAY_CHECKPOINT})
        position = int(checkpoint["position"]) if checkpoint else 0
        waiting = await store.db["events"].count_documents({"seq": {"$gt": position}, "public": True})
        pending = await store.pending_count()
        oldest = await store.oldest_pending()
        if oldest is None and waiting:
            first = await store.read_after(position, 1, public_only=True)
            oldest = first[0].recorded_at if first else None
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        return waiting + pending, max(0.0, age)

    async def _keep_metrics(self, stop: asyncio.Event) -> None:
        service = self.settings.service_name
        while not stop.is_set():
            try:
                backlog, age = await self.outbox_backlog()
                self._backlog = (backlog, age)
                OUTBOX_BACKLOG.labels(service).set(backlog)
                OUTBOX_OLDEST_AGE.labels(service).set(age)
                head = await self.store.head()
                for subscription in self.subscriptions:
                    subscription.head = max(subscription.head, head)
                    if self.lease is not None and self.lease.held:
                        position, _ = await subscription.load_position()
                        SUBSCRIPTION_LAG.labels(service, subscription.name).set(max(0, head - position))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("metrics.failed", error=repr(exc)[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=METRICS_EVERY_SECONDS)

    def pipeline_problems(self) -> list[str]:
        """What is wrong with the pipeline (empty: nothing): a consumer that stopped, or one with work
        waiting that made no progress for `CONSUMER_STALL_SECONDS`, or an outbox that does not drain."""
        stall = self.settings.consumer_stall_seconds
        problems = []
        for name, task in self._named_tasks.items():
            if task.done() and not self._stop.is_set():
                problems.append(f"{name}: stopped")
        for runner in self.runners:
            if runner.stalled(stall):
                problems.append(
                    f"{runner.group_id}: {runner.lag} records waiting, no progress for {stall:.0f}s"
                )
        leading = self.lease is not None and self.lease.held
        for subscription in self.subscriptions:
            if leading and subscription.stalled(stall):
                problems.append(
                    f"{subscription.name}: {subscription.lag} events waiting, no progress for {stall:.0f}s"
                )
        backlog, age = self._backlog
        if leading and backlog and age > stall:
            problems.append(f"outbox: {backlog} events not published, the oldest for {age:.0f}s")
        return problems

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}

        async def check(name: str, probe: Awaitable[None]) -> None:
            try:
                await asyncio.wait_for(probe, timeout=5)
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"error: {exc!r}"[:300]

        await check("mongo", ping(self.client))
        await check("kafka", kafka.ping(self.settings))
        if self.objects is not None:
            await check("s3", self.objects.ping())
        if self._named_tasks:
            problems = self.pipeline_problems()
            checks["pipeline"] = "ok" if not problems else "error: " + "; ".join(problems)[:500]
        return checks

    async def rebuild_projections(
        self, names: Sequence[str] | None = None, *, check: bool = False
    ) -> list[RebuildReport]:
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
                    store=self.store,
                    own_contexts=self.own_contexts,
                    check=check,
                )
            )
        return reports

    async def check_write_indexes(self, *, repair: bool = False) -> list[RebuildReport]:
        if repair and await self.db["leases"].count_documents(
            {"_id": "leader", "expires_at": {"$gt": datetime.now(UTC)}}
        ):
            raise RuntimeError(
                "the service is running (it holds its lease): stop it before repairing write indexes"
            )
        return [
            await check_write_index(
                index,
                settings=self.settings,
                client=self.client,
                database=self.db,
                store=self.store,
                own_contexts=self.own_contexts,
                repair=repair,
            )
            for index in self.write_indexes
        ]

    async def wait_applied(self, event_ids: Sequence[str], timeout: float) -> bool:
        """Until the service's own projections have applied these events (read-your-writes); False when that
        takes longer than `timeout` (the answer then says the read models are still being updated). Events
        of a transaction that did not commit are not waited for."""
        if not event_ids or not self.subscriptions:
            return True
        deadline = time.monotonic() + timeout
        ids = list(dict.fromkeys(event_ids))
        target = 0
        while True:
            docs = [d async for d in self.store.db["events"].find({"_id": {"$in": ids}}, {"seq": 1})]
            if all(d.get("seq") is not None for d in docs):
                target = max((int(d["seq"]) for d in docs), default=0)
                break
            if self.relay is not None:
                self.relay.wake()
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        leading = self.lease is not None and self.lease.held
        while True:
            if leading:
                positions = [s.position for s in self.subscriptions]
            else:
                positions = [(await s.load_position())[0] for s in self.subscriptions]
            if all(p >= target for p in positions):
                return True
            if time.monotonic() > deadline:
                return False
            for subscription in self.subscriptions:
                subscription.wake()
            await asyncio.sleep(0.01)

    async def wait_for_store(self, timeout: float = 30.0) -> None:
        """Until every own event stored so far has been applied by the subscriptions (tests, tools)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            head = await self.store.head()
            pending = await self.store.pending_count()
            positions = [(await s.load_position())[0] for s in self.subscriptions]
            if not pending and all(p >= head for p in positions):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the service's own projections did not catch up")
