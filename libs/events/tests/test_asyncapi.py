"""The generated AsyncAPI document: every type and topic present, every $ref resolvable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from events import DomainEvent, EventRegistry, event, registry
from events.asyncapi import TITLE, build_document, main


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolvable {ref}"
        node = node[part]
    return node


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document()


def test_header(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == TITLE == "浙江施工现场专业人员证书平台 domain events"
    assert document["info"]["version"]
    assert document["defaultContentType"] == "application/json"
    json.dumps(document)  # serialisable


def test_every_topic_has_a_channel_and_a_dead_letter_channel(document: dict[str, Any]) -> None:
    addresses = {channel["address"] for channel in document["channels"].values()}
    topics = registry.topics()
    assert addresses == set(topics) | {f"{topic}.dlq" for topic in topics}
    for topic in topics:
        assert "dead letter" in document["channels"][f"{topic}.dlq"]["description"].lower()


def test_every_type_has_a_message(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    assert set(messages) == {model.type_name() for model in registry.public_models()}
    for model in registry.public_models():
        type_name = model.type_name()
        message = messages[type_name]
        assert message["name"] == type_name
        assert message["title"]
        assert message["contentType"] == "application/json"
        headers = message["headers"]["properties"]
        assert headers["ce_type"]["const"] == type_name
        assert {"ce_id", "ce_source", "ce_time", "ce_subject", "ce_correlationid", "ce_causationid"} <= set(
            headers
        )
        assert set(message["payload"]["properties"]) == set(model.model_fields)
        assert set(message["payload"]["required"]) == {
            n for n, f in model.model_fields.items() if f.is_required()
        }
        channel_ref = {"$ref": f"#/components/messages/{type_name}"}
        assert document["channels"][model.topic()]["messages"][type_name] == channel_ref
        assert document["channels"][f"{model.topic()}.dlq"]["messages"][type_name] == channel_ref


def test_one_send_operation_per_topic(document: dict[str, Any]) -> None:
    operations = document["operations"]
    topics = {model.topic() for model in registry.public_models()}
    assert set(operations) == {f"{topic}.send" for topic in topics}
    for topic in topics:
        operation = operations[f"{topic}.send"]
        assert operation["action"] == "send"
        assert resolve(document, operation["channel"]["$ref"])["address"] == topic
        sent = {resolve(document, ref["$ref"])["$ref"] for ref in operation["messages"]}
        expected = {m.type_name() for m in registry.public_models() if m.topic() == topic}
        assert sent == {f"#/components/messages/{t}" for t in expected}


def test_internal_events_stay_out_of_the_document(document: dict[str, Any]) -> None:
    internal = event("testing", "KeptInside", public=False)(type("KeptInside", (DomainEvent,), {}))
    try:
        assert internal.type_name() not in build_document()["components"]["messages"]
        assert internal.type_name() not in {m.type_name() for m in registry.public_models()}
    finally:
        registry._models.pop(internal.type_name())


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    found = list(refs(document))
    assert any(ref.startswith("#/components/schemas/") for ref in found)
    for ref in found:
        resolve(document, ref)
    assert "$defs" not in json.dumps(document)
    assert {"UploadedDocument", "ReviewCheck", "OrderLine"} <= set(document["components"]["schemas"])


def test_nested_name_clash_gets_distinct_schemas() -> None:
    from pydantic import create_model

    ItemA = create_model("Item", a=(int, ...))
    ItemB = create_model("Item", b=(str, ...))
    fresh = EventRegistry()

    @fresh.event("alpha", "Happened")
    class AlphaHappened(DomainEvent):
        items: list[ItemA]

    @fresh.event("beta", "Happened")
    class BetaHappened(DomainEvent):
        item: ItemB

    document = build_document(fresh)
    for ref in refs(document):
        resolve(document, ref)
    assert set(document["components"]["schemas"]) == {"Item", "beta.Item"}
    alpha = document["components"]["messages"]["alpha.Happened.v1"]["payload"]
    beta = document["components"]["messages"]["beta.Happened.v1"]["payload"]
    assert "a" in resolve(document, alpha["properties"]["items"]["items"]["$ref"])["properties"]
    assert "b" in resolve(document, beta["properties"]["item"]["$ref"])["properties"]


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert json.loads(capsys.readouterr().out) == build_document()
    target = tmp_path / "docs" / "asyncapi.json"
    assert main(["-o", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert "浙江施工现场专业人员证书平台" in text
    assert json.loads(text) == build_document()
