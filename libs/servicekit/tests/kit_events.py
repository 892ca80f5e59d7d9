"""Test-only events (context `kittest`), registered in the global registry for the plumbing tests."""

from __future__ import annotations

from typing import Any

from events import DomainEvent, event, registry


@event("kittest", "CounterIncremented", version=1)
class CounterIncremented(DomainEvent):
    counter_id: str
    amount: int
    poison: bool = False
    flaky: int = 0  # fail this many times before succeeding


@event("kittest", "CounterRenamed", version=1)
class CounterRenamed(DomainEvent):
    counter_id: str
    name: str


@event("kittest", "Measured", version=1)
class MeasuredV1(DomainEvent):
    """The first major: a length in centimetres."""

    item: str
    centimetres: int


@event("kittest", "Measured", version=2)
class Measured(DomainEvent):
    """The second major: millimetres (the upcaster converts)."""

    item: str
    millimetres: int


@registry.upcaster("kittest.Measured.v1", "kittest.Measured.v2")
def _measured_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"item": data["item"], "millimetres": data["centimetres"] * 10}


@event("kittest", "NoteTaken", public=False)
class NoteTaken(DomainEvent):
    """An internal event: stays in the event store, never published."""

    counter_id: str
    note: str
