"""The AsyncAPI 3.0 document of every topic and event, generated from the registered models.

`build_document()` is the Kafka contract (one channel per topic and its dead letters). `with_feeds(document)`
adds what a back office receives from the gateway's event feed (docs/feeds-webhooks.md): the same events,
wrapped in a feed envelope with a cursor and masked per receiver, as Server-Sent Events or as signed webhook
POSTs. `docs/asyncapi.json` holds both.

CLI: `python -m events.asyncapi [-o PATH] [--with-feeds]` (JSON; stdout by default; `make asyncapi` writes
docs/asyncapi.json with the feeds).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from events.base import DomainEvent
from events.envelope import CONTENT_TYPE, SPEC_VERSION
from events.registry import EventRegistry, registry

TITLE = "浙江施工现场专业人员证书平台 domain events"
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
DLQ_SUFFIX = ".dlq"
DLQ_HEADERS = (
    "dlq_error",
    "dlq_group",
    "dlq_attempts",
    "dlq_original_topic",
    "dlq_original_partition",
    "dlq_original_offset",
    "dlq_failed_at",
)
Schema = dict[str, Any]


def _pointer_escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _package_version() -> str:
    try:
        return metadata.version("events")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _summary(model: type[DomainEvent]) -> str:
    doc = (model.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else model.event_name


def headers_schema(type_name: str) -> Schema:
    """The CloudEvents binary-mode Kafka headers of one event type."""
    return {
        "type": "object",
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_type",
            "ce_source",
            "ce_time",
            "ce_subject",
            "content-type",
        ],
        "properties": {
            "ce_specversion": {
                "type": "string",
                "const": SPEC_VERSION,
                "description": "CloudEvents version.",
            },
            "ce_id": {
                "type": "string",
                "description": "Event id, unique per source; consumers de-duplicate on it.",
            },
            "ce_type": {"type": "string", "const": type_name, "description": "Event type name."},
            "ce_source": {"type": "string", "description": "The producing service."},
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When it happened (RFC 3339, UTC).",
            },
            "ce_subject": {"type": "string", "description": "Aggregate id; equal to the Kafka key."},
            "ce_correlationid": {
                "type": "string",
                "description": "Id of the request or flow this event belongs to.",
            },
            "ce_causationid": {
                "type": "string",
                "description": "Id of the command or event that caused this one.",
            },
            "content-type": {"type": "string", "const": CONTENT_TYPE},
        },
    }


def _rewrite_refs(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite_refs(value, mapping) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref in mapping:
            out["$ref"] = mapping[ref]
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, mapping) for item in node]
    return node


def _payload(model: type[DomainEvent], schemas: dict[str, Schema], raw: dict[str, Schema]) -> Schema:
    """The model's JSON Schema with its `$defs` moved into `schemas` (renamed on a clash)."""
    schema = model.model_json_schema()
    defs: dict[str, Schema] = schema.pop("$defs", {})
    chosen: dict[str, str] = {}
    for name, body in defs.items():
        candidates = [name, f"{model.context}.{name}", f"{model.type_name()}.{name}"]
        chosen[name] = next(c for c in candidates if c not in raw or raw[c] == body)
        raw[chosen[name]] = body
    mapping = {
        f"#/$defs/{name}": f"#/components/schemas/{_pointer_escape(target)}"
        for name, target in chosen.items()
    }
    for name, body in defs.items():
        schemas[chosen[name]] = _rewrite_refs(body, mapping)
    result: Schema = _rewrite_refs(schema, mapping)
    return result


def _message(model: type[DomainEvent], schemas: dict[str, Schema], raw: dict[str, Schema]) -> Schema:
    type_name = model.type_name()
    return {
        "name": type_name,
        "title": f"{model.event_name} v{model.version}",
        "summary": _summary(model),
        "contentType": CONTENT_TYPE,
        "headers": headers_schema(type_name),
        "payload": _payload(model, schemas, raw),
        "correlationId": {
            "description": "Correlation id of the flow.",
            "location": "$message.header#/ce_correlationid",
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "Aggregate id (= ce_subject): keeps its events in order.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def build_document(events_registry: EventRegistry = registry) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document: one channel per topic plus its dead-letter channel."""
    schemas: dict[str, Schema] = {}
    raw: dict[str, Schema] = {}
    messages: dict[str, Schema] = {}
    by_topic: dict[str, list[type[DomainEvent]]] = {}
    for model in events_registry.public_models():
        messages[model.type_name()] = _message(model, schemas, raw)
        by_topic.setdefault(model.topic(), []).append(model)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, models in sorted(by_topic.items()):
        context = models[0].context
        refs = {
            m.type_name(): {"$ref": f"#/components/messages/{_pointer_escape(m.type_name())}"} for m in models
        }
        channels[topic] = {
            "address": topic,
            "title": f"{context} events",
            "description": f"Domain events of the {context} context, keyed by aggregate id.",
            "messages": refs,
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        dlq = f"{topic}{DLQ_SUFFIX}"
        channels[dlq] = {
            "address": dlq,
            "title": f"{context} dead letters",
            "description": (
                f"Dead letters of `{topic}`: records a consumer gave up on after bounded retries, "
                f"unchanged, with the error in extra headers ({', '.join(DLQ_HEADERS)}). "
                "They can be listed and replayed."
            ),
            "messages": dict(refs),
            "bindings": {"kafka": {"topic": dlq, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        channel_ref = f"#/channels/{_pointer_escape(topic)}"
        operations[f"{topic}.send"] = {
            "action": "send",
            "title": f"Publish to {topic}",
            "summary": f"The {context} context publishes its integration events here (via its outbox relay).",
            "channel": {"$ref": channel_ref},
            "messages": [
                {"$ref": f"{channel_ref}/messages/{_pointer_escape(m.type_name())}"} for m in models
            ],
        }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": _package_version(),
            "description": (
                "Every integration event of the platform (internal events never leave their service). "
                "CloudEvents 1.0 in Kafka binary mode: attributes in `ce_*` headers, the event's data as the "
                "JSON value, the aggregate id as the key."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded local stack (`make run`).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


# What a subscriber of the gateway's feed receives (gateway.feeds; the names are checked against it there).
FEED_TOPICS = (
    "registration.events",
    "enrollment.events",
    "payment.events",
    "exam.events",
    "certification.events",
)
FEED_MESSAGE = "feeds.FeedEvent"
WEBHOOK_HEADERS: dict[str, str] = {
    "X-Webhook-Id": "The event id (= `id` in the body): de-duplicate on it (delivery is at least once).",
    "X-Webhook-Timestamp": "Unix seconds when this attempt was signed; refuse it when far from your clock.",
    "X-Webhook-Signature": (
        'sha256=<hex HMAC-SHA256(secret, "<X-Webhook-Timestamp>." + raw body)> with the secret given when '
        "the endpoint was registered."
    ),
    "X-Webhook-Event-Type": "The event type (= `type` in the body).",
    "X-Webhook-Cursor": "The event's sequence number in the feed log (= `cursor` in the body).",
    "X-Webhook-Delivery": "`<subscription id>:<cursor>`: the delivery (the same on every retry and replay).",
    "X-Webhook-Attempt": "1 for the first attempt, then 2, 3… (replays go on counting).",
}
MASKING_NOTE = (
    "`data` is the event's payload as the receiver's role may see it: storage coordinates (`bucket`, "
    "`key`, `object_key`, `*_bucket`, `*_key`, `evidence_keys`) are removed for everyone; a city authority "
    "sees staff ID numbers masked (`330106********0015`) and staff mobiles masked (`138****1111`); an "
    "institution sees other people's mobiles (an enterprise's contact, an invoice's phone) masked; the "
    "administrator sees everything."
)


def feed_message(document: dict[str, Any]) -> Schema:
    """The feed's envelope around any event of the five feed topics (its `data` is that event's payload)."""
    types = sorted(
        name
        for name, message in document["components"]["messages"].items()
        if any(
            f"#/components/messages/{_pointer_escape(name)}" == ref["$ref"]
            for topic in FEED_TOPICS
            for ref in document["channels"].get(topic, {}).get("messages", {}).values()
        )
    )
    return {
        "name": FEED_MESSAGE,
        "title": "Feed event",
        "summary": "One public event of the receiver's scope, with its cursor in the feed log.",
        "description": (
            "Sent by the gateway's feed to a back office (administrator: every event; a city authority: the "
            "events of its city's enterprises and their staff; an institution: those of its applicants, "
            "orders, sessions, certificates and offers). " + MASKING_NOTE
        ),
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "description": "Webhook deliveries only (a Server-Sent Event carries `id: <cursor>` and "
            "`event: <type>` instead).",
            "required": ["X-Webhook-Id", "X-Webhook-Timestamp", "X-Webhook-Signature"],
            "properties": {
                name: {"type": "string", "description": text} for name, text in WEBHOOK_HEADERS.items()
            },
        },
        "payload": {
            "type": "object",
            "required": ["cursor", "id", "type", "source", "time", "subject", "specversion", "data"],
            "properties": {
                "cursor": {
                    "type": "string",
                    "description": "Sequence number in the feed log (gap-free, in commit order).",
                },
                "id": {"type": "string", "description": "Event id (CloudEvents `id`)."},
                "type": {"type": "string", "enum": types, "description": "Event type name."},
                "source": {"type": "string", "description": "The producing service."},
                "time": {"type": "string", "format": "date-time", "description": "When it happened (UTC)."},
                "subject": {"type": "string", "description": "Aggregate id."},
                "specversion": {"type": "string", "const": SPEC_VERSION},
                "data": {
                    "description": "The event's payload (the message of its `type`), masked: " + MASKING_NOTE,
                    "oneOf": [
                        {"$ref": f"#/components/messages/{_pointer_escape(name)}/payload"} for name in types
                    ],
                },
            },
        },
    }


def with_feeds(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (from `build_document`) plus the gateway's feed: the SSE stream and webhook deliveries."""
    result = json.loads(json.dumps(document))
    result["servers"]["gateway"] = {
        "host": "127.0.0.1:8000",
        "protocol": "http",
        "pathname": "/api/feeds",
        "description": (
            "The gateway (`make run`; HTTPS in production). Authenticated with the platform's access tokens "
            "(an administrator, a city authority's reviewer account or an institution's account). The pull "
            "feed `GET /api/feeds/events?after=<cursor>&limit=&wait=` answers the same messages in pages."
        ),
    }
    result["servers"]["subscriber"] = {
        "host": "{host}",
        "protocol": "https",
        "description": "A back office's endpoint, registered with POST /api/feeds/webhooks.",
        "variables": {"host": {"description": "Host (and port) of the registered URL."}},
    }
    message_ref = {"$ref": f"#/components/messages/{_pointer_escape(FEED_MESSAGE)}"}
    result["components"]["messages"][FEED_MESSAGE] = feed_message(document)
    result["channels"]["feeds.stream"] = {
        "address": "/events/stream",
        "title": "Feed as Server-Sent Events",
        "description": (
            "text/event-stream: one message per event (`id:` = cursor, `event:` = type, `data:` = the JSON "
            "below), comment lines as heartbeats. Reconnect with `Last-Event-ID` (or `?after=`) to resume: "
            "nothing is lost or repeated past the cursor."
        ),
        "servers": [{"$ref": "#/servers/gateway"}],
        "messages": {FEED_MESSAGE: dict(message_ref)},
    }
    result["channels"]["feeds.webhook"] = {
        "address": None,
        "title": "Webhook deliveries",
        "description": (
            "An HTTP POST of one message to the registered URL, signed (see the headers). A 2xx answer is a "
            "delivery; anything else or no answer within the timeout is retried with exponential backoff, "
            "then the delivery is marked failed (it can be replayed) and the next event follows."
        ),
        "servers": [{"$ref": "#/servers/subscriber"}],
        "messages": {FEED_MESSAGE: dict(message_ref)},
    }
    for channel in ("feeds.stream", "feeds.webhook"):
        result["operations"][f"{channel}.send"] = {
            "action": "send",
            "title": f"The gateway sends on {channel}",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{_pointer_escape(FEED_MESSAGE)}"}],
        }
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m events.asyncapi", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    parser.add_argument(
        "--with-feeds", action="store_true", help="add the gateway's feed (SSE and webhooks) to the topics"
    )
    args = parser.parse_args(argv)
    document = with_feeds(build_document()) if args.with_feeds else build_document()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
