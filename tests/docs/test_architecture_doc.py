"""docs/architecture.md's events table says what the code does.

Every integration (public) event type is one row: which process publishes it and which processes consume it
from Kafka, each with the names of its consumers (projections and policies; one consumer group each). The
expectation is computed from the code as it runs: each service's `ServiceRuntime` as `build_app` wires it
(`servicekit.launcher.PLATFORM`), plus the consumers that run outside a runtime's projections and policies:
the face worker (`exam.faceworker`) and the gateway's feed-log writer (`gateway.feeds`, a consumer runner of
its own started by the app). A consumer added outside a runtime must be added to `outside_runtimes` below. A
service's consumers of its own events read them from its event store, not from Kafka: they are not listed.

When this test fails, its message gives the exact rows to add, change or remove between the table's marker
comments in docs/architecture.md.
"""

from __future__ import annotations

import base64
import importlib
import re
from pathlib import Path

import pytest
from events import FaceChecked, registry
from exam.faceworker.settings import GROUP_ID
from exam.faceworker.worker import REQUEST_TYPE
from gateway.feeds.application.appender import GROUP_NAME as FEED_GROUP_NAME
from gateway.feeds.application.appender import feed_models
from servicekit.launcher import PLATFORM

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BEGIN = "<!-- events-table:begin -->"
END = "<!-- events-table:end -->"
HEADER = "| event type | published by | consumed by (process: consumers) |"
FACE_WORKER = "faceworker"
NOBODY = "—"

Rows = dict[str, tuple[str, str]]  # event type -> (published by, consumed by)


def _consumers_cell(consumers: dict[str, set[str]]) -> str:
    if not consumers:
        return NOBODY
    return "; ".join(f"{process}: {', '.join(sorted(names))}" for process, names in sorted(consumers.items()))


def render_row(type_name: str, publisher: str, consumers: str) -> str:
    return f"| `{type_name}` | {publisher} | {consumers} |"


def outside_runtimes() -> list[tuple[str, str, list[str]]]:
    """(process, consumer name, event types) of the consumers that no `ServiceRuntime` lists."""
    return [
        (FACE_WORKER, GROUP_ID, [REQUEST_TYPE]),
        ("gateway", FEED_GROUP_NAME, [model.type_name() for model in feed_models()]),
    ]


def compute_rows() -> Rows:
    """The table as the code says it should be."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JWT_SECRET", "architecture-doc-test-" + "x" * 32)
        mp.setenv("CERTIFICATION_SIGNING_KEY", base64.b64encode(bytes(32)).decode())
        publishers: dict[str, str] = {}
        consumers: dict[str, dict[str, set[str]]] = {}
        for spec in PLATFORM:
            runtime = importlib.import_module(spec.factory.split(":")[0]).build_app().state.runtime
            mine = set(runtime.own_contexts)
            for model in registry.public_models():
                if model.context in mine:
                    publishers[model.type_name()] = spec.name
            for consumer in [*runtime.projections, *runtime.policies]:
                _own, foreign = consumer.handlers.split(runtime.own_contexts)
                for type_name in foreign.type_names:
                    consumers.setdefault(type_name, {}).setdefault(spec.name, set()).add(consumer.name)
        publishers[FaceChecked.type_name()] = FACE_WORKER
        for process, name, type_names in outside_runtimes():
            for type_name in type_names:
                consumers.setdefault(type_name, {}).setdefault(process, set()).add(name)
    # The contract's events (other tests of the same run may register events of their own, e.g. kittest's).
    contract = {m.type_name() for m in registry.public_models() if m.__module__.startswith("events.")}
    unpublished = sorted(contract - set(publishers))
    assert not unpublished, f"integration events that no process publishes: {unpublished}"
    not_public = sorted(t for t in consumers if t not in contract)
    assert not not_public, f"consumed from Kafka but not integration events of the contract: {not_public}"
    return {
        type_name: (publishers[type_name], _consumers_cell(consumers.get(type_name, {})))
        for type_name in sorted(contract)
    }


@pytest.fixture(scope="module")
def expected_rows() -> Rows:
    return compute_rows()


def documented_rows() -> Rows:
    """The table between the marker comments of docs/architecture.md."""
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, f"{DOC}: one {BEGIN} and one {END} expected"
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
    assert lines[:2] == [HEADER, "|---|---|---|"], f"the table must start with:\n{HEADER}\n|---|---|---|"
    rows: Rows = {}
    for line in lines[2:]:
        match = re.fullmatch(r"\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|", line)
        assert match, f"docs/architecture.md, events table: this row is not of the table's form: {line}"
        type_name, publisher, consumed = match.groups()
        assert type_name not in rows, f"docs/architecture.md, events table: `{type_name}` has two rows"
        rows[type_name] = (publisher.strip(), consumed.strip())
    return rows


def test_the_events_table_lists_exactly_what_the_code_publishes_and_consumes(expected_rows: Rows) -> None:
    documented = documented_rows()
    fixes: list[str] = []
    for type_name, (publisher, consumed) in expected_rows.items():
        row = render_row(type_name, publisher, consumed)
        if type_name not in documented:
            fixes.append(f"add the row:\n    {row}")
        elif documented[type_name] != (publisher, consumed):
            fixes.append(f"change the row of `{type_name}` to:\n    {row}")
    for type_name in sorted(set(documented) - set(expected_rows)):
        fixes.append(f"remove the row of `{type_name}` (no process publishes it)")
    assert not fixes, (
        "docs/architecture.md, the events table (between the events-table marker comments) differs from the "
        "code; rows sorted by event type:\n" + "\n".join(fixes)
    )


def test_the_expected_table_is_not_empty(expected_rows: Rows) -> None:
    # Guards the computation itself: the platform's spine must appear as the code wires it.
    assert expected_rows["exam.ExamPassed.v1"][0] == "exam"
    assert "certification: issue-on-exam-passed" in expected_rows["exam.ExamPassed.v1"][1]
    assert expected_rows[REQUEST_TYPE][1] == f"{FACE_WORKER}: {GROUP_ID}"
    assert expected_rows[FaceChecked.type_name()][0] == FACE_WORKER


if __name__ == "__main__":  # prints the whole table as the code says it should be, to paste into the doc
    print(HEADER + "\n|---|---|---|")
    for name, (by, to) in compute_rows().items():
        print(render_row(name, by, to))
