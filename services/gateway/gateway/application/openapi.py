"""One OpenAPI document for the whole platform: the gateway's own plus every reachable service's."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from servicekit.logging import get_logger

log = get_logger(__name__)

Document = dict[str, Any]
REF_PREFIX = "#/components/"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _walk_refs(node: Any) -> Iterable[tuple[str, str]]:
    """Every `(section, name)` referenced through `$ref: '#/components/<section>/<name>'`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                section, _, name = value[len(REF_PREFIX) :].partition("/")
                yield section, name
            else:
                yield from _walk_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_refs(item)


def _rewrite_refs(node: Any, renames: Mapping[tuple[str, str], str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                section, _, name = value[len(REF_PREFIX) :].partition("/")
                new = renames.get((section, name))
                out[key] = f"{REF_PREFIX}{section}/{new}" if new else value
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _free_name(service: str, name: str, taken: set[str]) -> str:
    candidate = f"{service}_{name}"
    n = 2
    while candidate in taken:
        candidate = f"{service}_{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


def plan_component_renames(
    service: str, existing: Mapping[str, Mapping[str, Any]], incoming: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[str, str], str]:
    """New names for the service's components that clash with different ones already in the document.

    A component identical to the one already there is shared, unless something it references had to be
    renamed (then it is not the same thing any more and gets renamed too).
    """
    renames: dict[tuple[str, str], str] = {}
    taken: dict[str, set[str]] = {
        section: set(existing.get(section, {})) | set(items) for section, items in incoming.items()
    }
    for section, items in incoming.items():
        present = existing.get(section, {})
        for name, value in items.items():
            if name in present and present[name] != value:
                renames[(section, name)] = _free_name(service, name, taken[section])
    changed = True
    while changed:
        changed = False
        for section, items in incoming.items():
            present = existing.get(section, {})
            for name, value in items.items():
                if (section, name) in renames or name not in present:
                    continue
                if any(ref in renames for ref in _walk_refs(value)):
                    renames[(section, name)] = _free_name(service, name, taken[section])
                    changed = True
    return renames


def merge_openapi(
    own: Document, services: Mapping[str, Document], unavailable: Iterable[str] = ()
) -> Document:
    """Merge each service's paths (those the gateway routes: `/api/<service>/…`) and components into `own`.

    Component names that clash with a different definition are prefixed with the service name
    (`<service>_<Name>`) and every `$ref` of that service is rewritten. Operation ids that clash are prefixed
    the same way. Unreachable services are listed in `info.x-unavailable`.
    """
    merged = copy.deepcopy(own)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components: dict[str, dict[str, Any]] = merged.setdefault("components", {})
    tags: list[dict[str, Any]] = list(merged.get("tags") or [])
    tag_names = {t.get("name") for t in tags}
    operation_ids = {
        op.get("operationId")
        for item in paths.values()
        for method, op in item.items()
        if method in HTTP_METHODS and isinstance(op, dict)
    }
    skipped: list[str] = []
    for service in sorted(services):
        doc = services[service]
        incoming: dict[str, dict[str, Any]] = {
            section: items
            for section, items in (doc.get("components") or {}).items()
            if isinstance(items, dict)
        }
        renames = plan_component_renames(service, components, incoming)
        rewritten = _rewrite_refs({"paths": doc.get("paths") or {}, "components": incoming}, renames)
        for section, items in rewritten["components"].items():
            target = components.setdefault(section, {})
            for name, value in items.items():
                target.setdefault(renames.get((section, name), name), value)
        prefix = f"/api/{service}/"
        for path, item in rewritten["paths"].items():
            if not path.startswith(prefix) or path in paths:
                skipped.append(f"{service}:{path}")
                continue
            for method, op in item.items():
                if method not in HTTP_METHODS or not isinstance(op, dict):
                    continue
                if not op.get("tags"):
                    op["tags"] = [service]
                op_id = op.get("operationId")
                if op_id is not None:
                    if op_id in operation_ids:
                        op["operationId"] = f"{service}_{op_id}"
                    operation_ids.add(op["operationId"])
            paths[path] = item
        for tag in doc.get("tags") or []:
            if isinstance(tag, dict) and tag.get("name") not in tag_names:
                tags.append(tag)
                tag_names.add(tag.get("name"))
    if tags:
        merged["tags"] = tags
    if not components:
        merged.pop("components", None)
    info = merged.setdefault("info", {})
    info["x-services"] = sorted(services)
    info["x-unavailable"] = sorted(set(unavailable))
    if skipped:
        log.debug("openapi.paths_skipped", paths=skipped)
    return merged


Fetch = Callable[[str, str], Awaitable[Document]]


class OpenAPIAggregator:
    """The merged document, rebuilt at most every `ttl_seconds` (one rebuild at a time)."""

    def __init__(
        self,
        own: Callable[[], Document],
        upstreams: Mapping[str, str],
        fetch: Fetch,
        *,
        ttl_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.own = own
        self.upstreams = dict(upstreams)
        self.fetch = fetch
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._cached: Document | None = None
        self._cached_at = 0.0
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self._cached is not None and self.clock() - self._cached_at < self.ttl_seconds

    async def document(self) -> Document:
        if self._fresh():
            assert self._cached is not None
            return self._cached
        async with self._lock:
            if self._fresh():
                assert self._cached is not None
                return self._cached
            names = list(self.upstreams)
            results = await asyncio.gather(
                *(self.fetch(name, self.upstreams[name]) for name in names), return_exceptions=True
            )
            available: dict[str, Document] = {}
            unavailable: list[str] = []
            for name, result in zip(names, results, strict=True):
                if isinstance(result, dict):
                    available[name] = result
                else:
                    unavailable.append(name)
                    log.info("openapi.service_unavailable", service=name, error=repr(result)[:200])
            self._cached = merge_openapi(self.own(), available, unavailable)
            self._cached_at = self.clock()
            return self._cached
