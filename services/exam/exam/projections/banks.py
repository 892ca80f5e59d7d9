"""Read model of the question banks: one document per bank, with every question (for drawing papers).

A large bank arrives as several QuestionBankImported parts; each part is kept under `pending_parts` until
every part is there, then the questions are laid out in part order and `complete` becomes true, whatever
order the parts were applied in. A bank that is not complete is never chosen for a paper.
"""

from __future__ import annotations

from typing import Any

from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from exam.domain.events import QuestionBankImported, QuestionBankRetired

from ..domain.bank import KIND_LABELS

QUESTION_BANKS = "question_banks"


def _counts(questions: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(KIND_LABELS, 0)
    for question in questions:
        counts[question["kind"]] = counts.get(question["kind"], 0) + 1
    return counts


def question_banks(database: str) -> Projection:
    projection = Projection(name="question_banks", collections=[QUESTION_BANKS], database=database)

    async def load(session: Session, bank_id: str) -> dict[str, Any]:
        doc = await projection.collection(session).find_one({"_id": bank_id}, session=session)
        return doc or {"_id": bank_id, "bank_id": bank_id, "retired": False}

    async def save(session: Session, doc: dict[str, Any]) -> None:
        await projection.collection(session).replace_one(
            {"_id": doc["_id"]}, doc, upsert=True, session=session
        )

    @projection.handlers.on(QuestionBankImported)
    async def imported(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, QuestionBankImported)
        doc = await load(session, e.bank_id)
        if doc.get("complete"):
            return  # every part is in already (a replayed part changes nothing)
        time = received.envelope.time
        doc.update(
            owner_id=e.owner_id,
            position=e.position,
            specialisation=e.specialisation,
            title=e.title,
            demo=e.demo,
            imported_by=e.imported_by,
            parts=e.parts,
        )
        if doc.get("imported_at") is None or time < doc["imported_at"]:
            doc["imported_at"] = time
        pending: dict[str, list[dict[str, Any]]] = doc.get("pending_parts") or {}
        pending[str(e.part)] = [q.model_dump(mode="json") for q in e.questions]
        if all(str(part) in pending for part in range(1, e.parts + 1)):
            questions = [q for part in range(1, e.parts + 1) for q in pending[str(part)]]
            doc.pop("pending_parts", None)
            doc.update(complete=True, questions=questions)
        else:
            questions = [q for part in sorted(pending, key=int) for q in pending[part]]
            doc.update(complete=False, pending_parts=pending, questions=[])
        doc.update(question_count=len(questions), counts=_counts(questions))
        doc.setdefault("retired", False)
        await save(session, doc)

    @projection.handlers.on(QuestionBankRetired)
    async def retired(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, QuestionBankRetired)
        doc = await load(session, e.bank_id)
        doc.update(
            retired=True, retired_at=received.envelope.time, retired_by=e.retired_by, owner_id=e.owner_id
        )
        await save(session, doc)

    return projection
