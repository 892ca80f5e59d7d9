"""The feed log's consumer: servicekit's Kafka consumer runner (positions, marks, retries, dead letters) whose
transactions hand the whole batch to the writer at once instead of event by event.

The runner's applier runs its usual work (position, de-duplication marks, dispatch) in the batch's
transaction; the feed's handler only collects the events, and the collected batch is written at the end of
the same transaction (`append_batch`): one counter increment and one insert per batch. A batch that fails is
applied record by record by the runner as usual (each record its own transaction, retried, dead-lettered).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any

from servicekit.consumer import Applier, ConsumerRunner, EventHandlers, Item, ReceivedEvent
from servicekit.mongo import Session

BatchWriter = Callable[[list[ReceivedEvent], Session], Awaitable[object]]

_collected: ContextVar[list[ReceivedEvent] | None] = ContextVar("feed_batch", default=None)


def collecting_handlers(event_types: Sequence[Any]) -> EventHandlers:
    """Handlers that put each event of `event_types` into the batch being applied."""
    handlers = EventHandlers()

    async def collect(received: ReceivedEvent, session: Session) -> None:
        batch = _collected.get()
        if batch is None:
            raise RuntimeError("the feed's handler runs only inside the feed runner's batches")
        batch.append(received)

    handlers.on(*event_types)(collect)
    return handlers


class BatchApplier(Applier):
    def __init__(self, *, write_batch: BatchWriter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.write_batch = write_batch

    async def _work(self, items: Sequence[Item], session: Session) -> int:
        batch: list[ReceivedEvent] = []
        token = _collected.set(batch)
        try:
            applied = await super()._work(items, session)
        finally:
            _collected.reset(token)
        if batch:
            await self.write_batch(batch, session)
        return applied


class FeedRunner(ConsumerRunner):
    def __init__(self, *, write_batch: BatchWriter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        base: Applier = self.applier
        self.applier: Applier = BatchApplier(
            write_batch=write_batch,
            client=base.client,
            database=base.db,
            group=base.group,
            handlers=base.handlers,
            service=base.service,
            max_attempts=base.max_attempts,
            backoff_seconds=base.backoff_seconds,
            dedupe=True,
            move=base.move,
            moved=base.moved,
            dead_letter=base.dead_letter,
        )
