"""A back office's webhook receiver for the platform's event feed (a reference to copy: FastAPI + stdlib).

It checks every delivery the way the platform signs it — `X-Webhook-Timestamp: <unix seconds>` and
`X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>`, the timestamp within
`RECEIVER_TOLERANCE_SECONDS` of this machine's clock — stores each event once (keyed by its id: the platform
delivers at least once, and a replay sends the same id again) in a SQLite file, and answers 2xx only once the
event is stored, so that the platform retries anything this receiver did not keep.

Settings (environment):
    RECEIVER_SECRET             the secret given when the endpoint was registered (required, ≥ 32 characters)
    RECEIVER_DB                 the SQLite file (default: events.sqlite3 in the working directory)
    RECEIVER_TOLERANCE_SECONDS  how old (or new) a timestamp may be (default 300)
    RECEIVER_READ_TOKEN         if set, GET /events requires `Authorization: Bearer <token>`

Run: `RECEIVER_SECRET=… uvicorn app:app --port 9000` and register https://<host>/webhook on the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
from contextlib import closing
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Query, Request

SIGNATURE_PREFIX = "sha256="
MIN_SECRET_LENGTH = 32


class Settings:
    def __init__(self) -> None:
        self.secret = os.environ.get("RECEIVER_SECRET", "")
        if len(self.secret) < MIN_SECRET_LENGTH:
            raise RuntimeError("RECEIVER_SECRET must be set (at least 32 characters)")
        self.db_path = os.environ.get("RECEIVER_DB", "events.sqlite3")
        self.tolerance = int(os.environ.get("RECEIVER_TOLERANCE_SECONDS", "300"))
        self.read_token = os.environ.get("RECEIVER_READ_TOKEN", "")


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_signature(
    secret: str, body: bytes, timestamp: str | None, signature: str | None, tolerance: int, now: float
) -> None:
    """Raise 401 unless the signature matches and the timestamp is fresh."""
    if not timestamp or not signature:
        raise HTTPException(401, "missing X-Webhook-Timestamp or X-Webhook-Signature")
    if not timestamp.strip().isdigit():
        raise HTTPException(401, "malformed timestamp")
    wanted = expected_signature(secret, timestamp.strip(), body)
    if not hmac.compare_digest(wanted, signature.strip().lower()):
        raise HTTPException(401, "signature mismatch")
    if abs(now - int(timestamp)) > tolerance:
        raise HTTPException(401, "timestamp outside the tolerance (replayed or delayed message)")


class Store:
    """Events kept once by id, in a SQLite file (one connection per call; a lock keeps writes serial)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, cursor INTEGER, type TEXT,"
                " time TEXT, received_at REAL, attempt INTEGER, body TEXT)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS duplicates (id TEXT, received_at REAL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def add(self, event: dict[str, Any], body: bytes, attempt: int) -> bool:
        """Store the event; False when its id was stored before (a duplicate, recorded as such)."""
        with self.lock, closing(self._connect()) as db, db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO events (id, cursor, type, time, received_at, attempt, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(event["id"]),
                    int(event.get("cursor") or 0),
                    str(event.get("type", "")),
                    str(event.get("time", "")),
                    time.time(),
                    attempt,
                    body.decode(),
                ),
            ).rowcount
            if not inserted:
                db.execute(
                    "INSERT INTO duplicates (id, received_at) VALUES (?, ?)", (event["id"], time.time())
                )
            return bool(inserted)

    def list(self, after: int, limit: int) -> list[dict[str, Any]]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT body, received_at, attempt FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?",
                (after, limit),
            ).fetchall()
        return [{**json.loads(body), "received_at": at, "attempt": attempt} for body, at, attempt in rows]

    def duplicates(self) -> int:
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM duplicates").fetchone()[0])


def create_app(settings: Settings | None = None) -> FastAPI:
    config = settings or Settings()
    store = Store(config.db_path)
    app = FastAPI(title="Webhook receiver (reference)")

    @app.post("/webhook")
    async def receive(
        request: Request,
        x_webhook_timestamp: str | None = Header(default=None),
        x_webhook_signature: str | None = Header(default=None),
        x_webhook_id: str | None = Header(default=None),
        x_webhook_attempt: str | None = Header(default=None),
    ) -> dict[str, Any]:
        body = await request.body()  # the raw bytes: the signature covers exactly these
        check_signature(
            config.secret, body, x_webhook_timestamp, x_webhook_signature, config.tolerance, time.time()
        )
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise HTTPException(400, "body is not JSON") from exc
        if not isinstance(event, dict) or not event.get("id") or event.get("id") != x_webhook_id:
            raise HTTPException(400, "event id missing or different from X-Webhook-Id")
        attempt_text = x_webhook_attempt or ""
        attempt = int(attempt_text) if attempt_text.isdigit() else 1
        stored = store.add(event, body, attempt)
        return {"stored": stored, "duplicate": not stored}

    @app.get("/events")
    async def events(
        after: int = Query(default=0, ge=0),
        limit: int = Query(default=500, ge=1, le=5000),
        authorization: str | None = Header(default=None),
    ) -> dict[str, Any]:
        if config.read_token and authorization != f"Bearer {config.read_token}":
            raise HTTPException(401, "a bearer token is required")
        return {"events": store.list(after, limit), "duplicates": store.duplicates()}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def __getattr__(name: str) -> Any:
    """`uvicorn app:app`: the app is built on first access (settings read then, not at import)."""
    if name == "app":
        built = create_app()
        globals()["app"] = built
        return built
    raise AttributeError(name)
