"""The AsyncAPI document describes what a feed subscriber receives, in the names the gateway really uses."""

from __future__ import annotations

import json
from typing import Any

from events.asyncapi import FEED_MESSAGE, FEED_TOPICS, WEBHOOK_HEADERS, build_document, main, with_feeds
from gateway.feeds.application.appender import FEED_TOPICS as GATEWAY_FEED_TOPICS
from gateway.feeds.application.appender import feed_models
from gateway.feeds.domain import messages
from servicekit.auth import Role


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_the_kafka_contract_is_unchanged_and_the_feed_added() -> None:
    kafka = build_document()
    full = with_feeds(kafka)
    for name, channel in kafka["channels"].items():
        assert full["channels"][name] == channel
    assert set(full["channels"]) - set(kafka["channels"]) == {"feeds.stream", "feeds.webhook"}
    assert set(full["operations"]) - set(kafka["operations"]) == {"feeds.stream.send", "feeds.webhook.send"}
    for ref in refs(full):
        resolve(full, ref)
    json.dumps(full)


def test_the_feed_message_names_what_the_gateway_sends() -> None:
    assert set(FEED_TOPICS) == set(GATEWAY_FEED_TOPICS)
    message = with_feeds(build_document())["components"]["messages"][FEED_MESSAGE]
    assert set(message["payload"]["properties"]["type"]["enum"]) == {m.type_name() for m in feed_models()}
    headers = {
        messages.EVENT_ID_HEADER,
        messages.TIMESTAMP_HEADER,
        messages.SIGNATURE_HEADER,
        messages.EVENT_TYPE_HEADER,
        messages.CURSOR_HEADER,
        messages.DELIVERY_HEADER,
        messages.ATTEMPT_HEADER,
    }
    assert set(WEBHOOK_HEADERS) == headers == set(message["headers"]["properties"])
    entry = {"_id": 1, "event_id": "e", "type": "t", "source": "/s", "time": "x", "subject": "s", "data": {}}
    assert set(messages.feed_message(entry, Role.ADMIN)) == set(message["payload"]["properties"])
    assert set(message["payload"]["required"]) == set(message["payload"]["properties"])


def test_cli_with_feeds(tmp_path: Any) -> None:
    target = tmp_path / "asyncapi.json"
    assert main(["--with-feeds", "-o", str(target)]) == 0
    assert "feeds.webhook" in json.loads(target.read_text(encoding="utf-8"))["channels"]
