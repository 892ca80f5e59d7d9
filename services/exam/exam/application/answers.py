"""The answer sheets (`attempt_answers`, write side): one document per attempt, `_id` = the candidate id (a
candidate has one attempt at most: a retake is a new candidate; `attempt_id` is a field), so that every
access is a point lookup on `_id` and an update maintains no second index. Made when the exam starts,
overwritten by each autosave, closed by the submission, which then records the final answers on the
candidate's stream (PaperSubmitted).

An autosave is one conditional update of the sheet (compare and set): the filter holds `closed_by: None`
(never after the submission closed it) and the `save_no` the save was decided on — the one the client sent
(see `domain.answers`), or else the one this process last read or wrote. What a save is checked against
beforehand (the paper's shape, the deadline) never changes once the sheet is made, so each process keeps the
sheets it has seen in a small cache (`SHAPES`) and reads a sheet only on a miss, or when the update matched
nothing (to tell why: closed, another save first, a repeated request; without a client `save_no` it then
writes again on the fresh number, so the last save to arrive wins). A save racing the submission therefore
either lands before the submission closes the sheet (and is in the final answers) or matches nothing and is
refused (`already_submitted` / `time_up`). Closing is one update on `closed_by: None`: whoever closes first
freezes the answers, every later submission reads the same ones.

Only `update_one`, `insert_one` and `find_one` on `_id` touch this collection: the local MongoDB server
(SecantusDB) runs `find_one_and_update` as a scan of the whole collection.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError
from servicekit.mongo import Database, Document

from ..domain import answers as sheets
from ..domain import candidate as domain

ANSWERS = "attempt_answers"


class Shapes:
    """The sheets as last read, per database and candidate, for their fixed part (attempt, paper, deadline;
    a closed sheet stays closed). Least recently used first out."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._sheets: OrderedDict[tuple[str, str], sheets.AnswerSheet] = OrderedDict()

    def get(self, db: Database, candidate_id: str) -> sheets.AnswerSheet | None:
        key = (db.name, candidate_id)
        found = self._sheets.get(key)
        if found is not None:
            self._sheets.move_to_end(key)
        return found

    def put(self, db: Database, sheet: sheets.AnswerSheet) -> sheets.AnswerSheet:
        key = (db.name, sheet.candidate_id)
        self._sheets[key] = sheet
        self._sheets.move_to_end(key)
        while len(self._sheets) > self.size:
            self._sheets.popitem(last=False)
        return sheet

    def clear(self) -> None:
        self._sheets.clear()


SHAPES = Shapes()


def to_document(sheet: sheets.AnswerSheet) -> Document:
    return {
        "_id": sheet.candidate_id,
        "attempt_id": sheet.attempt_id,
        "started_at": sheet.started_at,
        "deadline": sheet.deadline,
        "earliest_submission": sheet.earliest_submission,
        "slots": [[s.question_id, s.kind, s.options] for s in sheet.slots],
        "answers": sheet.answers,
        "saved_at": sheet.saved_at,
        "save_no": sheet.save_no,
        "closed_by": sheet.closed_by,
        "result": sheet.result,
    }


def from_document(doc: Mapping[str, Any]) -> sheets.AnswerSheet:
    return sheets.AnswerSheet(
        attempt_id=doc["attempt_id"],
        candidate_id=doc["_id"],
        started_at=doc["started_at"],
        deadline=doc["deadline"],
        earliest_submission=doc["earliest_submission"],
        slots=tuple(sheets.Slot(str(q), kind, int(n)) for q, kind, n in doc.get("slots") or ()),
        answers={k: list(v) for k, v in (doc.get("answers") or {}).items()},
        saved_at=doc.get("saved_at"),
        save_no=int(doc.get("save_no") or 0),
        closed_by=doc.get("closed_by"),
        result=doc.get("result"),
    )


async def find(db: Database, candidate_id: str) -> sheets.AnswerSheet | None:
    doc = await db[ANSWERS].find_one({"_id": candidate_id})
    return SHAPES.put(db, from_document(doc)) if doc is not None else None


async def shape(db: Database, candidate_id: str) -> sheets.AnswerSheet | None:
    """The sheet's fixed part, from this process's cache or read (its answers and `save_no` may be old)."""
    return SHAPES.get(db, candidate_id) or await find(db, candidate_id)


async def ensure(db: Database, state: domain.Candidate) -> sheets.AnswerSheet:
    """The attempt's sheet: the stored one, or a new one made from the stream (at the start; or later for an
    attempt that has none, see `domain.sheet_of`). Never replaces a stored sheet."""
    sheet = domain.sheet_of(state)
    doc = await db[ANSWERS].find_one({"_id": sheet.candidate_id})
    if doc is None:
        try:
            await db[ANSWERS].insert_one(to_document(sheet))
            return SHAPES.put(db, sheet)
        except DuplicateKeyError:  # made meanwhile by a racing request
            doc = await db[ANSWERS].find_one({"_id": sheet.candidate_id})
    assert doc is not None
    return SHAPES.put(db, from_document(doc))


async def write(
    db: Database,
    sheet: sheets.AnswerSheet,
    answers: dict[str, list[int]],
    *,
    now: datetime,
    save_no: int,
) -> sheets.AnswerSheet | None:
    """Store an autosave decided on the sheet at `save_no`; the sheet after it, or None when the stored sheet
    is no longer open at that number (closed meanwhile, or another save came first)."""
    written = await db[ANSWERS].update_one(
        {"_id": sheet.candidate_id, "closed_by": None, "save_no": save_no},
        {"$set": {"answers": answers, "saved_at": now, "save_no": save_no + 1}},
    )
    if written.matched_count == 0:
        return None
    return SHAPES.put(db, dataclasses.replace(sheet, answers=answers, saved_at=now, save_no=save_no + 1))


async def close(
    db: Database,
    state: domain.Candidate,
    *,
    automatic: bool,
    now: datetime,
    answers: Mapping[str, Sequence[int]] | None = None,
) -> sheets.AnswerSheet:
    """Close the attempt's sheet for a submission and return its final answers (from then on no save is
    written). The candidate's own submission may bring the answers one last time (`answers`, checked). When
    someone else closed it first, its answers are already final and `answers` is ignored."""
    assert state.started is not None
    final = sheets.closing_answers(
        sheets.slots_of(state.started.questions), automatic=automatic, answers=answers
    )
    change: dict[str, Any] = {
        "$set": {"closed_by": sheets.AUTOMATICALLY if automatic else sheets.BY_CANDIDATE, "closed_at": now}
    }
    if final is not None:
        change["$set"].update(answers=final, saved_at=now)
        change["$inc"] = {"save_no": 1}
    collection, candidate_id = db[ANSWERS], state.started.candidate_id
    for _ in range(2):
        await collection.update_one({"_id": candidate_id, "closed_by": None}, change)
        doc = await collection.find_one({"_id": candidate_id})  # closed now, by this call or an earlier one
        if doc is not None:
            return SHAPES.put(db, from_document(doc))
        await ensure(db, state)  # an attempt without a sheet (see `domain.sheet_of`): make it, then close it
    raise AssertionError(f"no answer sheet for candidate {candidate_id}")


async def record_result(db: Database, sheet: sheets.AnswerSheet, result: dict[str, Any]) -> None:
    """The result's view on the closed sheet (the refusal of a later save carries it)."""
    await db[ANSWERS].update_one({"_id": sheet.candidate_id}, {"$set": {"result": result}})
    SHAPES.put(db, dataclasses.replace(sheet, result=result))


async def progress(db: Database, candidate_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Live progress of attempts for the candidates' views: candidate id → answered count, last save."""
    ids = sorted({c for c in candidate_ids if c})
    if not ids:
        return {}
    found: dict[str, dict[str, Any]] = {}
    cursor = db[ANSWERS].find({"_id": {"$in": ids}}, {"answers": 1, "saved_at": 1, "save_no": 1})
    async for doc in cursor:
        found[doc["_id"]] = {
            "answered_count": sheets.answered(doc.get("answers") or {}),
            "last_saved_at": doc.get("saved_at"),
            "save_no": int(doc.get("save_no") or 0),
        }
    return found
