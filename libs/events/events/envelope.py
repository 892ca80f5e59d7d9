"""CloudEvents 1.0 envelope in Kafka binary mode: attributes in `ce_*` headers, JSON data in the value."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from events.base import DomainEvent
from events.registry import EventRegistry, registry

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

KafkaHeaders = list[tuple[str, bytes]]
_REQUIRED_HEADERS = ("ce_id", "ce_type", "ce_source", "ce_time")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class MalformedEnvelope(ValueError):
    """A Kafka record that is not a CloudEvent this platform can read."""


def _new_id() -> str:
    return uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix (microseconds only when non-zero)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (offset required) into an aware UTC datetime."""
    if not _RFC3339.match(text):
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    return datetime.fromisoformat(text.upper()).astimezone(UTC)


class Envelope(BaseModel):
    """One event as it travels: CloudEvents attributes plus the event's JSON data."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=_new_id, min_length=1)
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    time: datetime = Field(default_factory=_now)
    subject: str
    correlation_id: str | None = None
    causation_id: str | None = None
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Naive times are taken as UTC; aware ones are converted to UTC."""
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @classmethod
    def for_event(
        cls,
        event: DomainEvent,
        *,
        subject: str,
        source: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        id: str | None = None,
        time: datetime | None = None,
    ) -> Envelope:
        """Wrap a domain event; `subject` is the aggregate id (and the Kafka key)."""
        return cls(
            id=id or _new_id(),
            type=event.type_name(),
            source=source,
            time=time or _now(),
            subject=subject,
            correlation_id=correlation_id,
            causation_id=causation_id,
            data=event.model_dump(mode="json"),
        )

    def to_kafka(self) -> tuple[bytes, bytes, KafkaHeaders]:
        """Key (subject), value (compact JSON data) and CloudEvents headers."""
        headers: KafkaHeaders = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_time", format_time(self.time).encode()),
            ("ce_subject", self.subject.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.correlation_id is not None:
            headers.append(("ce_correlationid", self.correlation_id.encode()))
        if self.causation_id is not None:
            headers.append(("ce_causationid", self.causation_id.encode()))
        value = json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode()
        return self.subject.encode(), value, headers

    @classmethod
    def from_kafka(
        cls,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]] | None,
    ) -> Envelope:
        """The inverse of `to_kafka`; unknown headers are ignored; raises MalformedEnvelope."""
        attrs: dict[str, str] = {}
        for name, raw in headers or ():
            name = name.lower()
            if raw is None or name in attrs:
                continue
            try:
                attrs[name] = raw.decode()
            except UnicodeDecodeError:
                raise MalformedEnvelope(f"header {name!r} is not UTF-8") from None
        missing = [name for name in _REQUIRED_HEADERS if not attrs.get(name)]
        if missing:
            raise MalformedEnvelope(f"missing CloudEvents header(s): {', '.join(missing)}")
        spec = attrs.get("ce_specversion", SPEC_VERSION)
        if spec.split(".")[0] != SPEC_VERSION.split(".")[0]:
            raise MalformedEnvelope(f"unsupported CloudEvents specversion {spec!r}")
        content_type = attrs.get("content-type", CONTENT_TYPE).split(";")[0].strip().lower()
        if content_type != CONTENT_TYPE:
            raise MalformedEnvelope(f"unsupported content-type {content_type!r} (expected {CONTENT_TYPE})")
        try:
            time = parse_time(attrs["ce_time"])
        except ValueError as exc:
            raise MalformedEnvelope(f"header 'ce_time': {exc}") from None
        subject = attrs.get("ce_subject")
        if subject is None and key is not None:
            try:
                subject = key.decode()
            except UnicodeDecodeError:
                raise MalformedEnvelope("record key is not UTF-8") from None
        if subject is None:
            raise MalformedEnvelope("no subject: neither a ce_subject header nor a record key")
        if value is None:
            raise MalformedEnvelope("record value is empty (tombstone), expected a JSON object")
        try:
            data = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedEnvelope(f"record value is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise MalformedEnvelope(f"record value is JSON {type(data).__name__}, expected a JSON object")
        try:
            return cls.model_validate(
                {
                    "id": attrs["ce_id"],
                    "type": attrs["ce_type"],
                    "source": attrs["ce_source"],
                    "time": time,
                    "subject": subject,
                    "correlation_id": attrs.get("ce_correlationid"),
                    "causation_id": attrs.get("ce_causationid"),
                    "data": data,
                }
            )
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise MalformedEnvelope(f"invalid CloudEvents attributes: {problems}") from None

    @property
    def topic(self) -> str:
        """The topic this envelope belongs to (derived from its type)."""
        return registry.topic_for(self.type)

    def decode(self, registry: EventRegistry = registry) -> DomainEvent:
        """The domain event, upcast to the newest major (UnknownEventType, pydantic.ValidationError)."""
        return registry.decode(self.type, self.data)
