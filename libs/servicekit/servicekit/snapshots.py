"""Snapshots: the state of a stream that can grow long, kept so that a command folds only the events after it.

A snapshot is a cache, never the truth: it is written after an append (best effort, outside the command's
transaction) once `every` events have accumulated since the last one, and a command reads it, then only the
events after its `stream_version`. Its `version` is the shape of the state: when the shape changes, bump the
kind's version and give an upcaster from the old shape (`upcasters[n]` turns shape n into n + 1); a snapshot
no upcaster can bring to the current shape is ignored and the stream folded from the start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from events import DomainEvent

from .errors import ConcurrencyConflict
from .eventstore import EventStore, StoredEvent
from .logging import get_logger
from .mongo import Session

log = get_logger(__name__)

SNAPSHOTS = "snapshots"
S = TypeVar("S")


@dataclass(frozen=True)
class SnapshotKind(Generic[S]):
    name: str
    version: int
    fold: Callable[[S | None, Sequence[DomainEvent]], S]  # the state after these events (None: from nothing)
    dump: Callable[[S], dict[str, Any]]
    load: Callable[[dict[str, Any]], S]
    every: int = 100
    upcasters: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)

    def current(self, version: int, state: dict[str, Any]) -> dict[str, Any] | None:
        """The stored state brought to the current shape, or None when it cannot be."""
        while version < self.version:
            upcast = self.upcasters.get(version)
            if upcast is None:
                return None
            state, version = upcast(state), version + 1
        return state if version == self.version else None


async def load_state(
    store: EventStore, stream_id: str, kind: SnapshotKind[S], *, session: Session | None = None
) -> tuple[S, int, int]:
    """(state, stream version, events folded after the snapshot)."""
    doc = await store.db[SNAPSHOTS].find_one({"_id": stream_id}, session=session)
    state: S | None = None
    after = 0
    if doc is not None and doc.get("kind") == kind.name:
        data = kind.current(int(doc.get("version", 0)), doc["state"])
        if data is not None:
            state, after = kind.load(data), int(doc["stream_version"])
    events, version = await store.load_events(stream_id, after_version=after, session=session)
    return kind.fold(state, events), version, len(events)


async def save_snapshot(
    store: EventStore, stream_id: str, kind: SnapshotKind[S], state: S, version: int
) -> None:
    """Keep `state` as of `version` unless a newer snapshot is there already."""
    doc = {
        "kind": kind.name,
        "version": kind.version,
        "stream_version": version,
        "state": kind.dump(state),
        "taken_at": datetime.now(UTC),
    }
    existing = await store.db[SNAPSHOTS].find_one({"_id": stream_id}, {"stream_version": 1})
    if existing is not None and int(existing.get("stream_version", 0)) >= version:
        return
    await store.db[SNAPSHOTS].replace_one({"_id": stream_id}, {"_id": stream_id, **doc}, upsert=True)


async def execute_on_state(
    store: EventStore,
    stream_id: str,
    kind: SnapshotKind[S],
    decide: Callable[[S], Sequence[DomainEvent]],
    *,
    stream_type: str,
    session: Session | None = None,
    attempts: int = 3,
) -> list[StoredEvent]:
    """`servicekit.commands.execute` for a long stream: decide on the state (snapshot + the events after it),
    append at the expected version, retry on a conflict; then take a snapshot when one is due."""
    for attempt in range(1, attempts + 1):
        state, version, folded = await load_state(store, stream_id, kind, session=session)
        new_events = list(decide(state))
        if not new_events:
            return []
        try:
            stored = await store.append(
                stream_id, new_events, expected_version=version, stream_type=stream_type, session=session
            )
        except ConcurrencyConflict:
            if session is not None or attempt == attempts:
                raise
            continue
        if session is None and folded + len(new_events) >= kind.every:
            try:
                await save_snapshot(store, stream_id, kind, kind.fold(state, new_events), stored[-1].version)
            except Exception as exc:  # a cache: the next command folds a little more
                log.warning("snapshot.save_failed", stream_id=stream_id, error=repr(exc)[:300])
        return stored
    raise AssertionError("unreachable")


async def snapshot_if_due(store: EventStore, stream_id: str, kind: SnapshotKind[S]) -> bool:
    """After a command that appended inside a caller's transaction (and committed): take a snapshot when
    `every` events have accumulated since the last one. Returns whether one was taken."""
    doc = await store.db[SNAPSHOTS].find_one(
        {"_id": stream_id}, {"stream_version": 1, "kind": 1, "version": 1}
    )
    last = int(doc["stream_version"]) if doc and doc.get("kind") == kind.name else 0
    if await store.version_of(stream_id) - last < kind.every:
        return False
    state, version, _ = await load_state(store, stream_id, kind)
    await save_snapshot(store, stream_id, kind, state, version)
    return True
