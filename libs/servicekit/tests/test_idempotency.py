"""The Idempotency-Key store and dependency: first request, retry, another body with the same key, a request
still running, an expired key, a key too long, a lost claim, a failed request; scoped by account and route.
Unit tests on an in-memory collection; the same store once on the real MongoDB (integration)."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, File, Form, UploadFile
from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError
from servicekit.app import install_error_handlers
from servicekit.auth import Identity, Role, TokenCodec, require_roles
from servicekit.errors import DomainError
from servicekit.idempotency import (
    COLLECTION,
    REPLAYED_HEADER,
    Answer,
    IdempotencyDep,
    IdempotencyStore,
    fingerprint,
)
from servicekit.mongo import create_client
from servicekit.testing import unique_name

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class FakeCollection:
    """Just enough of a MongoDB collection for the store: `_id` unique, equality and $lt/$lte/$gt/$gte."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.indexes: list[tuple[Any, dict[str, Any]]] = []

    @staticmethod
    def _matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
        for field, expected in query.items():
            value = doc.get(field)
            if isinstance(expected, dict):
                ops = {"$lt": "__lt__", "$lte": "__le__", "$gt": "__gt__", "$gte": "__ge__"}
                if value is None or not all(getattr(value, ops[op])(arg) for op, arg in expected.items()):
                    return False
            elif value != expected:
                return False
        return True

    async def insert_one(self, document: Any) -> Any:
        if document["_id"] in self.docs:
            raise DuplicateKeyError("E11000 duplicate key")
        self.docs[document["_id"]] = copy.deepcopy(document)
        return SimpleNamespace(inserted_id=document["_id"])

    async def find_one(self, filter: Any) -> Any:
        found = [d for d in self.docs.values() if self._matches(d, filter)]
        return copy.deepcopy(found[0]) if found else None

    async def update_one(self, filter: Any, update: Any) -> Any:
        for doc in self.docs.values():
            if self._matches(doc, filter):
                doc.update(copy.deepcopy(update.get("$set", {})))
                return SimpleNamespace(matched_count=1)
        return SimpleNamespace(matched_count=0)

    async def delete_one(self, filter: Any) -> Any:
        for rid, doc in list(self.docs.items()):
            if self._matches(doc, filter):
                del self.docs[rid]
                return SimpleNamespace(deleted_count=1)
        return SimpleNamespace(deleted_count=0)

    async def create_index(self, keys: Any, **kwargs: Any) -> Any:
        self.indexes.append((keys, kwargs))
        return str(keys)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def make_store(collection: Any = None) -> tuple[IdempotencyStore, Clock]:
    clock = Clock()
    store = IdempotencyStore(
        collection if collection is not None else FakeCollection(),
        ttl=timedelta(hours=24),
        lease=timedelta(minutes=5),
        clock=clock,
    )
    return store, clock


def code_of(exc: pytest.ExceptionInfo[DomainError]) -> tuple[int, str]:
    return exc.value.status, exc.value.code


ROUTE = "POST /api/payment/orders"


async def test_first_request_claims_and_a_retry_gets_its_answer() -> None:
    store, _ = make_store()
    first = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    assert first.owner and first.answer is None
    assert await store.complete(first, Answer(201, {"order_id": "o-1"}))
    again = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    assert again.owner is None and again.answer == Answer(201, {"order_id": "o-1"})


async def test_same_key_with_another_body_is_refused() -> None:
    store, _ = make_store()
    claim = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    await store.complete(claim, Answer(201, {"order_id": "o-1"}))
    with pytest.raises(DomainError) as refused:
        await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h2")
    assert code_of(refused) == (422, "idempotency_key_reused")
    assert "Idempotency-Key" in refused.value.message


async def test_a_request_still_running_answers_409_and_its_lease_ends() -> None:
    store, clock = make_store()
    first = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    with pytest.raises(DomainError) as busy:
        await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    assert code_of(busy) == (409, "idempotency_in_progress") and "处理中，请稍后重试" in busy.value.message
    with pytest.raises(DomainError) as reused:  # another body is refused even while the first runs
        await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h2")
    assert code_of(reused) == (422, "idempotency_key_reused")
    # the first request's process died: after its lease a retry takes the key over, the first one lost it
    clock.now = T0 + timedelta(minutes=5, seconds=1)
    retry = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    assert retry.owner and retry.owner != first.owner
    assert not await store.complete(first, Answer(201, {"order_id": "late"}))
    assert await store.complete(retry, Answer(201, {"order_id": "o-2"}))
    replay = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    assert replay.answer == Answer(201, {"order_id": "o-2"})


async def test_an_expired_key_is_a_new_key() -> None:
    collection = FakeCollection()
    store, clock = make_store(collection)
    await store.ensure_indexes()
    assert collection.indexes == [("expires_at", {"expireAfterSeconds": 0})]
    claim = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    await store.complete(claim, Answer(201, {"order_id": "o-1"}))
    clock.now = T0 + timedelta(hours=23, minutes=59)
    assert (await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")).answer
    clock.now = T0 + timedelta(hours=24)  # not yet removed by the server's TTL monitor: ignored anyway
    fresh = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h2")
    assert fresh.owner and fresh.answer is None


async def test_keys_longer_than_200_characters_are_refused() -> None:
    store, _ = make_store()
    with pytest.raises(DomainError) as refused:
        await store.begin(account_id="acc-1", route=ROUTE, key="k" * 201, request_hash="h1")
    assert code_of(refused) == (422, "idempotency_key_too_long")
    with pytest.raises(DomainError) as empty:
        await store.begin(account_id="acc-1", route=ROUTE, key="  ", request_hash="h1")
    assert code_of(empty) == (422, "idempotency_key_invalid")
    assert (await store.begin(account_id="acc-1", route=ROUTE, key="k" * 200, request_hash="h1")).owner


async def test_a_failed_request_frees_its_key_and_keys_are_per_account_and_route() -> None:
    store, _ = make_store()
    claim = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
    await store.release(claim)
    assert (await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h2")).owner
    # the same key of another account, or on another route, is another key
    assert (await store.begin(account_id="acc-2", route=ROUTE, key="k1", request_hash="h9")).owner
    assert (await store.begin(account_id="acc-1", route="POST /other", key="k1", request_hash="h9")).owner


def test_fingerprint_is_canonical_and_counts_bytes() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": (1, 2), "a": 1})
    assert fingerprint({"file": b"abc"}) != fingerprint({"file": b"abd"})
    assert fingerprint({"a": 1}) != fingerprint({"a": "1"})


# ---------------------------------------------------------------------------- the dependency in a FastAPI app


class Body(BaseModel):
    name: str


SECRET = "s" * 48
Enterprise = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]


def build_app(store: IdempotencyStore, calls: list[str], *, gate: asyncio.Event | None = None) -> FastAPI:
    app = FastAPI()
    app.state.token_codec = TokenCodec(SECRET, "zj-cert-gateway")
    app.state.idempotency_store = store
    install_error_handlers(app)
    router = APIRouter()

    @router.post("/things", status_code=201)
    async def create(body: Body, identity: Enterprise, idem: IdempotencyDep) -> dict[str, Any]:
        async def work() -> dict[str, Any]:
            if gate is not None:
                await gate.wait()
            if body.name == "boom":
                raise DomainError("不行", code="refused")
            calls.append(body.name)
            return {"thing_id": f"t-{len(calls)}", "at": T0}

        return await idem.run(body, work)

    @router.post("/things/{thing_id}/files", status_code=202)
    async def upload(
        thing_id: str,
        identity: Enterprise,
        idem: IdempotencyDep,
        note: Annotated[str, Form()],
        file: Annotated[UploadFile, File()],
    ) -> dict[str, Any]:
        data = await file.read()

        async def work() -> dict[str, Any]:
            calls.append(f"{thing_id}:{note}:{len(data)}")
            return {"upload": len(calls)}

        return await idem.run({"note": note, "file": data}, work)

    app.include_router(router)
    return app


def token(account_id: str = "acc-1") -> dict[str, str]:
    identity = Identity(account_id, Role.ENTERPRISE, org_id="ent-1")
    return {"Authorization": f"Bearer {TokenCodec(SECRET, 'zj-cert-gateway').issue(identity)}"}


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_dependency_replays_the_first_answer() -> None:
    store, _ = make_store()
    calls: list[str] = []
    async with client(build_app(store, calls)) as api:
        headers = {**token(), "Idempotency-Key": "order-2026-0001"}
        first = await api.post("/things", json={"name": "a"}, headers=headers)
        again = await api.post("/things", json={"name": "a"}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json() == {"thing_id": "t-1", "at": "2026-03-01T08:00:00Z"}
        assert REPLAYED_HEADER not in first.headers and again.headers[REPLAYED_HEADER] == "true"
        assert calls == ["a"]

        reused = await api.post("/things", json={"name": "b"}, headers=headers)
        assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
        too_long = await api.post(
            "/things", json={"name": "b"}, headers={**token(), "Idempotency-Key": "x" * 201}
        )
        assert too_long.status_code == 422 and too_long.json()["code"] == "idempotency_key_too_long"
        # another account's same key is its own
        other = await api.post(
            "/things", json={"name": "a"}, headers={**token("acc-2"), "Idempotency-Key": "order-2026-0001"}
        )
        assert other.status_code == 201 and other.json()["thing_id"] == "t-2"
        # without the header nothing changes
        for _ in range(2):
            assert (await api.post("/things", json={"name": "a"}, headers=token())).status_code == 201
        assert calls == ["a", "a", "a", "a"]
        # a refused request keeps nothing: the key can be sent again
        boom = {**token(), "Idempotency-Key": "boom-1"}
        assert (await api.post("/things", json={"name": "boom"}, headers=boom)).json()["code"] == "refused"
        assert (await api.post("/things", json={"name": "boom"}, headers=boom)).json()["code"] == "refused"


async def test_the_dependency_hashes_form_fields_and_file_bytes() -> None:
    store, _ = make_store()
    calls: list[str] = []
    async with client(build_app(store, calls)) as api:
        headers = {**token(), "Idempotency-Key": "upload-1"}

        async def send(note: str, data: bytes, thing: str = "x") -> httpx.Response:
            return await api.post(
                f"/things/{thing}/files",
                data={"note": note},
                files={"file": ("a.jpg", data)},
                headers=headers,
            )

        first, again = await send("n", b"123"), await send("n", b"123")  # new multipart boundary each time
        assert first.status_code == again.status_code == 202 and first.json() == again.json() == {"upload": 1}
        assert (await send("n", b"124")).json()["code"] == "idempotency_key_reused"
        assert (await send("m", b"123")).json()["code"] == "idempotency_key_reused"
        assert (await send("n", b"123", thing="y")).json()["code"] == "idempotency_key_reused"  # another path
        assert calls == ["x:n:3"]


async def test_a_concurrent_retry_answers_409_while_the_first_runs() -> None:
    store, _ = make_store()
    calls: list[str] = []
    gate = asyncio.Event()
    async with client(build_app(store, calls, gate=gate)) as api:
        headers = {**token(), "Idempotency-Key": "slow-1"}
        first = asyncio.create_task(api.post("/things", json={"name": "a"}, headers=headers))
        await asyncio.sleep(0.05)
        busy = await api.post("/things", json={"name": "a"}, headers=headers)
        assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_progress"
        gate.set()
        assert (await first).status_code == 201
        assert (await api.post("/things", json={"name": "a"}, headers=headers)).json()["thing_id"] == "t-1"
        assert calls == ["a"]


# ------------------------------------------------------------------------------------ on the real MongoDB


@pytest.mark.integration
async def test_store_on_mongodb(stack_env: dict[str, str]) -> None:
    mongo = create_client(stack_env["MONGO_URL"])
    try:
        collection = mongo[unique_name("idem")][COLLECTION]
        store, clock = make_store(collection)
        clock.now = datetime.now(UTC)
        await store.ensure_indexes()
        indexes = await collection.index_information()
        assert any(spec.get("expireAfterSeconds") == 0 for spec in indexes.values())

        first = await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
        with pytest.raises(DomainError) as busy:
            await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")
        assert busy.value.code == "idempotency_in_progress"
        assert await store.complete(first, Answer(201, {"order_id": "o-1", "名称": "订单"}))
        assert (await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h1")).answer == (
            Answer(201, {"order_id": "o-1", "名称": "订单"})
        )
        with pytest.raises(DomainError) as reused:
            await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h2")
        assert reused.value.code == "idempotency_key_reused"
        clock.now += timedelta(hours=25)
        assert (await store.begin(account_id="acc-1", route=ROUTE, key="k1", request_hash="h2")).owner
        assert await collection.count_documents({}) == 1
    finally:
        await mongo.close()
