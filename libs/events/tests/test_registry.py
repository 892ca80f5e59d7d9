"""The registry: lookup, topics, versions, upcasting (upcasters on a fresh registry, never the global one)."""

from __future__ import annotations

from typing import Any

import pytest
from events import (
    DomainEvent,
    DuplicateEventType,
    EventRegistry,
    ExamPassed,
    OrderPaid,
    UnknownEventType,
    registry,
)
from events.registry import parse_type_name


def test_model_for() -> None:
    assert registry.model_for("payment.OrderPaid.v1") is OrderPaid
    assert registry.model_for(ExamPassed.type_name()) is ExamPassed
    assert "payment.OrderPaid.v1" in registry


def test_unknown_type() -> None:
    with pytest.raises(UnknownEventType) as info:
        registry.model_for("payment.NoSuchEvent.v1")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "unknown event type 'payment.NoSuchEvent.v1'"
    with pytest.raises(UnknownEventType):
        registry.decode("payment.NoSuchEvent.v1", {})
    with pytest.raises(UnknownEventType):
        registry.latest_version("payment", "NoSuchEvent")


def test_topics() -> None:
    assert registry.topic_for("payment.OrderPaid.v1") == "payment.events"
    assert registry.topic_for("payment.OrderRefunded.v7") == "payment.events"  # unknown types too
    assert registry.topic_for("face.CheckRequested") == "face.events"
    with pytest.raises(ValueError):
        registry.topic_for("nodots")
    assert {
        "certification.events",
        "enrollment.events",
        "exam.events",
        "payment.events",
        "registration.events",
    } <= set(registry.topics())
    assert registry.topics() == sorted({model.topic() for model in registry.all_models()})


def test_all_models_sorted() -> None:
    names = [model.type_name() for model in registry.all_models()]
    assert names == sorted(names)
    assert len(names) == len(set(names)) == len(registry)
    assert list(registry) == registry.all_models()


def test_latest_version() -> None:
    assert registry.latest_version("payment", "OrderPaid") == 1


def test_parse_type_name() -> None:
    assert parse_type_name("payment.OrderPaid.v12") == ("payment", "OrderPaid", 12)
    for bad in ["payment.OrderPaid", "payment.OrderPaid.1", "payment.OrderPaid.v0", "Payment.OrderPaid.v1"]:
        with pytest.raises(ValueError):
            parse_type_name(bad)


def test_register_and_duplicates() -> None:
    fresh = EventRegistry()

    @fresh.event("test", "Pinged")
    class Pinged(DomainEvent):
        target: str

    assert (Pinged.context, Pinged.event_name, Pinged.version) == ("test", "Pinged", 1)
    assert fresh.model_for("test.Pinged.v1") is Pinged
    assert "test.Pinged.v1" not in registry

    with pytest.raises(DuplicateEventType, match=r"test\.Pinged\.v1"):

        @fresh.event("test", "Pinged")
        class PingedAgain(DomainEvent):
            target: str

    class Undecorated(DomainEvent):
        x: int

    with pytest.raises(TypeError, match="@event"):
        fresh.register(Undecorated)


def test_global_decorator_rejects_a_taken_type_name() -> None:
    from events import event

    with pytest.raises(DuplicateEventType):

        @event("payment", "OrderPaid")
        class OrderPaidCopy(DomainEvent):
            order_id: str


def make_thing_registry() -> EventRegistry:
    """test.ThingHappened in three majors: v1 -> v2 renames a field, v2 -> v3 splits one."""
    fresh = EventRegistry()

    @fresh.event("test", "ThingHappened", version=1)
    class ThingHappenedV1(DomainEvent):
        thing_id: str
        label: str

    @fresh.event("test", "ThingHappened", version=2)
    class ThingHappenedV2(DomainEvent):
        thing_id: str
        title: str
        tags: list[str] = []  # noqa: RUF012

    @fresh.event("test", "ThingHappened", version=3)
    class ThingHappenedV3(DomainEvent):
        thing_id: str
        family_name: str
        given_name: str
        tags: list[str]

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        data["title"] = data.pop("label")
        return data

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        family, _, given = data.pop("title").partition(" ")
        return {**data, "family_name": family, "given_name": given, "tags": data.get("tags", [])}

    fresh.register_upcaster("test.ThingHappened.v1", "test.ThingHappened.v2", v1_to_v2)
    fresh.register_upcaster("test.ThingHappened.v2", "test.ThingHappened.v3", v2_to_v3)
    return fresh


def test_upcaster_chain() -> None:
    fresh = make_thing_registry()
    assert fresh.latest_version("test", "ThingHappened") == 3
    old = {"thing_id": "t1", "label": "王 小明"}

    assert fresh.upcast("test.ThingHappened.v1", old) == (
        "test.ThingHappened.v3",
        {"thing_id": "t1", "family_name": "王", "given_name": "小明", "tags": []},
    )
    decoded = fresh.decode("test.ThingHappened.v1", old)
    assert type(decoded) is fresh.model_for("test.ThingHappened.v3")
    assert decoded.model_dump() == {"thing_id": "t1", "family_name": "王", "given_name": "小明", "tags": []}
    assert old == {"thing_id": "t1", "label": "王 小明"}  # the input is not mutated

    from_v2 = fresh.decode("test.ThingHappened.v2", {"thing_id": "t2", "title": "李 四", "tags": ["a"]})
    assert from_v2.model_dump()["tags"] == ["a"]
    current = {"thing_id": "t3", "family_name": "赵", "given_name": "六", "tags": []}
    assert fresh.upcast("test.ThingHappened.v3", current) == ("test.ThingHappened.v3", current)
    assert "test.ThingHappened.v1" not in registry


def test_upcaster_registration_rules() -> None:
    fresh = make_thing_registry()
    with pytest.raises(DuplicateEventType):
        fresh.register_upcaster("test.ThingHappened.v1", "test.ThingHappened.v3", dict)
    with pytest.raises(ValueError, match="newer major"):
        fresh.register_upcaster("test.ThingHappened.v3", "test.ThingHappened.v2", dict)
    with pytest.raises(ValueError):
        fresh.register_upcaster("test.ThingHappened", "test.ThingHappened.v2", dict)


def test_upcaster_decorator_and_renamed_event_and_cycle() -> None:
    fresh = EventRegistry()

    @fresh.event("test", "NewName")
    class NewName(DomainEvent):
        value: int

    @fresh.upcaster("test.OldName.v1", "test.NewName.v1")
    def rename(data: dict[str, Any]) -> dict[str, Any]:
        return {"value": int(data["text"])}

    assert fresh.decode("test.OldName.v1", {"text": "42"}) == NewName(value=42)

    fresh.register_upcaster("test.A.v1", "test.B.v1", dict)
    fresh.register_upcaster("test.B.v1", "test.A.v1", dict)
    with pytest.raises(ValueError, match="cycle"):
        fresh.upcast("test.A.v1", {})


def test_upcaster_must_return_a_dict() -> None:
    fresh = EventRegistry()
    fresh.register_upcaster("test.X.v1", "test.X.v2", lambda data: None)
    with pytest.raises(TypeError, match="returned NoneType"):
        fresh.upcast("test.X.v1", {})
