"""The reference receiver (examples/webhook_receiver) accepts what the gateway signs, refuses anything else,
and keeps each event once."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway.feeds.domain.messages import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_PREFIX,
    TIMESTAMP_HEADER,
    body_of,
)
from servicekit.signing import signed_headers

APP = Path(__file__).resolve().parents[3] / "examples" / "webhook_receiver" / "app.py"
SECRET = "s" * 40


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("RECEIVER_SECRET", SECRET)
    monkeypatch.setenv("RECEIVER_DB", str(tmp_path / "events.sqlite3"))
    spec = importlib.util.spec_from_file_location("webhook_receiver_app", APP)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return TestClient(module.create_app())


def delivery(event_id: str, cursor: int, *, secret: str = SECRET, at: int | None = None) -> tuple[bytes, Any]:
    body = body_of({"cursor": str(cursor), "id": event_id, "type": "t.E.v1", "data": {"x": 1}})
    headers = signed_headers(
        secret, body, timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER, timestamp=at
    )
    headers[SIGNATURE_HEADER] = SIGNATURE_PREFIX + headers[SIGNATURE_HEADER]
    return body, {
        **headers,
        EVENT_ID_HEADER: event_id,
        ATTEMPT_HEADER: "1",
        "Content-Type": "application/json",
    }


def test_stores_each_event_once(receiver: TestClient) -> None:
    body, headers = delivery("e1", 1)
    first = receiver.post("/webhook", content=body, headers=headers)
    assert first.status_code == 200 and first.json() == {"stored": True, "duplicate": False}
    again = receiver.post("/webhook", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    body2, headers2 = delivery("e2", 2)
    assert receiver.post("/webhook", content=body2, headers=headers2).status_code == 200
    listed = receiver.get("/events").json()
    assert [e["id"] for e in listed["events"]] == ["e1", "e2"] and listed["duplicates"] == 1
    assert [e["id"] for e in receiver.get("/events", params={"after": 1}).json()["events"]] == ["e2"]


def test_refuses_bad_signatures_and_stale_timestamps(receiver: TestClient) -> None:
    body, headers = delivery("e1", 1, secret="x" * 40)
    assert receiver.post("/webhook", content=body, headers=headers).status_code == 401
    body, headers = delivery("e1", 1, at=int(time.time()) - 600)
    assert receiver.post("/webhook", content=body, headers=headers).status_code == 401
    body, headers = delivery("e1", 1)
    tampered = body.replace(b'"x":1', b'"x":2')
    assert receiver.post("/webhook", content=tampered, headers=headers).status_code == 401
    missing = {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}
    assert receiver.post("/webhook", content=body, headers=missing).status_code == 401
    wrong_id = {**headers, EVENT_ID_HEADER: "other"}
    assert receiver.post("/webhook", content=body, headers=wrong_id).status_code == 400
    assert receiver.get("/events").json()["events"] == []
    assert json.loads(body)["id"] == "e1"
