"""Importing a batch of applicants: the summary sheet (or the same rows as JSON) is validated completely —
every problem of every row at once — and only a sheet without a single problem is imported: first each
applicant's own stream, started with ApplicantRegistered (1,000 applicants per transaction; nothing names them
yet), then, in one transaction, the batch's public ApplicantsImported events (a large batch is split into
several of them) and the write-side applicant index, which make the batch and its applicants visible at once.
An import that fails between the two leaves applicant streams that nothing names, and nothing is imported."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from events import DomainEvent
from events.enrollment import ImportedApplicant
from servicekit import clock
from servicekit.commands import execute
from servicekit.errors import DomainError
from servicekit.eventstore import EVENTS, EventStore
from servicekit.mongo import Session, in_transaction

from ..domain import applicant as applicant_domain
from ..domain import sheet as sheet_rules
from ..domain.batch import BatchForm, import_batch
from ..domain.identity import normalize_cell, normalize_id_number
from ..domain.reference import POSITIONS, TRAINING_MODES
from ..projections.institutions import INSTITUTIONS
from ..projections.read_models import ENTERPRISES, HOLDERS
from .handlers import APPLICANT_INDEX, applicant_stream, batch_stream, open_filter
from .institutions import ensure_offered
from .sanctions import ensure_enrollment_open

# Applicants' streams started per transaction. The local MongoDB server stalls for minutes on a transaction
# that writes ~10,000 event documents (~7 MB); 1,000 (~1 MB) take well under a second.
REGISTRATIONS_PER_TRANSACTION = 1000


@dataclass(frozen=True)
class BatchSpec:
    institution_id: str
    position: str
    training_mode: str
    specialisation: str | None = None
    continuing_education: bool = False


def check_spec(spec: BatchSpec) -> None:
    problems = []
    if spec.position not in POSITIONS:
        problems.append(
            {"field": "position", "code": "invalid_position", "message": f"岗位应为：{'、'.join(POSITIONS)}"}
        )
    else:
        allowed = POSITIONS[spec.position]
        if allowed and spec.specialisation not in allowed:
            problems.append(
                {
                    "field": "specialisation",
                    "code": "invalid_specialisation",
                    "message": f"{spec.position}须选择专业方向：{'、'.join(allowed)}",
                }
            )
        if not allowed and spec.specialisation:
            problems.append(
                {
                    "field": "specialisation",
                    "code": "invalid_specialisation",
                    "message": f"{spec.position}没有专业方向，请不要填写",
                }
            )
    if spec.training_mode not in TRAINING_MODES:
        problems.append(
            {
                "field": "training_mode",
                "code": "invalid_training_mode",
                "message": "培训方式应为 online（线上）或 offline（线下）",
            }
        )
    if not spec.institution_id:
        problems.append({"field": "institution_id", "code": "required", "message": "请选择培训机构"})
    if problems:
        raise DomainError(
            "报名批次信息不正确：" + "；".join(p["message"] for p in problems),
            code="invalid_batch",
            details=problems,
        )


async def registered_name(store: EventStore, enterprise_id: str) -> str:
    """The enterprise's registered full name, which every 工作单位 of its sheets must be (from registration's
    EnterpriseApproved, in the `enterprise_status` read model). Only an approved enterprise can import, and
    approval carries the name, so an unknown name is a fault: nothing is imported unchecked."""
    doc = await store.db[ENTERPRISES].find_one({"_id": enterprise_id}, {"name": 1})
    name = " ".join(str((doc or {}).get("name") or "").split())
    if not name:
        raise DomainError(
            "报名系统尚未获得本企业的注册名称，无法核对“工作单位”，未导入任何数据；请稍后重试，"
            "如仍出现请联系所在市建设主管部门",
            code="enterprise_name_unknown",
            status=409,
        )
    return name


def _id_rows(header: Sequence[object], rows: Sequence[Sequence[object]], header_row: int) -> dict[str, int]:
    """ID number → spreadsheet row, for problems found after the sheet's own validation."""
    try:
        column = [normalize_cell(c) for c in header].index(sheet_rules.ID_NUMBER)
    except ValueError:
        return {}
    found: dict[str, int] = {}
    for offset, row in enumerate(rows, start=1):
        if column < len(row):
            number = normalize_id_number(normalize_cell(row[column]))
            found.setdefault(number, header_row + offset)
    return found


def problems_payload(problems: Sequence[sheet_rules.RowProblem]) -> list[dict[str, Any]]:
    return [asdict(p) for p in problems]


async def validate_and_import(
    store: EventStore,
    *,
    enterprise_id: str,
    spec: BatchSpec,
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    today: date,
    progress: Callable[[int], None] | None = None,
    header_row: int = 1,
) -> dict[str, Any]:
    """Validate every row; import only when nothing is wrong. Raises DomainError(code="invalid_sheet") with
    every problem (row, column, value, code, message) otherwise."""
    check_spec(spec)
    await ensure_offered(store, spec.institution_id, spec.position, spec.specialisation, spec.training_mode)
    await ensure_enrollment_open(store, spec.institution_id, today=today)
    rules = sheet_rules.SheetRules(today=today, employer=await registered_name(store, enterprise_id))
    result = await asyncio.to_thread(
        sheet_rules.validate_sheet, header, rows, rules, progress=progress, header_row=header_row
    )
    problems = list(result.problems)
    if result.records:
        problems += await _context_problems(store, spec, result.records, _id_rows(header, rows, header_row))
    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise DomainError(
            f"报名汇总表有 {len(problems)} 处问题，未导入任何数据；请按行号修改后重新导入",
            code="invalid_sheet",
            details=problems_payload(problems),
        )
    if not result.records:
        raise DomainError("报名汇总表中没有学员数据", code="empty_sheet")
    batch_id, applicant_ids = await _append(store, enterprise_id, spec, result.records)
    return {
        "batch_id": batch_id,
        "count": len(applicant_ids),
        "applicant_ids": applicant_ids,
        "rows_read": result.rows_read,
    }


async def _context_problems(
    store: EventStore,
    spec: BatchSpec,
    records: Sequence[sheet_rules.ApplicantRecord],
    rows_of: dict[str, int],
) -> list[sheet_rules.RowProblem]:
    """What the sheet alone cannot know: already enrolled for this position; for continuing education,
    holding a certificate of this position."""
    numbers = [r.id_number for r in records]
    problems = []
    cursor = store.db[APPLICANT_INDEX].find(
        {
            "id_number": {"$in": numbers},
            **open_filter(position=spec.position, continuing_education=spec.continuing_education),
        },
        {"id_number": 1, "batch_id": 1, "institution_id": 1, "continuing_education": 1},
    )
    batches: dict[str, str] = {}
    async for doc in cursor:
        number = doc["id_number"]
        if doc["batch_id"] not in batches:
            batches[doc["batch_id"]] = await batch_description(store, doc)
        problems.append(
            sheet_rules.RowProblem(
                row=rows_of.get(number, 0),
                column=sheet_rules.ID_NUMBER,
                value=number,
                code="duplicate_open_batch",
                message=f"第 {rows_of.get(number, '?')} 行："
                + open_enrollment_text(batches[doc["batch_id"]], spec.position, spec.continuing_education),
            )
        )
    if spec.continuing_education:
        holders = {
            d["id_number"]
            async for d in store.db[HOLDERS].find(
                {
                    "id_number": {"$in": numbers},
                    "position": spec.position,
                    "state": {"$in": list(CE_HOLDER_STATES)},
                },
                {"id_number": 1},
            )
        }
        for number in numbers:
            if number not in holders:
                problems.append(
                    sheet_rules.RowProblem(
                        row=rows_of.get(number, 0),
                        column=sheet_rules.ID_NUMBER,
                        value=number,
                        code="no_certificate",
                        message=f"第 {rows_of.get(number, '?')} 行："
                        f"该学员没有有效或已失效的{spec.position}证书，不能报名继续教育"
                        "（已失效的证书可通过继续教育重新培训恢复有效）",
                    )
                )
    return problems


# Who may enroll in continuing education: a valid holder (the yearly cycle), and a lapsed one (retraining:
# once its credited training meets one cycle's requirement the certificate is reinstated).
CE_HOLDER_STATES = ("valid", "lapsed")


def kind_label(continuing_education: bool) -> str:
    return "继续教育" if continuing_education else "新取证培训"


async def batch_description(store: EventStore, row: dict[str, Any]) -> str:
    """An open batch as an error names it: its id, its import date (China time) and its institution."""
    first = await store.db[EVENTS].find_one(
        {"stream_id": batch_stream(row["batch_id"])}, {"recorded_at": 1}, sort=[("version", 1)]
    )
    institution = await store.db[INSTITUTIONS].find_one({"_id": row.get("institution_id")}, {"name": 1})
    name = (institution or {}).get("name") or f"编号 {row.get('institution_id', '')}"
    imported = ""
    if first and first.get("recorded_at"):
        imported = f"，{clock.business_date(first['recorded_at']).isoformat()} 导入"
    return f"批次 {row['batch_id']}（培训机构：{name}{imported}）"


def open_enrollment_text(batch: str, position: str, continuing_education: bool) -> str:
    return (
        f"该学员在{batch}中的{position}{kind_label(continuing_education)}报名尚未结束，不能重复报名；"
        "该报名结束（取得证书、学时已登记、审核未通过或企业撤回报名）后方可再次报名"
    )


async def open_enrollment_message(store: EventStore, row: dict[str, Any], position: str) -> str:
    """The duplicate rule's message for one open index row (corrections and approvals)."""
    batch = await batch_description(store, row)
    return open_enrollment_text(batch, position, bool(row.get("continuing_education")))


async def _append(
    store: EventStore, enterprise_id: str, spec: BatchSpec, records: Sequence[sheet_rules.ApplicantRecord]
) -> tuple[str, list[str]]:
    batch_id = uuid.uuid4().hex
    applicants = [ImportedApplicant(applicant_id=uuid.uuid4().hex, **asdict(r)) for r in records]
    form = BatchForm(
        batch_id=batch_id,
        enterprise_id=enterprise_id,
        institution_id=spec.institution_id,
        position=spec.position,
        training_mode=spec.training_mode,
        applicants=applicants,
        specialisation=spec.specialisation,
        continuing_education=spec.continuing_education,
    )

    chunks = import_batch([], form)  # a new batch id: nothing to read
    registrations = applicant_domain.registrations(chunks)
    # 1. each applicant's own stream, REGISTRATIONS_PER_TRANSACTION at a time: nothing names these streams
    #    before step 2 (their ids are new, and neither the index nor the batch holds them yet)
    for start in range(0, len(registrations), REGISTRATIONS_PER_TRANSACTION):
        part: list[tuple[str, Sequence[DomainEvent], int]] = [
            (applicant_stream(r.applicant_id), [r], 0)
            for r in registrations[start : start + REGISTRATIONS_PER_TRANSACTION]
        ]
        await in_transaction(
            store.client,
            lambda session, part=part: store.append_many(part, stream_type="applicant", session=session),
        )
        store.notify()

    # 2. the batch becomes visible at once: its public chunks and the applicant index, one transaction
    async def work(session: Session) -> None:
        await execute(
            store,
            batch_stream(batch_id),
            lambda h: chunks if not h else import_batch(h, form),
            stream_type="batch",
            session=session,
            loaded=([], 0),
        )
        await store.db[APPLICANT_INDEX].insert_many(
            [
                {
                    "_id": a.applicant_id,
                    "batch_id": batch_id,
                    "enterprise_id": enterprise_id,
                    "institution_id": spec.institution_id,
                    "id_number": a.id_number,
                    "position": spec.position,
                    "continuing_education": spec.continuing_education,
                }
                for a in applicants
            ],
            session=session,
        )

    await in_transaction(store.client, work)
    store.notify()
    return batch_id, [a.applicant_id for a in applicants]
