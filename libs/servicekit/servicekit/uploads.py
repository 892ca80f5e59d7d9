"""Objects a command stores: each upload under keys of its own (`…/<upload id>/<document>.<ext>`), so that an
object an earlier event names is never overwritten; when the command fails, only this upload's objects are
removed, and none that a stored event names (an append may have been committed although its call failed; if
that cannot be checked they are kept: an orphan object is harmless, an event naming nothing is not)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from servicekit.eventstore import EventStore
from servicekit.logging import get_logger
from servicekit.objectstore import ObjectStore

log = get_logger(__name__)


def new_upload_id() -> str:
    return uuid.uuid4().hex


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


async def discard_unrecorded(
    store: EventStore, objects: ObjectStore, stream_id: str, keys: Iterable[str], *, after_version: int = 0
) -> None:
    """Remove the objects `keys` of a failed command, except those an event of `stream_id` names (events
    after `after_version`: the stream's version before the command)."""
    keys = list(keys)
    if not keys:
        return
    try:
        history, _ = await store.load_events(stream_id, after_version=after_version)
    except Exception as exc:
        log.warning("uploads.kept_unverified", stream_id=stream_id, objects=len(keys), error=repr(exc)[:300])
        return
    named = {text for event in history for text in _strings(event.model_dump(mode="json"))}
    for key in keys:
        if key in named:
            log.warning("uploads.kept_recorded", stream_id=stream_id, key=key)
            continue
        with contextlib.suppress(Exception):
            await objects.remove(key)
