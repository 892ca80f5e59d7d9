"""The worker's cache of prepared head photos (`analysis.Reference`), so a check embeds only the live frame.

Why a cached reference cannot answer for a photo that is gone or changed:
- The key: enrollment stores every upload under keys of its own (`batches/<batch>/<applicant>/<upload id>/…`,
  `persons/<person>/<document>-<uuid4>.…`): a new photo is a new key, never an overwrite of an object an
  event names, and the request names the key the exam service holds now. So a new photo is a miss and is
  read, prepared and cached like any other; the old entry ages out of the LRU.
- The object behind a cached key is still asked for on every hit: a HEAD request (no body, no decoding, no
  embedding) returns its ETag. Gone (deleted, bucket removed) → the entry is dropped and the check answers
  `reference_unusable`, exactly as without the cache. A different ETag (someone overwrote the key in
  place, which the platform never does) → the entry is dropped and the object read again (a miss). So an
  entry answers only for the very bytes it was prepared from; the cache saves the GET, the decoding, the
  face search and the ~90 ms embedding, not the check that the photo still exists.
- Nothing else is kept: a missing object is never cached, and an unusable photo (no face, not an image) is
  cached as unusable for its ETag (the same bytes give the same answer).

Bounded by count (FACE_REFERENCE_CACHE_SIZE, default 4096; 0 = no cache), least recently used first out.
One entry is about 24 kB (`Reference.nbytes` plus the key), so the default holds up to ~100 MB per worker:
4096 candidates whose head photos a worker sees again within a while (in-exam checks every minute go to
the worker that holds the candidate's partition, since requests are keyed by candidate).

Used from the worker's event loop only (the preparation runs in a thread, the cache is read and written
around it), so it needs no lock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from .analysis import Reference

DEFAULT_SIZE = 4096


@dataclass(frozen=True)
class CachedReference:
    etag: str
    reference: Reference


class ReferenceCache:
    """LRU by count of `Reference`s keyed by (bucket, key), each remembering the ETag it was prepared from."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 0:
            raise ValueError(f"cache size must be ≥ 0, got {size}")
        self.size = size
        self._entries: OrderedDict[tuple[str, str], CachedReference] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, item: tuple[str, str]) -> bool:
        return item in self._entries

    def peek(self, bucket: str, key: str) -> CachedReference | None:
        """The entry for the key, if any (no counting, no reordering): the worker then checks its ETag."""
        return self._entries.get((bucket, key))

    def get(self, bucket: str, key: str, etag: str) -> Reference | None:
        """The reference prepared from the object whose ETag is `etag` now; None (a miss) otherwise. A
        stale entry (another ETag) is dropped."""
        entry = self._entries.get((bucket, key))
        if entry is not None and entry.etag == etag:
            self._entries.move_to_end((bucket, key))
            self.hits += 1
            return entry.reference
        if entry is not None:
            del self._entries[(bucket, key)]
        self.misses += 1
        return None

    def put(self, bucket: str, key: str, etag: str, reference: Reference) -> None:
        if self.size == 0:
            return
        self._entries[(bucket, key)] = CachedReference(etag, reference)
        self._entries.move_to_end((bucket, key))
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
            self.evictions += 1

    def drop(self, bucket: str, key: str) -> None:
        """Forget the key (its object is gone)."""
        self._entries.pop((bucket, key), None)
