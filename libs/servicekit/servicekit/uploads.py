"""Objects a command stores: each upload under keys of its own (`…/<upload id>/<document>.<ext>`), so that an
object an earlier event names is never overwritten; when the command fails, only this upload's objects are
removed, and none that a stored event names (an append may have been committed although its call failed; if
that cannot be checked they are kept: an orphan object is harmless, an event naming nothing is not)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import UploadFile

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


SPOOL_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SpooledFile:
    """An uploaded file copied to a temporary file of its own (it outlives the request: a background job
    reads it, then `remove()`s it). `identity` is what an idempotency fingerprint counts of its bytes."""

    path: Path
    size: int
    sha256: str

    @property
    def identity(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size}  # what idempotency.fingerprint makes of bytes

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


async def spool_upload(
    upload: UploadFile, *, max_bytes: int, too_large: Callable[[], Exception], suffix: str = ""
) -> SpooledFile:
    """Copy `upload` to a temporary file in chunks (never more than one chunk in memory), hashing it;
    `too_large()` is raised (and the copy removed) as soon as it passes `max_bytes`."""
    handle, name = tempfile.mkstemp(prefix="upload-", suffix=suffix)
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            await upload.seek(0)
            while chunk := await upload.read(SPOOL_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise too_large()
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
    except BaseException:
        SpooledFile(path=path, size=size, sha256="").remove()
        raise
    return SpooledFile(path=path, size=size, sha256=digest.hexdigest())
