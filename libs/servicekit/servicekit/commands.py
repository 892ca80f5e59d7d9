"""Command handling against the event store: load the stream, decide, append, retry on conflict."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from events import DomainEvent

from .errors import ConcurrencyConflict
from .eventstore import EventStore, StoredEvent
from .mongo import Session

Decide = Callable[[list[DomainEvent]], Sequence[DomainEvent]]


async def execute(
    store: EventStore,
    stream_id: str,
    decide: Decide,
    *,
    stream_type: str,
    session: Session | None = None,
    attempts: int = 3,
    loaded: tuple[list[DomainEvent], int] | None = None,
) -> list[StoredEvent]:
    """Run a pure decision on the stream's history and append what it decided.

    `decide` gets the stream's events (empty for a new stream) and returns the new events, or raises a
    `DomainError`. On a concurrency conflict the history is reloaded and the decision taken again, at most
    `attempts` times (inside a caller's transaction, `session`, the conflict is raised to the caller).
    `loaded`: the stream's events and version the caller has already read in this request (the first
    decision uses them, so that a request reads its stream once).
    """
    for attempt in range(1, attempts + 1):
        if attempt == 1 and loaded is not None:
            history, version = loaded
        else:
            history, version = await store.load_events(stream_id, session=session)
        new_events = list(decide(history))
        if not new_events:
            return []
        try:
            return await store.append(
                stream_id, new_events, expected_version=version, stream_type=stream_type, session=session
            )
        except ConcurrencyConflict:
            if session is not None or attempt == attempts:
                raise
    raise AssertionError("unreachable")
