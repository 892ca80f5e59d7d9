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

    @classmethod
    def type_name(cls) -> str:
        """The CloudEvents type: `<context>.<EventName>.v<major>`."""
        return f"{cls.context}.{cls.event_name}.v{cls.version}"

    @classmethod
    def topic(cls) -> str:
        """The Kafka topic of the event's context: `<context>.events`."""
        return topic_of_context(cls.context)


def topic_of_context(context: str) -> str:
    """The one topic a context publishes to."""
    return f"{context}.events"
