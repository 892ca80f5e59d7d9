"""Test-only events (context `kittest`), registered in the global registry for the plumbing tests."""

from __future__ import annotations

from events import DomainEvent, event


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
