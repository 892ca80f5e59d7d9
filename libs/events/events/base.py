"""The base class of every domain event."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Every text of an event has a length limit (the contract's JSON Schemas say `maxLength`): `TEXT_MAX_LENGTH`
# unless the field is one of the natural kinds below. The limits hold for new events (constructing one
# refuses a longer text); reading what is stored or received (`DomainEvent.from_stored`, which
# `registry.decode` uses) tolerates a longer legacy value and keeps it whole.
TEXT_MAX_LENGTH = 4000
PersonName = Annotated[str, Field(max_length=50)]  # 姓名
OrgName = Annotated[str, Field(max_length=100)]  # 企业、机构名称
IdNumber = Annotated[str, Field(max_length=18)]  # 身份证号
Mobile = Annotated[str, Field(max_length=20)]  # 手机号
Serial = Annotated[str, Field(max_length=64)]  # 流水号（银行、支付渠道）
DocumentNumber = Annotated[str, Field(max_length=64)]  # 证书编号、订单号
Identifier = Annotated[str, Field(max_length=128)]  # ids of aggregates, accounts, batches
Reason = Annotated[str, Field(max_length=500)]  # 原因、备注
ShortText = Annotated[str, Field(max_length=200)]  # 岗位、专业、城市、地点、文件名 …


class DomainEvent(BaseModel):
    """A fact that happened in one bounded context; immutable, JSON-serialisable.

    The class variables are set by `@event(context, name, version)`. The event's name is kept in
    `event_name` (not `name`) because `name` is an ordinary payload field of several events.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

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

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Self:
        """Validate an event as stored or received. The length limits are for new events: a text longer than
        its limit (written before the limit existed) is accepted and kept whole; anything else that does not
        validate raises `ValidationError` as usual."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
            if not errors or any(e["type"] != "string_too_long" for e in errors):
                raise
            patched = copy.deepcopy(dict(data))
            longer: list[tuple[tuple[int | str, ...], str]] = []
            try:
                for error in errors:
                    loc = tuple(error["loc"])
                    value = _get(patched, loc)
                    if not isinstance(value, str):
                        raise exc from None
                    _put(patched, loc, value[: int(error["ctx"]["max_length"])])
                    longer.append((loc, value))
                event = cls.model_validate(patched)
                for loc, value in longer:
                    _restore(event, loc, value)
            except (KeyError, IndexError, TypeError, AttributeError, ValidationError):
                raise exc from None
            return event


def _get(data: Any, loc: tuple[int | str, ...]) -> Any:
    for part in loc:
        data = data[part]
    return data


def _put(data: Any, loc: tuple[int | str, ...], value: Any) -> None:
    _get(data, loc[:-1])[loc[-1]] = value


def _restore(model: Any, loc: tuple[int | str, ...], value: str) -> None:
    """Put the whole legacy value back into the validated (frozen) event."""
    target = model
    for part in loc[:-1]:
        attribute = isinstance(target, BaseModel) and isinstance(part, str)
        target = getattr(target, str(part)) if attribute else target[part]
    last = loc[-1]
    if isinstance(target, BaseModel) and isinstance(last, str) and last in type(target).model_fields:
        object.__setattr__(target, last, value)  # frozen models: the value validated before, at its creation
    elif isinstance(target, list | dict):
        target[last] = value  # type: ignore[index]
    else:
        raise TypeError(f"cannot restore {loc}")


def topic_of_context(context: str) -> str:
    """The one topic a context publishes to."""
    return f"{context}.events"
