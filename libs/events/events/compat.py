"""JSON Schema snapshots of every event model, and the backward-compatibility check between two schemas.

Compatible (a minor change): adding an optional property; changing titles, descriptions or defaults.
Anything else needs a new major with an upcaster. CLI: `python -m events.compat --check | --update`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from events.base import DomainEvent
from events.registry import EventRegistry, registry

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
REFRESH_HINT = "run `make schemas` (uv run python -m events.compat --update)"
Schema = dict[str, Any]

_COMBINATORS = ("anyOf", "oneOf", "allOf")
_MAX_DEPTH = 6


def schema_of(model: type[BaseModel]) -> Schema:
    """The model's JSON Schema (validation mode), as snapshotted."""
    return model.model_json_schema()


def dump_schema(schema: Schema) -> str:
    """The snapshot text: sorted keys, indent 2, trailing newline."""
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def snapshot_path(model: type[DomainEvent], directory: Path = SCHEMA_DIR) -> Path:
    """Where the model's snapshot lives: `<directory>/<type_name>.json`."""
    return directory / f"{model.type_name()}.json"


def check_compatible(old: Schema, new: Schema) -> list[str]:
    """Problems that make data valid for `old` unreadable or incomplete under `new` (empty = compatible)."""
    checker = _Checker(old, new)
    checker.compare(old, new, "")
    return checker.problems


def _resolve_pointer(root: Schema, ref: str) -> Schema | None:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def _resolve(schema: Schema, root: Schema) -> tuple[Schema, str | None]:
    """Follow `$ref`s (keeping sibling keywords); returns the schema and the last ref followed."""
    last: str | None = None
    for _ in range(32):
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            break
        target = _resolve_pointer(root, ref)
        if target is None:
            raise LookupError(f"unresolvable $ref {ref!r}")
        last = ref
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema, last


def _types(schema: Schema) -> tuple[str, ...]:
    value = schema.get("type")
    if value is None:
        return ()
    return tuple(sorted(value)) if isinstance(value, list) else (str(value),)


def _combinator(schema: Schema) -> str | None:
    return next((key for key in _COMBINATORS if key in schema), None)


def _shape(schema: Schema) -> tuple[Any, ...]:
    """The keywords whose change is a type change at this level."""
    enum = schema.get("enum")
    return (
        _types(schema),
        schema.get("format"),
        tuple(sorted(json.dumps(v, sort_keys=True) for v in enum)) if isinstance(enum, list) else None,
        json.dumps(schema["const"], sort_keys=True) if "const" in schema else None,
    )


def describe(schema: Schema, root: Schema, depth: int = 0) -> str:
    """A short human description of a schema's type, e.g. `array<object UploadedDocument>`."""
    if depth > _MAX_DEPTH:
        return "…"
    try:
        schema, ref = _resolve(schema, root)
    except LookupError as exc:
        return str(exc)
    combinator = _combinator(schema)
    if combinator is not None:
        sep = " & " if combinator == "allOf" else " | "
        return sep.join(describe(v, root, depth + 1) for v in schema[combinator])
    if "const" in schema:
        return f"const {json.dumps(schema['const'], ensure_ascii=False)}"
    if "enum" in schema:
        return f"enum {json.dumps(schema['enum'], ensure_ascii=False)}"
    types = _types(schema)
    if not types:
        return "any"
    parts = []
    for kind in types:
        if kind == "array":
            items = schema.get("items")
            parts.append(f"array<{describe(items, root, depth + 1) if isinstance(items, dict) else 'any'}>")
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            parts.append(f"map<{describe(schema['additionalProperties'], root, depth + 1)}>")
        elif kind == "object" and ref is not None:
            parts.append(f"object {ref.rsplit('/', 1)[-1]}")
        elif "format" in schema:
            parts.append(f"{kind}({schema['format']})")
        else:
            parts.append(kind)
    return " | ".join(parts)


class _Checker:
    """Walks two schemas side by side and collects incompatibilities."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[str] = []
        self._active: set[tuple[str, str]] = set()

    @staticmethod
    def _join(path: str, name: str) -> str:
        return f"{path}.{name}" if path else name

    def _type_changed(self, old: Schema, new: Schema, path: str) -> None:
        where = path or "(root)"
        self.problems.append(
            f"{where}: type changed from {describe(old, self.old_root)} to {describe(new, self.new_root)}"
        )

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        try:
            old, old_ref = _resolve(old, self.old_root)
            new, new_ref = _resolve(new, self.new_root)
        except LookupError as exc:
            self.problems.append(f"{path or '(root)'}: {exc}")
            return
        key = (old_ref, new_ref) if old_ref is not None and new_ref is not None else None
        if key is not None:
            if key in self._active:  # a recursive model: already being compared further up
                return
            self._active.add(key)
        try:
            self._compare_resolved(old, new, path)
        finally:
            if key is not None:
                self._active.discard(key)

    def _compare_resolved(self, old: Schema, new: Schema, path: str) -> None:
        old_comb, new_comb = _combinator(old), _combinator(new)
        if old_comb is not None or new_comb is not None:
            old_variants: list[Schema] = old.get(old_comb or "", [])
            new_variants: list[Schema] = new.get(new_comb or "", [])
            if old_comb != new_comb or len(old_variants) != len(new_variants):
                self._type_changed(old, new, path)
                return
            self._compare_variants(old_variants, new_variants, path)
            return

        if _shape(old) != _shape(new):
            self._type_changed(old, new, path)
            return
        types = _types(old)
        if "object" in types:
            self._compare_object(old, new, path)
        if "array" in types:
            self._compare_array(old, new, path)

    def _compare_variants(self, old: list[Schema], new: list[Schema], path: str) -> None:
        remaining = list(new)
        unmatched: list[Schema] = []
        for variant in old:
            label = describe(variant, self.old_root)
            match = next((v for v in remaining if describe(v, self.new_root) == label), None)
            if match is None:
                unmatched.append(variant)
            else:
                remaining.remove(match)
                self.compare(variant, match, path)
        for old_variant, new_variant in zip(unmatched, remaining, strict=True):
            self.compare(old_variant, new_variant, path)

    def _compare_object(self, old: Schema, new: Schema, path: str) -> None:
        old_props: dict[str, Schema] = old.get("properties", {})
        new_props: dict[str, Schema] = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        for name, old_prop in old_props.items():
            where = self._join(path, name)
            if name not in new_props:
                self.problems.append(f"{where}: property removed")
                continue
            self.compare(old_prop, new_props[name], where)
            if name in new_required and name not in old_required:
                self.problems.append(f"{where}: optional property became required")
        for name in new_props.keys() - old_props.keys():
            if name in new_required:
                self.problems.append(f"{self._join(path, name)}: new required property")
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.compare(old_extra, new_extra, f"{path}{{*}}")
        elif isinstance(old_extra, dict) != isinstance(new_extra, dict):
            self._type_changed(old, new, path)

    def _compare_array(self, old: Schema, new: Schema, path: str) -> None:
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            self.compare(old_items, new_items, f"{path}[]")
        elif isinstance(old_items, dict) != isinstance(new_items, dict):
            self._type_changed(old, new, path)
        old_prefix: list[Schema] = old.get("prefixItems", [])
        new_prefix: list[Schema] = new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            self._type_changed(old, new, path)
            return
        for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=True)):
            self.compare(old_item, new_item, f"{path}[{index}]")


def check_snapshots(
    directory: Path = SCHEMA_DIR, events_registry: EventRegistry = registry
) -> tuple[list[str], list[str]]:
    """Compare every registered model with its snapshot: (problems, notes)."""
    problems: list[str] = []
    notes: list[str] = []
    known = set()
    for model in events_registry.public_models():
        type_name = model.type_name()
        known.add(type_name)
        path = snapshot_path(model, directory)
        if not path.exists():
            problems.append(f"{type_name}: no snapshot at {path}; {REFRESH_HINT}")
            continue
        old = json.loads(path.read_text(encoding="utf-8"))
        new = schema_of(model)
        found = check_compatible(old, new)
        problems += [f"{type_name}: {problem}" for problem in found]
        if not found and old != new:
            notes.append(f"{type_name}: schema changed compatibly; {REFRESH_HINT}")
    if directory.is_dir():
        for path in sorted(directory.glob("*.json")):
            if path.stem not in known:
                notes.append(f"{path.name}: snapshot of a type no longer registered")
    return problems, notes


def update_snapshots(
    directory: Path = SCHEMA_DIR, events_registry: EventRegistry = registry, *, force: bool = False
) -> tuple[list[str], list[str]]:
    """Write the snapshot of every model; incompatible changes are refused unless `force`.

    Returns (paths written, problems refused).
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    refused: list[str] = []
    for model in events_registry.public_models():
        path = snapshot_path(model, directory)
        new = schema_of(model)
        text = dump_schema(new)
        if path.exists():
            if path.read_text(encoding="utf-8") == text:
                continue
            found = check_compatible(json.loads(path.read_text(encoding="utf-8")), new)
            if found and not force:
                refused += [f"{model.type_name()}: {problem}" for problem in found]
                continue
        path.write_text(text, encoding="utf-8")
        written.append(str(path))
    return written, refused


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m events.compat", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail on incompatible or missing snapshots")
    mode.add_argument("--update", action="store_true", help="write every registered model's snapshot")
    parser.add_argument("--force", action="store_true", help="--update even incompatible changes")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="snapshot folder")
    args = parser.parse_args(argv)

    if args.update:
        written, refused = update_snapshots(args.dir, force=args.force)
        for path in written:
            print(f"wrote {path}")
        refused_types = {problem.split(":", 1)[0] for problem in refused}
        unchanged = len(registry) - len(written) - len(refused_types)
        print(f"{len(written)} snapshot(s) written, {unchanged} unchanged")
        if refused:
            print("refused incompatible changes (add a new major with an upcaster, or use --force):")
            for problem in refused:
                print(f"  {problem}")
            return 1
        return 0

    problems, notes = check_snapshots(args.dir)
    for note in notes:
        print(f"note: {note}")
    if problems:
        print(f"{len(problems)} schema problem(s):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"{len(registry)} event schema(s) compatible with their snapshots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
