"""The timed exam: start (draw the paper), autosave, submit (score at once), and the automatic submission at
the deadline — lazily when a request comes after it, and by the sweeper, a loop every exam replica runs.

An autosave touches only the attempt's answer sheet (`application.answers`), never the candidate's stream:
its cost does not grow with the number of earlier saves. Every other use case reads the candidate's stream
once per request and decides on what it read (`context.decide_on`).

Every submission closes the answer sheet (no save is written after that), then decides on the candidate's
stream and appends PaperSubmitted (the sheet's final answers) and the result at the stream's expected
version: two replicas sweeping the same attempt, or a sweep racing the candidate's own submit, end with one
result (the loser is decided again, finds the result and does nothing), and a repeated submit answers the
same result.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from servicekit.errors import Conflict, DomainError
from servicekit.eventstore import EventStore
from servicekit.logging import get_logger

from exam.domain.events import BankQuestion, PaperQuestion

from ..domain import answers as sheets
from ..domain import candidate as domain
from ..domain.paper import choose_bank, draw_paper, score
from ..domain.session import Applicant
from ..domain.timing import local_iso
from ..projections.attempts import ATTEMPTS
from ..projections.banks import QUESTION_BANKS
from . import answers as answer_sheets
from .checkin import current_session_id
from .context import (
    Clock,
    ExamRules,
    Loaded,
    blacklisted_until,
    candidate_stream,
    decide_on,
    load_applicant,
    load_session,
)

log = get_logger(__name__)


async def load(store: EventStore, candidate_id: str) -> domain.Candidate:
    history, _ = await store.load_events(candidate_stream(candidate_id))
    return domain.Candidate.from_history(history)


def _scorer(rules: ExamRules) -> domain.Scorer:
    def scorer(questions: Sequence[PaperQuestion], answers: Mapping[str, Sequence[int]]) -> int:
        return score(questions, answers, rules.paper)

    return scorer


async def draw(store: EventStore, applicant: Applicant, rules: ExamRules) -> tuple[str, list[PaperQuestion]]:
    banks = [
        b
        async for b in store.db[QUESTION_BANKS].find(
            {"position": applicant.position, "retired": {"$ne": True}},
        )
    ]
    bank = choose_bank(
        banks,
        institution_id=applicant.institution_id,
        position=applicant.position,
        specialisation=applicant.specialisation,
    )
    if bank is None:
        raise Conflict(
            f"没有可用于{applicant.position}的题库，请培训机构或管理员先导入题库", code="no_question_bank"
        )
    questions = [BankQuestion.model_validate(q) for q in bank["questions"]]
    rng = random.Random(secrets.randbits(64))
    return str(bank.get("bank_id") or bank["_id"]), draw_paper(questions, rules.paper, rng)


async def read(store: EventStore, candidate_id: str) -> Loaded:
    """The candidate's stream, read once for the request."""
    history, version = await store.load_events(candidate_stream(candidate_id))
    return list(history), version


async def start(
    store: EventStore, candidate_id: str, *, rules: ExamRules, now: datetime
) -> tuple[domain.Candidate, sheets.AnswerSheet]:
    """The candidate's state once started (the running attempt if the exam was already started, submitted
    automatically if its time ran out) and the attempt's answer sheet, made at the start."""
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # the sheet keeps the times in BSON (ms)
    loaded = await read(store, candidate_id)
    state = domain.Candidate.from_history(loaded[0])
    if state.started is not None:
        state = await _settle(store, candidate_id, loaded, rules=rules, now=now)
        return state, await answer_sheets.ensure(store.db, state)
    applicant = await load_applicant(store.db, candidate_id)
    session = await load_session(store, await current_session_id(store, candidate_id, state))
    barred = await blacklisted_until(store.db, applicant.id_number, session.day)
    attempt_id = uuid.uuid4().hex

    def decide(h: list[Any], questions: Sequence[PaperQuestion] = (), bank_id: str = "-") -> list[Any]:
        return domain.start(
            domain.Candidate.from_history(h),
            applicant=applicant,
            session=session,
            attempt_id=attempt_id,
            bank_id=bank_id,
            questions=questions,
            rules=rules.checkin,
            timing=rules.timing,
            now=now,
            blacklisted_until=barred,
        )

    try:  # refuse (not verified, too late, …) before drawing a paper
        decide(loaded[0])
    except DomainError as exc:
        if exc.code != "empty_paper":
            raise
    bank_id, questions = await draw(store, applicant, rules)
    history, _ = await decide_on(
        store,
        candidate_stream(candidate_id),
        loaded,
        lambda h: decide(h, questions, bank_id),
        stream_type="candidate",
    )
    state = domain.Candidate.from_history(history)
    assert state.started is not None
    return state, await answer_sheets.ensure(store.db, state)


async def _submit(
    store: EventStore,
    candidate_id: str,
    loaded: Loaded,
    *,
    rules: ExamRules,
    now: datetime,
    answers: Mapping[str, Sequence[int]] | None = None,
    automatic: bool = False,
) -> tuple[domain.Candidate, bool]:
    """Submit on the stream the request read: the state after it, and whether this call scored the paper
    (False: someone else did, or nothing to do). Closes the answer sheet first: its answers are final."""
    state = domain.Candidate.from_history(loaded[0])
    plan = domain.submission(state, now=now, automatic=automatic)
    if plan is None:
        return state, False
    applicant = await load_applicant(store.db, candidate_id)
    sheet = await answer_sheets.close(store.db, state, automatic=plan.automatic, now=now, answers=answers)
    history, scored = await decide_on(
        store,
        candidate_stream(candidate_id),
        loaded,
        lambda h: domain.submit(
            domain.Candidate.from_history(h),
            applicant=applicant,
            scorer=_scorer(rules),
            rules=rules.scoring,
            now=now,
            answers=sheet.answers,
            saved_at=sheet.saved_at,
            saves=sheet.save_no,
            automatic=automatic,
        ),
        stream_type="candidate",
    )
    state = domain.Candidate.from_history(history)
    if state.result is not None and sheet.result is None:
        await answer_sheets.record_result(store.db, sheet, domain.result_view(state.result))
    return state, scored


async def submit(
    store: EventStore,
    candidate_id: str,
    *,
    rules: ExamRules,
    now: datetime,
    answers: Mapping[str, Sequence[int]] | None = None,
    automatic: bool = False,
) -> domain.Result | None:
    """Submit (or, with `automatic`, submit only if the time is up); the result, or None if still running."""
    loaded = await read(store, candidate_id)
    state, _ = await _submit(
        store, candidate_id, loaded, rules=rules, now=now, answers=answers, automatic=automatic
    )
    return state.result


async def _settle(
    store: EventStore, candidate_id: str, loaded: Loaded, *, rules: ExamRules, now: datetime
) -> domain.Candidate:
    """The state on the stream the request read, after the automatic submission if the time ran out."""
    state = domain.Candidate.from_history(loaded[0])
    if domain.time_up(state, now):
        state, _ = await _submit(store, candidate_id, loaded, rules=rules, now=now, automatic=True)
    return state


async def current(
    store: EventStore, candidate_id: str, *, rules: ExamRules, now: datetime
) -> domain.Candidate:
    """The candidate's state, after the automatic submission if the time ran out (lazy submission)."""
    return await _settle(store, candidate_id, await read(store, candidate_id), rules=rules, now=now)


async def sheet(store: EventStore, state: domain.Candidate, candidate_id: str) -> sheets.AnswerSheet | None:
    """The attempt's answer sheet (made from the stream if the attempt has none yet); None if not started."""
    if state.started is None:
        return None
    return await answer_sheets.find(store.db, candidate_id) or await answer_sheets.ensure(store.db, state)


async def save(
    store: EventStore,
    candidate_id: str,
    *,
    answers: Mapping[str, Sequence[int]],
    rules: ExamRules,
    now: datetime,
    save_no: int | None = None,
) -> sheets.AnswerSheet:
    """An autosave: one conditional write of the attempt's answer sheet (see `application.answers`;
    `domain.answers.save` for the refusals and `save_no`). The candidate's stream is read only when there is
    no sheet (not started, or an attempt older than the sheets) and once the deadline has passed (the
    automatic submission, lazily)."""
    known = await answer_sheets.shape(store.db, candidate_id)
    if known is None:
        state = await current(store, candidate_id, rules=rules, now=now)
        known = await answer_sheets.ensure(store.db, state)  # exam_not_started if there is no attempt
    if known.closed_by is not None:  # closed is final
        raise sheets.closed_error(known)
    try:
        clean = sheets.admissible(known, answers=answers, now=now)
    except Conflict as refused:
        if refused.code == "time_up":  # the submission at the deadline, lazily, unless done already
            state = await current(store, candidate_id, rules=rules, now=now)
            if state.result is not None:
                raise sheets.closed_error(
                    dataclasses.replace(
                        known, closed_by=sheets.AUTOMATICALLY, result=domain.result_view(state.result)
                    )
                ) from None
        raise
    expected = save_no if save_no is not None else known.save_no
    for _ in range(3):
        saved = await answer_sheets.write(store.db, known, clean, now=now, save_no=expected)
        if saved is not None:
            return saved
        # nothing matched: closed by a submission, another save first, a repeated request, or an old cache
        stored = await answer_sheets.find(store.db, candidate_id)
        assert stored is not None
        if sheets.save(stored, answers=answers, now=now, save_no=save_no) is None:
            return stored
        known, expected = stored, stored.save_no
    raise Conflict("答案保存冲突，请重试", code="save_conflict")


def paper_view(
    state: domain.Candidate, now: datetime, sheet: sheets.AnswerSheet | None = None
) -> dict[str, Any]:
    """The candidate's paper without the right answers; the candidate's own answers from the sheet."""
    started = state.started
    assert started is not None
    answers = sheet.answers if sheet is not None else state.answers
    saved_at = sheet.saved_at if sheet is not None else state.saved_at
    return {
        "attempt_id": started.attempt_id,
        "candidate_id": started.candidate_id,
        "session_id": started.session_id,
        "started_at": started.started_at.isoformat(),
        "deadline": started.deadline.isoformat(),
        "earliest_submission": started.earliest_submission.isoformat(),
        "server_time": local_iso(now),  # China time (the page corrects its clock with it)
        "seconds_left": max(0, int((started.deadline - now).total_seconds())),
        "seconds_until_submission": max(0, int((started.earliest_submission - now).total_seconds() + 0.999)),
        "submitted": state.result is not None,
        "questions": [
            {
                "question_id": q.question_id,
                "kind": q.kind,
                "kind_label": {"single": "单选题", "multiple": "多选题", "judge": "判断题"}[q.kind],
                "stem": q.stem,
                "options": q.options,
                "points": q.points,
            }
            for q in started.questions
        ],
        "answers": answers,
        "saved_at": saved_at.isoformat() if saved_at else None,
        "save_no": sheet.save_no if sheet is not None else 0,
    }


async def sweep(store: EventStore, *, rules: ExamRules, now: datetime, limit: int = 200) -> list[str]:
    """Submit every attempt whose time is up; returns the candidates submitted now (idempotent)."""
    done = []
    cursor = store.db[ATTEMPTS].find({"status": "in_progress", "deadline": {"$lte": now}}).limit(limit)
    async for doc in cursor:
        candidate_id = doc["candidate_id"]
        try:
            loaded = await read(store, candidate_id)
            state, scored = await _submit(store, candidate_id, loaded, rules=rules, now=now, automatic=True)
        except DomainError as exc:
            log.warning("exam.sweep_failed", candidate_id=candidate_id, code=exc.code)
            continue
        if scored and state.result is not None:
            done.append(candidate_id)
    if done:
        log.info("exam.swept", submitted=len(done))
    return done


async def sweeper(
    store: EventStore, *, rules: ExamRules, clock: Clock, every: float, stop: asyncio.Event
) -> None:
    """The automatic submission loop (every replica runs one; appends at expected versions keep it single)."""
    while not stop.is_set():
        try:
            await sweep(store, rules=rules, now=clock())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away for a moment: try again next round
            log.warning("exam.sweep_error", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
