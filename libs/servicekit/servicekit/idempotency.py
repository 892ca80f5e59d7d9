"""Idempotent commands: the `Idempotency-Key` request header of the POSTs that create something.

A client that is not sure its request arrived (a timeout, a dropped connection, a double click) sends it again
with the same key. The first request with a key claims it and runs; the answer it gives (status and body) is
kept, and a retry with that key gets the same answer without running the command again. The same key with
a different request (body, file bytes, path or query) is refused (422 `idempotency_key_reused`); a retry
while the first one is still running gets 409 `idempotency_in_progress`. A request that fails keeps nothing:
a refused command changed nothing, so the key may be sent again.

Keys are scoped by the account (the JWT subject) and the route (method and path template); records live in
the service's own database, collection `idempotency_keys`, and expire (TTL index) after
`IDEMPOTENCY_TTL_SECONDS` (24 h). A request that claimed a key and never finished (its process died) holds it
for `IDEMPOTENCY_LEASE_SECONDS` (5 min), then a retry runs again. Without the header a request runs as usual.

Use in a router::

    @router.post("/orders", status_code=201)
    async def create_order(body: CreateOrder, identity: Enterprise, rt: RuntimeDep, idem: IdempotencyDep):
        async def work() -> dict[str, str]:
            ...
        return await idem.run(body, work)  # what identifies the request: the body, form fields, file bytes

The answer is stored as JSON once the command succeeded; the record and the command are not one transaction,
so a process dying between the two leaves the key `in_progress` until its lease ends.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol, TypeVar, cast

from fastapi import Depends, Header, Request, Response, UploadFile
from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo.errors import DuplicateKeyError

from .auth import CurrentIdentity
from .errors import Conflict, DomainError
from .logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
COLLECTION = "idempotency_keys"
MAX_KEY_LENGTH = 200
IN_PROGRESS = "in_progress"
DONE = "done"
_CHUNK = 1024 * 1024


class IdempotencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    ttl_seconds: int = Field(default=24 * 3600, ge=60, validation_alias="IDEMPOTENCY_TTL_SECONDS")
    lease_seconds: int = Field(default=300, ge=1, validation_alias="IDEMPOTENCY_LEASE_SECONDS")


# ---------------------------------------------------------------------------------------------- fingerprints


def _canonical(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(value).hexdigest(), "size": len(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return to_jsonable_python(value)


def fingerprint(value: Any) -> str:
    """SHA-256 of the canonical JSON of what identifies a request (bytes count by their own SHA-256)."""
    text = json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def upload_digest(file: UploadFile) -> str:
    """SHA-256 of an uploaded file's bytes, read from the start; the file is left at its start again."""
    digest = hashlib.sha256()
    await file.seek(0)
    while chunk := await file.read(_CHUNK):
        digest.update(chunk)
    await file.seek(0)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------------- store


class KeyCollection(Protocol):
    """The few collection methods the store uses (a pymongo `AsyncCollection`, or a fake in unit tests)."""

    async def insert_one(self, document: Any) -> Any: ...

    async def find_one(self, filter: Any) -> Any: ...

    async def update_one(self, filter: Any, update: Any) -> Any: ...

    async def delete_one(self, filter: Any) -> Any: ...

    async def create_index(self, keys: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Answer:
    """The first answer to a request: replayed to its retries."""

    status: int
    body: Any


@dataclass(frozen=True)
class Claim:
    """`begin`'s outcome: either this request now holds the key (`owner`), or the earlier `answer`."""

    record_id: str
    owner: str | None = None
    answer: Answer | None = None


def check_key(key: str) -> str:
    if not key.strip():
        raise DomainError("Idempotency-Key 不能为空", code="idempotency_key_invalid")
    if len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            f"Idempotency-Key 过长（{len(key)} 个字符），不能超过 {MAX_KEY_LENGTH} 个字符",
            code="idempotency_key_too_long",
        )
    return key


def record_id(account_id: str, route: str, key: str) -> str:
    return hashlib.sha256("\x00".join((account_id, route, key)).encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class IdempotencyStore:
    """Records of `idempotency_keys`: claimed (`in_progress`, with a lease), then `done` with the answer."""

    def __init__(
        self,
        collection: KeyCollection,
        *,
        ttl: timedelta = timedelta(hours=24),
        lease: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.collection = collection
        self.ttl = ttl
        self.lease = lease
        self.clock = clock

    async def ensure_indexes(self) -> None:
        # the server deletes expired records by itself; `begin` also ignores any it has not deleted yet
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def begin(self, *, account_id: str, route: str, key: str, request_hash: str) -> Claim:
        """Claim the key for this request, or return the answer of the earlier request that had it.

        Raises 422 `idempotency_key_reused` (the key came with another request), 409 `idempotency_in_progress`
        (the earlier request is still running)."""
        check_key(key)
        rid = record_id(account_id, route, key)
        for _ in range(5):
            now = self.clock()
            owner = uuid.uuid4().hex
            try:
                await self.collection.insert_one(
                    {
                        "_id": rid,
                        "account_id": account_id,
                        "route": route,
                        "key": key,
                        "request_hash": request_hash,
                        "state": IN_PROGRESS,
                        "owner": owner,
                        "created_at": now,
                        "lease_until": now + self.lease,
                        "expires_at": now + self.ttl,
                    }
                )
                return Claim(rid, owner=owner)
            except DuplicateKeyError:
                pass
            existing = await self.collection.find_one({"_id": rid})
            if existing is None:  # expired and removed in between
                continue
            if _utc(existing["expires_at"]) <= now:  # expired: as if it were not there
                await self.collection.delete_one({"_id": rid, "owner": existing["owner"]})
                continue
            if existing["request_hash"] != request_hash:
                raise DomainError(
                    "该 Idempotency-Key 已用于另一个内容不同的请求，请为新的请求使用新的 Idempotency-Key",
                    code="idempotency_key_reused",
                )
            if existing["state"] == DONE:
                return Claim(rid, answer=Answer(int(existing["status"]), json.loads(existing["body"])))
            if _utc(existing["lease_until"]) > now:
                raise Conflict(
                    "使用相同 Idempotency-Key 的请求正在处理中，请稍后重试", code="idempotency_in_progress"
                )
            # its request never finished (the process died): this one takes the key over
            taken = await self.collection.update_one(
                {"_id": rid, "owner": existing["owner"], "state": IN_PROGRESS},
                {"$set": {"owner": owner, "lease_until": now + self.lease}},
            )
            if taken.matched_count:
                return Claim(rid, owner=owner)
        raise Conflict(
            "使用相同 Idempotency-Key 的请求正在处理中，请稍后重试", code="idempotency_in_progress"
        )

    async def complete(self, claim: Claim, answer: Answer) -> bool:
        """Keep the answer for the retries; False if the claim was lost (its lease ended, a retry took it)."""
        body = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":"))
        done = await self.collection.update_one(
            {"_id": claim.record_id, "owner": claim.owner},
            {"$set": {"state": DONE, "status": answer.status, "body": body, "completed_at": self.clock()}},
        )
        return bool(done.matched_count)

    async def release(self, claim: Claim) -> None:
        """The request failed: forget the key (a retry runs the command again)."""
        await self.collection.delete_one({"_id": claim.record_id, "owner": claim.owner})


# ------------------------------------------------------------------------------------------------ dependency


class Idempotency:
    """One request's handle on its `Idempotency-Key` (the FastAPI dependency `IdempotencyDep`)."""

    def __init__(
        self,
        request: Request,
        response: Response,
        *,
        account_id: str,
        key: str | None,
        store: IdempotencyStore | None,
    ) -> None:
        self.request = request
        self.response = response
        self.account_id = account_id
        self.key = key
        self.store = store

    @property
    def route(self) -> str:
        route = self.request.scope.get("route")
        return f"{self.request.method} {getattr(route, 'path', self.request.url.path)}"

    def _status(self) -> int:
        if self.response.status_code:
            return int(self.response.status_code)
        route = self.request.scope.get("route")
        return int(getattr(route, "status_code", None) or 200)

    async def run(
        self,
        identifies: Any,
        work: Callable[[], Awaitable[T]],
        *,
        load: Callable[[Any], T] | None = None,
    ) -> T:
        """Run `work` once per key. `identifies`: what makes the request this request (the JSON body, the form
        fields and file bytes); the concrete path and query are added. `load` turns a replayed JSON body
        back into the route's return type (default: the JSON as is)."""
        if self.key is None or self.store is None:
            return await work()
        request_hash = fingerprint(
            {
                "method": self.request.method,
                "path": self.request.url.path,
                "query": sorted(self.request.query_params.multi_items()),
                "request": identifies,
            }
        )
        claim = await self.store.begin(
            account_id=self.account_id, route=self.route, key=self.key, request_hash=request_hash
        )
        if claim.answer is not None:
            self.response.status_code = claim.answer.status
            self.response.headers[REPLAYED_HEADER] = "true"
            log.info("idempotency.replayed", route=self.route)
            body = claim.answer.body
            return load(body) if load is not None else cast(T, body)
        try:
            result = await work()
        except Exception:
            try:
                await self.store.release(claim)
            except Exception as exc:  # the lease frees the key later
                log.warning("idempotency.release_failed", route=self.route, error=repr(exc)[:300])
            raise
        try:
            # as FastAPI sends it (pydantic's JSON mode), so that a replay is the same JSON
            kept = await self.store.complete(claim, Answer(self._status(), to_jsonable_python(result)))
            if not kept:
                log.warning("idempotency.claim_lost", route=self.route)
        except Exception as exc:  # the command is done: answer it; a retry waits for the lease
            log.warning("idempotency.complete_failed", route=self.route, error=repr(exc)[:300])
        return result


async def _store(request: Request) -> IdempotencyStore:
    """The app's store, made (and its TTL index created) on first use."""
    state = request.app.state
    store: IdempotencyStore | None = getattr(state, "idempotency_store", None)
    if store is None:
        settings = IdempotencySettings()
        store = IdempotencyStore(
            state.runtime.db[COLLECTION],
            ttl=timedelta(seconds=settings.ttl_seconds),
            lease=timedelta(seconds=settings.lease_seconds),
        )
        await store.ensure_indexes()
        state.idempotency_store = store
    return store


async def idempotency(
    request: Request,
    response: Response,
    identity: CurrentIdentity,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description=(
                "幂等键（可选，≤ 200 个字符，如 UUID）：同一账号对同一接口以相同的键重试时返回第一次的结果，"
                "不会重复创建；24 小时内有效"
            ),
        ),
    ] = None,
) -> Idempotency:
    if idempotency_key is None:
        return Idempotency(request, response, account_id=identity.account_id, key=None, store=None)
    key = check_key(idempotency_key)
    return Idempotency(
        request, response, account_id=identity.account_id, key=key, store=await _store(request)
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
