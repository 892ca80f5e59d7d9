"""The base class of every domain event."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """A fact that happened in one bounded context; immutable, JSON-serialisable.

    The class variables are set by `@event(context, name, version)`. The event's name is kept in
    `event_name` (not `name`) because `name` is an ordinary payload field of several events.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    context: ClassVar[str]
    event_name: ClassVar[str]
    version: ClassVar[int]
    # An integration event leaves its service (the relay publishes it; it is part of the contract, the
    # AsyncAPI document and the schema snapshots). An internal one stays in the service's own event store
    # and may change freely: answer keys, question banks, autosaves, the service's own bookkeeping.
    public: ClassVar[bool] = True
    # The topic, when it is not the context's `<context>.events` (the face workers' requests have their own).
    topic_name: ClassVar[str | None] = None

    @classmethod
    def type_name(cls) -> str:
        """The CloudEvents type: `<context>.<EventName>.v<major>`."""
        return f"{cls.context}.{cls.event_name}.v{cls.version}"

    @classmethod
    def topic(cls) -> str:
        """The Kafka topic: `<context>.events` unless the event names its own."""
        return cls.topic_name or topic_of_context(cls.context)


def topic_of_context(context: str) -> str:
    """The one topic a context publishes to."""
    return f"{context}.events"
