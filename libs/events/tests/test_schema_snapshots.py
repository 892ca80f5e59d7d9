"""Every model's JSON Schema against its committed snapshot, and the compatibility rules themselves."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path
from typing import Literal

import pytest
from events import DomainEvent, EventRegistry, registry
from events.compat import (
    REFRESH_HINT,
    check_compatible,
    check_snapshots,
    dump_schema,
    main,
    schema_of,
    snapshot_path,
    update_snapshots,
)
from pydantic import BaseModel, Field

# The contract's own models: other packages' tests may register test-only events in the global registry.
CONTRACT = [model for model in registry.all_models() if model.__module__.startswith("events.")]


def test_contract_models_found() -> None:
    assert len(CONTRACT) >= 17


@pytest.mark.parametrize("model", CONTRACT, ids=lambda m: m.type_name())
def test_model_matches_snapshot(model: type[DomainEvent]) -> None:
    path = snapshot_path(model)
    assert path.exists(), f"{model.type_name()} has no schema snapshot at {path}: {REFRESH_HINT}"
    old = json.loads(path.read_text(encoding="utf-8"))
    new = schema_of(model)
    problems = check_compatible(old, new)
    assert not problems, (
        f"{model.type_name()} changed incompatibly with its snapshot:\n  "
        + "\n  ".join(problems)
        + "\nKeep the old major and add a new one (version=N+1) with an upcaster instead."
    )
    if old != new:
        warnings.warn(f"{model.type_name()}: schema changed compatibly; {REFRESH_HINT}", stacklevel=1)


def test_snapshot_files_are_canonical() -> None:
    for model in CONTRACT:
        path = snapshot_path(model)
        text = path.read_text(encoding="utf-8")
        assert text == dump_schema(json.loads(text)), f"{path.name} is not sorted / indented: {REFRESH_HINT}"


# --- the compatibility rules, on small throwaway models -------------------------------------------------


class Item(BaseModel):
    sku: str
    qty: int = 1


class Base(BaseModel):
    id: str
    amount_fen: int
    note: str = ""
    on: date
    kind: Literal["a", "b"] = "a"
    items: list[Item] = []
    labels: dict[str, str] = {}
    extra_item: Item | None = None


def problems(new: type[BaseModel], old: type[BaseModel] = Base) -> list[str]:
    return check_compatible(schema_of(old), schema_of(new))


def test_identical_is_compatible() -> None:
    assert problems(Base) == []


def test_property_removed() -> None:
    class New(BaseModel):
        id: str
        amount_fen: int
        on: date
        kind: Literal["a", "b"] = "a"
        items: list[Item] = []
        labels: dict[str, str] = {}
        extra_item: Item | None = None

    assert problems(New) == ["note: property removed"]


def test_type_changed() -> None:
    class New(Base):
        amount_fen: str  # type: ignore[assignment]

    assert problems(New) == ["amount_fen: type changed from integer to string"]


def test_format_changed() -> None:
    class New(Base):
        on: str  # type: ignore[assignment]

    assert problems(New) == ["on: type changed from string(date) to string"]


def test_any_of_changed() -> None:
    class New(Base):
        note: str | None = None  # type: ignore[assignment]

    assert problems(New) == ["note: type changed from string to string | null"]


def test_enum_changed() -> None:
    class New(Base):
        kind: Literal["a", "c"] = "a"  # type: ignore[assignment]

    assert problems(New) == ['kind: type changed from enum ["a", "b"] to enum ["a", "c"]']


def test_new_required_property() -> None:
    class New(Base):
        city: str

    assert problems(New) == ["city: new required property"]


def test_optional_became_required() -> None:
    class New(Base):
        note: str

    assert problems(New) == ["note: optional property became required"]


def test_nested_changes_through_refs() -> None:
    class NewItem(BaseModel):
        sku: int
        price_fen: int

    class New(Base):
        items: list[NewItem] = []  # type: ignore[assignment]
        extra_item: NewItem | None = None  # type: ignore[assignment]

    assert sorted(problems(New)) == [
        "extra_item.price_fen: new required property",
        "extra_item.qty: property removed",
        "extra_item.sku: type changed from string to integer",
        "items[].price_fen: new required property",
        "items[].qty: property removed",
        "items[].sku: type changed from string to integer",
    ]


def test_map_value_changed() -> None:
    class New(Base):
        labels: dict[str, int] = {}  # type: ignore[assignment]

    assert problems(New) == ["labels{*}: type changed from string to integer"]


def test_list_became_scalar() -> None:
    class New(Base):
        items: str = ""  # type: ignore[assignment]

    assert problems(New) == ["items: type changed from array<object Item> to string"]


def test_compatible_changes() -> None:
    class RichItem(BaseModel):
        """Described now."""

        sku: str = Field(title="Stock keeping unit")
        qty: int = 2
        colour: str | None = None

    class New(BaseModel):
        """A new description."""

        id: str = Field(description="The id.")
        amount_fen: int = Field(title="Amount (fen)")
        note: str = "none"
        on: date
        kind: Literal["b", "a"] = "b"
        items: list[RichItem] = []
        labels: dict[str, str] = {}
        extra_item: RichItem | None = None
        added: int = 0
        also_added: list[str] | None = None

    assert problems(New) == []


def test_recursive_models_terminate() -> None:
    class Node(BaseModel):
        name: str
        children: list[Node] = []

    class NewNode(BaseModel):
        name: str
        children: list[NewNode] = []
        weight: int

    assert check_compatible(schema_of(Node), schema_of(Node)) == []
    assert check_compatible(schema_of(Node), schema_of(NewNode)) == ["weight: new required property"]


def test_unresolvable_ref_is_reported() -> None:
    old = schema_of(Base)
    new = json.loads(json.dumps(old))
    del new["$defs"]
    assert "unresolvable $ref" in " ".join(check_compatible(old, new))


# --- the snapshot workflow on a throwaway registry ------------------------------------------------------


def test_snapshot_workflow(tmp_path: Path) -> None:
    fresh = EventRegistry()

    @fresh.event("test", "Counted")
    class Counted(DomainEvent):
        count: int

    found, _ = check_snapshots(tmp_path, fresh)
    assert found and "no snapshot" in found[0]

    written, refused = update_snapshots(tmp_path, fresh)
    assert written == [str(tmp_path / "test.Counted.v1.json")] and refused == []
    assert check_snapshots(tmp_path, fresh) == ([], [])

    path = tmp_path / "test.Counted.v1.json"
    old_text = path.read_text(encoding="utf-8")
    snapshot = json.loads(old_text)
    snapshot["properties"]["count"]["type"] = "string"
    path.write_text(dump_schema(snapshot), encoding="utf-8")
    found, _ = check_snapshots(tmp_path, fresh)
    assert found == ["test.Counted.v1: count: type changed from string to integer"]
    written, refused = update_snapshots(tmp_path, fresh)
    assert written == [] and refused == found
    written, refused = update_snapshots(tmp_path, fresh, force=True)
    assert written and path.read_text(encoding="utf-8") == old_text

    del snapshot["properties"]["count"]
    snapshot["required"] = []
    path.write_text(dump_schema(snapshot), encoding="utf-8")
    found, _ = check_snapshots(tmp_path, fresh)
    assert found == ["test.Counted.v1: count: new required property"]

    (tmp_path / "test.Gone.v1.json").write_text("{}", encoding="utf-8")
    path.write_text(old_text, encoding="utf-8")
    assert check_snapshots(tmp_path, fresh) == (
        [],
        ["test.Gone.v1.json: snapshot of a type no longer registered"],
    )


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    assert "no snapshot" in capsys.readouterr().out
    assert main(["--update", "--dir", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("*.json"))) == len(registry.public_models())
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    assert "compatible" in capsys.readouterr().out
