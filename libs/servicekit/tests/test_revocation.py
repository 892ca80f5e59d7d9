"""servicekit.revocation: the check every service makes (against a stand-in for its collection)."""

from __future__ import annotations

from typing import Any

import pytest
from servicekit.auth import Identity, Role, TokenCodec
from servicekit.revocation import COLLECTION, RevocationView, TokenRevoked, token_version


class FakeCursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def __aiter__(self) -> FakeCursor:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if not self.docs:
            raise StopAsyncIteration
        return self.docs.pop(0)


class FakeCollection:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.reads = 0

    def find(self, query: dict[str, Any]) -> FakeCursor:
        self.reads += 1
        ids = query["_id"]["$in"]
        return FakeCursor([dict(self.docs[i]) for i in ids if i in self.docs])


class FakeDb:
    def __init__(self) -> None:
        self.collection = FakeCollection()

    def __getitem__(self, name: str) -> FakeCollection:
        assert name == COLLECTION
        return self.collection


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_version_claim() -> None:
    codec = TokenCodec("k" * 40, "iss")
    _, claims = codec.decode(codec.issue(Identity("a", Role.ADMIN), version=3))
    assert token_version(claims) == 3
    assert token_version({}) == 0  # tokens from before versions existed
    assert token_version({"ver": True}) == 0


async def test_versions_below_the_accounts_and_logged_out_tokens_are_refused() -> None:
    db, clock = FakeDb(), Clock()
    view = RevocationView("svc", cache_seconds=0, clock=clock)
    await view.ensure_valid(db, "acc", 0, "j1")  # nothing revoked
    db.collection.docs["account:acc"] = {"_id": "account:acc", "min_version": 2}
    db.collection.docs["jti:j9"] = {"_id": "jti:j9"}
    with pytest.raises(TokenRevoked) as caught:
        await view.ensure_valid(db, "acc", 1, "j1")
    assert (
        caught.value.status == 401
        and caught.value.code == "token_revoked"
        and "重新登录" in caught.value.message
    )
    await view.ensure_valid(db, "acc", 2, "j1")
    with pytest.raises(TokenRevoked):
        await view.ensure_valid(db, "acc", 5, "j9")
    await view.ensure_valid(db, "other", 0, None)


async def test_the_cache_is_bounded_in_time() -> None:
    db, clock = FakeDb(), Clock()
    view = RevocationView("svc", cache_seconds=1.0, clock=clock)
    await view.ensure_valid(db, "acc", 0, "j1")
    db.collection.docs["account:acc"] = {"_id": "account:acc", "min_version": 1}
    await view.ensure_valid(db, "acc", 0, "j1")  # still cached
    assert db.collection.reads == 1
    clock.now += 1.0
    with pytest.raises(TokenRevoked):
        await view.ensure_valid(db, "acc", 0, "j1")
    assert db.collection.reads == 2
