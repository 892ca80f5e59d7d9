"""Type name <-> model <-> topic, versions and upcasters."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from events.base import DomainEvent, topic_of_context

E = TypeVar("E", bound=type[DomainEvent])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_TYPE_NAME = re.compile(
    r"^(?P<context>[a-z][a-z0-9_]*)\.(?P<name>[A-Za-z][A-Za-z0-9]*)\.v(?P<version>[1-9][0-9]*)$"
)


class UnknownEventType(KeyError):
    """No model is registered under this type name."""

    def __init__(self, type_name: str) -> None:
        super().__init__(type_name)
        self.type_name = type_name

    def __str__(self) -> str:
        return f"unknown event type {self.type_name!r}"


class DuplicateEventType(ValueError):
    """A second model or upcaster was registered under a type name already taken."""


def parse_type_name(type_name: str) -> tuple[str, str, int]:
    """Split `<context>.<EventName>.v<major>` into its parts (ValueError if malformed)."""
    match = _TYPE_NAME.match(type_name)
    if match is None:
        raise ValueError(f"malformed event type {type_name!r}: expected '<context>.<EventName>.v<major>'")
    return match["context"], match["name"], int(match["version"])


class EventRegistry:
    """Knows every event model by type name, and how to upcast old majors to new ones."""

    def __init__(self) -> None:
        self._models: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}

    def register(self, cls: E) -> E:
        """Register a model whose class variables are set; raises DuplicateEventType if taken."""
        for attr in ("context", "event_name", "version"):
            if not hasattr(cls, attr):
                raise TypeError(f"{cls.__qualname__} has no {attr!r}: decorate it with @event(...)")
        type_name = cls.type_name()
        parse_type_name(type_name)
        existing = self._models.get(type_name)
        if existing is not None:
            owner = f"{existing.__module__}.{existing.__qualname__}"
            raise DuplicateEventType(f"event type {type_name!r} is already registered by {owner}")
        self._models[type_name] = cls
        return cls

    def event(
        self, context: str, name: str, version: int = 1, *, public: bool = True, topic: str | None = None
    ) -> Callable[[E], E]:
        """Class decorator: set the event's context, name, major version, whether it is an integration event
        (`public`) and its topic when it is not the context's, and register it here."""

        def decorate(cls: E) -> E:
            cls.context = context
            cls.event_name = name
            cls.version = version
            cls.public = public
            cls.topic_name = topic
            return self.register(cls)

        return decorate

    def model_for(self, type_name: str) -> type[DomainEvent]:
        """The model registered under `type_name` (UnknownEventType if none)."""
        try:
            return self._models[type_name]
        except KeyError:
            raise UnknownEventType(type_name) from None

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._models

    def __iter__(self) -> Iterator[type[DomainEvent]]:
        return iter(self.all_models())

    def __len__(self) -> int:
        return len(self._models)

    def topic_for(self, type_name: str) -> str:
        """The topic of a type name; unknown types map to `<prefix before the first dot>.events`."""
        model = self._models.get(type_name)
        if model is not None:
            return model.topic()
        context, dot, _ = type_name.partition(".")
        if not dot or not context:
            raise ValueError(f"malformed event type {type_name!r}: no context prefix")
        return topic_of_context(context)

    def topics(self) -> list[str]:
        """Every topic an integration event is published to, sorted."""
        return sorted({model.topic() for model in self.public_models()})

    def all_models(self) -> list[type[DomainEvent]]:
        """Every registered model (integration and internal), sorted by type name."""
        return [self._models[key] for key in sorted(self._models)]

    def known_type_names(self) -> set[str]:
        """Every type name a stored or received record may carry: the models' and the upcasters' sources."""
        return set(self._models) | set(self._upcasters)

    def public_models(self) -> list[type[DomainEvent]]:
        """The integration events (the contract), sorted by type name."""
        return [model for model in self.all_models() if model.public]

    def current_type(self, type_name: str) -> str:
        """The type name a stored or received `type_name` is read as: the newest major its upcasters reach
        (itself when it has none)."""
        seen = {type_name}
        while type_name in self._upcasters:
            type_name = self._upcasters[type_name][0]
            if type_name in seen:
                raise ValueError(f"upcaster cycle through {type_name!r}")
            seen.add(type_name)
        return type_name

    def latest_version(self, context: str, name: str) -> int:
        """The newest registered major of `<context>.<name>` (UnknownEventType if none)."""
        versions = [m.version for m in self._models.values() if m.context == context and m.event_name == name]
        if not versions:
            raise UnknownEventType(f"{context}.{name}")
        return max(versions)

    def register_upcaster(self, from_type: str, to_type: str, fn: Upcaster) -> None:
        """Register `fn` turning the data of `from_type` into the data of `to_type` (a newer major)."""
        from_context, from_name, from_version = parse_type_name(from_type)
        to_context, to_name, to_version = parse_type_name(to_type)
        if (from_context, from_name) == (to_context, to_name) and to_version <= from_version:
            raise ValueError(f"upcaster must go to a newer major: {from_type!r} -> {to_type!r}")
        if from_type in self._upcasters:
            raise DuplicateEventType(
                f"an upcaster from {from_type!r} is already registered (to {self._upcasters[from_type][0]!r})"
            )
        self._upcasters[from_type] = (to_type, fn)

    def upcaster(self, from_type: str, to_type: str) -> Callable[[Upcaster], Upcaster]:
        """Decorator form of `register_upcaster`."""

        def decorate(fn: Upcaster) -> Upcaster:
            self.register_upcaster(from_type, to_type, fn)
            return fn

        return decorate

    def upcast(self, type_name: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Follow the upcasters from `type_name` to the newest major; the input is never mutated."""
        seen = {type_name}
        if type_name in self._upcasters:
            data = copy.deepcopy(data)
        while type_name in self._upcasters:
            to_type, fn = self._upcasters[type_name]
            if to_type in seen:
                raise ValueError(f"upcaster cycle through {to_type!r}")
            seen.add(to_type)
            data = fn(data)
            if not isinstance(data, dict):
                raise TypeError(f"upcaster {type_name!r} -> {to_type!r} returned {type(data).__name__}")
            type_name = to_type
        return type_name, data

    def decode(self, type_name: str, data: dict[str, Any]) -> DomainEvent:
        """Upcast, then validate into the model (UnknownEventType, pydantic.ValidationError). A stored text
        longer than today's limit is read whole (`DomainEvent.from_stored`)."""
        type_name, data = self.upcast(type_name, data)
        return self.model_for(type_name).from_stored(data)


registry = EventRegistry()
"""The default registry; importing `events` registers every model in it."""


def event(
    context: str, name: str, version: int = 1, *, public: bool = True, topic: str | None = None
) -> Callable[[E], E]:
    """Class decorator: set `context`, `event_name`, `version`, `public`, the topic, and register the model in
    the default `registry`."""
    return registry.event(context, name, version, public=public, topic=topic)
