"""What a subscriber receives (pure): one feed entry as JSON, and the webhook headers.

    {"cursor": "42", "id": "<event id>", "type": "enrollment.ApplicantQualified.v1", "source": "/enrollment",
     "time": "2026-…Z", "subject": "<aggregate id>", "specversion": "1.0", "data": {… masked …}}

A webhook POSTs exactly these bytes with `X-Webhook-Id` (the event id: de-duplicate on it),
`X-Webhook-Timestamp` (unix seconds) and `X-Webhook-Signature` (`sha256=` + hex HMAC-SHA256 of
"<timestamp>." + body with the subscription's secret), plus `X-Webhook-Event-Type`, `X-Webhook-Cursor`,
`X-Webhook-Delivery` and `X-Webhook-Attempt`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from servicekit.auth import Role

from .audience import format_cursor
from .masking import mask_payload

EVENT_ID_HEADER = "X-Webhook-Id"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"
EVENT_TYPE_HEADER = "X-Webhook-Event-Type"
CURSOR_HEADER = "X-Webhook-Cursor"
DELIVERY_HEADER = "X-Webhook-Delivery"
ATTEMPT_HEADER = "X-Webhook-Attempt"
SIGNATURE_PREFIX = "sha256="


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def feed_message(entry: Mapping[str, Any], role: Role) -> dict[str, Any]:
    """One stored feed entry as a receiver of `role` gets it."""
    return {
        "cursor": format_cursor(int(entry["_id"])),
        "id": entry["event_id"],
        "type": entry["type"],
        "source": entry.get("source", ""),
        "time": _time(entry.get("time")),
        "subject": entry.get("subject", ""),
        "specversion": "1.0",
        "data": mask_payload(entry.get("data") or {}, role),
    }


def body_of(message: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
