"""The AsyncAPI 3.0 document of every topic and event, generated from the registered models.

CLI: `python -m events.asyncapi [-o PATH]` (JSON; stdout by default).
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


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m events.asyncapi", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    args = parser.parse_args(argv)
    text = json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
