"""Shared fixtures: a generic example builder for any event model."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def _max_length(metadata: typing.Iterable[Any]) -> int | None:
    for item in metadata:
        found = getattr(item, "max_length", None)
        if isinstance(found, int):
            return found
        nested = getattr(item, "metadata", None)  # a FieldInfo inside Annotated
        if nested and (found := _max_length(nested)) is not None:
            return found
    return None


def example_value(annotation: Any, field: str, max_length: int | None = None) -> Any:
    """A plausible value for a field annotation (Chinese text for strings, within their length limit)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return example_value(args[0], field, _max_length(args[1:]) or max_length)
    if origin in (typing.Union, types.UnionType):
        return example_value(next(a for a in args if a is not type(None)), field, max_length)
    if origin is typing.Literal:
        return args[0]
    if origin is list:
        return [example_value(args[0], field), example_value(args[0], field)]
    if origin is dict:
        return {"字段": example_value(args[1], field)}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return example(annotation)
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation))
        if annotation is bool:
            return True
        if annotation is int:
            return 12345 if field.endswith("_fen") else 7
        if annotation is float:
            return 2.5
        if annotation is datetime:
            return datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
        if annotation is date:
            return date(2024, 5, 6)
        if annotation is str:
            return f"{field}-杭州市西湖区"[:max_length]
    raise NotImplementedError(f"no example for {annotation!r} ({field})")


def example(model: type[M]) -> M:
    """An instance of `model` with every field (optional ones too) set."""
    return model(
        **{
            name: example_value(info.annotation, name, _max_length(info.metadata))
            for name, info in model.model_fields.items()
        }
    )


@pytest.fixture
def make_example() -> Callable[[type[BaseModel]], BaseModel]:
    """The example builder, as a fixture."""
    return example
