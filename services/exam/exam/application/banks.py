"""Question bank use cases: import a sheet (every problem of every row, nothing stored unless all are
valid), the demo banks, retire a bank, and the views of the `question_banks` read model."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from servicekit.commands import execute
from servicekit.errors import DomainError, NotFound
from servicekit.eventstore import EventStore

from exam.domain.events import BankQuestion

from ..domain import bank as domain
from ..projections.banks import QUESTION_BANKS

DEMO_PACKAGE = "exam.data.demo_banks"
DEMO_COMMON = "common.json"
DEMO_MARK = "【演示题库】"
DEMO_NAMESPACE = uuid.UUID("0d4f8b7e-93a6-5b0e-8c7f-2a61e5d4c3b9")


def bank_stream(bank_id: str) -> str:
    return f"bank-{bank_id}"


def problems_payload(problems: Sequence[domain.RowProblem]) -> list[dict[str, Any]]:
    return [asdict(p) for p in problems]


@dataclass(frozen=True)
class BankSpec:
    owner_id: str
    position: str
    title: str
    specialisation: str | None = None
    imported_by: str = ""


def check_spec(spec: BankSpec) -> None:
    """The form's own fields, answered before the sheet is read."""
    domain.check_bank_fields(spec.position, spec.specialisation, spec.title)


async def _append(store: EventStore, form: domain.BankForm) -> bool:
    """Append the bank's parts in one go; False when the bank exists already (nothing appended)."""

    def decide(history: list[Any]) -> list[Any]:
        return [] if history else domain.import_bank(history, form)

    stored = await execute(store, bank_stream(form.bank_id), decide, stream_type="bank")
    return bool(stored)


async def import_sheet(
    store: EventStore,
    spec: BankSpec,
    *,
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    header_row: int = 1,
    max_questions: int = domain.DEFAULT_MAX_QUESTIONS,
) -> dict[str, Any]:
    """Validate every row; import only when nothing is wrong.

    Raises `DomainError(code="bank_invalid_sheet")` with every problem (row, column, value, code, message).
    """
    check_spec(spec)
    bank_id = uuid.uuid4().hex
    result = domain.validate_bank(
        header,
        rows,
        bank_id=bank_id,
        rules=domain.BankRules(max_questions=max_questions),
        header_row=header_row,
    )
    if result.problems:
        problems = sorted(
            result.problems,
            key=lambda p: (p.row, domain.COLUMNS.index(p.column) if p.column in domain.COLUMNS else -1),
        )
        raise DomainError(
            f"题库表格有 {len(problems)} 处问题，未导入任何题目；请按行号修改后重新导入",
            code="bank_invalid_sheet",
            details=problems_payload(problems),
        )
    if not result.questions:
        raise DomainError("题库表格中没有题目：请在表头下方每行填写一道题", code="bank_empty")
    form = domain.BankForm(
        bank_id=bank_id,
        owner_id=spec.owner_id,
        position=spec.position,
        specialisation=spec.specialisation,
        title=spec.title.strip(),
        questions=result.questions,
        imported_by=spec.imported_by,
    )
    await _append(store, form)
    return {
        "bank_id": bank_id,
        "title": form.title,
        "position": spec.position,
        "specialisation": spec.specialisation,
        "question_count": len(result.questions),
        "counts": result.counts(),
        "parts": (len(result.questions) + domain.CHUNK - 1) // domain.CHUNK,
    }


# ---------------------------------------------------------------- demo banks


@dataclass(frozen=True)
class DemoBank:
    bank_id: str
    position: str
    specialisation: str | None
    title: str
    questions: list[BankQuestion]


def _demo_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files(DEMO_PACKAGE).joinpath(name).read_text("utf-8"))
    return data


def demo_bank_id(position: str) -> str:
    return uuid.uuid5(DEMO_NAMESPACE, f"demo-bank:{position}").hex


def _rows(items: Sequence[Mapping[str, Any]]) -> list[list[object]]:
    """JSON questions as sheet rows (the same validation as an upload)."""
    kinds = {"single": "单选", "multiple": "多选", "judge": "判断"}
    rows: list[list[object]] = []
    for item in items:
        options = list(item.get("options", []))
        rows.append(
            [
                kinds.get(item["kind"], item["kind"]),
                item["stem"],
                *options,
                *([""] * (6 - len(options))),
                item["answer"],
                None,
            ]
        )
    return rows


def demo_banks() -> list[DemoBank]:
    """The demo banks: for each position the common questions and that position's own, validated like a
    sheet (a mistake in the data files fails here, and in the tests)."""
    common = _demo_file(DEMO_COMMON)
    banks: list[DemoBank] = []
    for path in sorted(resources.files(DEMO_PACKAGE).iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".json") or path.name == DEMO_COMMON:
            continue
        spec = _demo_file(path.name)
        position = spec["position"]
        bank_id = demo_bank_id(position)
        result = domain.validate_bank(
            domain.COLUMNS, _rows([*common["questions"], *spec["questions"]]), bank_id=bank_id
        )
        if result.problems:
            raise ValueError(f"demo bank {path.name}: {result.problems[:3]}")
        title = spec["title"]
        if not title.startswith(DEMO_MARK):
            raise ValueError(f"demo bank {path.name}: the title must start with {DEMO_MARK}")
        banks.append(DemoBank(bank_id, position, spec.get("specialisation"), title, result.questions))
    return banks


async def load_demo_banks(store: EventStore, *, imported_by: str = "") -> list[dict[str, Any]]:
    """Import every demo bank that is not there yet (deterministic ids: a second call changes nothing)."""
    out = []
    for demo in demo_banks():
        form = domain.BankForm(
            bank_id=demo.bank_id,
            owner_id=domain.ADMIN_OWNER,
            position=demo.position,
            specialisation=demo.specialisation,
            title=demo.title,
            questions=demo.questions,
            demo=True,
            imported_by=imported_by,
        )
        created = await _append(store, form)
        out.append(
            {
                "bank_id": demo.bank_id,
                "position": demo.position,
                "title": demo.title,
                "question_count": len(demo.questions),
                "counts": domain.kind_counts(demo.questions),
                "created": created,
            }
        )
    return out


# ---------------------------------------------------------------- retire


async def retire(store: EventStore, bank_id: str, *, by_owner: str | None, retired_by: str) -> None:
    await execute(
        store,
        bank_stream(bank_id),
        lambda h: domain.retire_bank(h, bank_id=bank_id, by_owner=by_owner, retired_by=retired_by),
        stream_type="bank",
    )


# ---------------------------------------------------------------- views


SUMMARY_FIELDS = (
    "bank_id",
    "owner_id",
    "position",
    "specialisation",
    "title",
    "demo",
    "retired",
    "imported_at",
    "question_count",
    "counts",
    "complete",
)


def summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {key: doc.get(key) for key in SUMMARY_FIELDS}


def visible_owners(owner_id: str | None) -> list[str]:
    """Whose banks an institution sees: its own and the administrator's."""
    return [o for o in (owner_id, domain.ADMIN_OWNER) if o]


async def get_bank(store: EventStore, bank_id: str, *, viewer_org: str | None) -> dict[str, Any]:
    """A bank with its questions; `viewer_org` None is an administrator. Answers only for owner or admin."""
    doc = await store.db[QUESTION_BANKS].find_one({"_id": bank_id})
    if doc is None or (viewer_org is not None and doc.get("owner_id") not in visible_owners(viewer_org)):
        raise NotFound("未找到该题库", code="bank_not_found")
    with_answers = viewer_org is None or doc.get("owner_id") == viewer_org
    questions = doc.get("questions") or []
    if not with_answers:
        questions = [{k: v for k, v in q.items() if k != "answer"} for q in questions]
    return {**summary(doc), "answers_shown": with_answers, "questions": questions}
