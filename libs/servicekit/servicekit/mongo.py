"""MongoDB adapter: one client per process, one database per service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError

T = TypeVar("T")

Document = dict[str, Any]
Session = AsyncClientSession
Database = AsyncDatabase[Document]
Collection = AsyncCollection[Document]


def create_client(url: str) -> AsyncMongoClient[Document]:
    """A client with timeouts suited to request handling (tz-aware datetimes)."""
    return AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=10_000, uuidRepresentation="standard"
    )


async def in_transaction(
    client: AsyncMongoClient[Document],
    work: Callable[[Session], Awaitable[T]],
    *,
    attempts: int = 5,
    commit_attempts: int = 5,
) -> T:
    """Run `work` in a transaction.

    A transient transaction error (a write conflict, a failover) before the commit runs `work` again, a
    bounded number of times. An unknown commit result (the commit may or may not have happened: a network
    error on the answer) retries *only the commit*, which the server answers from the first one if it did
    happen — `work` never runs twice for a transaction that committed.
    """
    last: PyMongoError | None = None
    for _ in range(attempts):
        async with client.start_session() as session:
            try:
                await session.start_transaction()
                result = await work(session)
            except (ConnectionFailure, OperationFailure) as exc:
                if session.in_transaction:
                    await session.abort_transaction()
                if exc.has_error_label("TransientTransactionError"):
                    last = exc
                    continue
                raise
            except BaseException:
                if session.in_transaction:
                    await session.abort_transaction()
                raise
            committed = await _commit(session, commit_attempts)
            if committed is None:
                return result
            last = committed  # the commit failed for good with a transient error: run the whole work again
    assert last is not None
    raise last


async def _commit(session: Session, attempts: int) -> PyMongoError | None:
    """Commit, retrying only the commit on an unknown result; None when committed, or the transient error
    that aborted the transaction (raises anything else)."""
    for attempt in range(1, attempts + 1):
        try:
            await session.commit_transaction()
            return None
        except (ConnectionFailure, OperationFailure) as exc:
            if exc.has_error_label("UnknownTransactionCommitResult") and attempt < attempts:
                continue
            if exc.has_error_label("TransientTransactionError"):
                return exc
            raise
    raise AssertionError("unreachable")


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")


def is_duplicate_key(exc: BulkWriteError) -> bool:
    """A bulk write that failed only on unique indexes (E11000)."""
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") == 11000 for e in errors)


def without_id(doc: Document, id_field: str) -> Document:
    """A read-model document for an API answer: `_id` renamed to `id_field`."""
    return {id_field: doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}
