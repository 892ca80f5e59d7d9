"""The timed exam: start (draw the paper), autosave, submit (score at once), and the automatic submission at
the deadline — lazily when a request comes after it, and by the sweeper, a loop every exam replica runs.

Every submission is a decision on the candidate's stream appended at its expected version: two replicas
sweeping the same attempt, or a sweep racing the candidate's own submit, end with one result (the loser is
decided again, finds the result and does nothing), and a repeated submit answers the same result.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from events import ExamFailed, ExamPassed
from servicekit.commands import execute
from servicekit.errors import Conflict, DomainError
from servicekit.eventstore import EventStore
from servicekit.logging import get_logger

from exam.domain.events import BankQuestion, PaperQuestion

from ..domain import candidate as domain
from ..domain.paper import choose_bank, draw_paper, score
from ..domain.session import Applicant
from ..projections.attempts import ATTEMPTS
from ..projections.banks import QUESTION_BANKS
from .checkin import current_session_id
from .context import Clock, ExamRules, blacklisted_until, candidate_stream, load_applicant, load_session

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


async def start(store: EventStore, candidate_id: str, *, rules: ExamRules, now: datetime) -> str:
    """The attempt id (the running one if the exam was already started)."""
    applicant = await load_applicant(store.db, candidate_id)
    state = await load(store, candidate_id)
    if state.started is not None:
        return state.started.attempt_id
    session = await load_session(store, await current_session_id(store, candidate_id))
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
        decide(list((await store.load_events(candidate_stream(candidate_id)))[0]))
    except DomainError as exc:
        if exc.code != "empty_paper":
            raise
    bank_id, questions = await draw(store, applicant, rules)
    await execute(
        store,
        candidate_stream(candidate_id),
        lambda h: decide(h, questions, bank_id),
        stream_type="candidate",
    )
    state = await load(store, candidate_id)
    assert state.started is not None
    return state.started.attempt_id


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
    result, _ = await _submit(store, candidate_id, rules=rules, now=now, answers=answers, automatic=automatic)
    return result


async def _submit(
    store: EventStore,
    candidate_id: str,
    *,
    rules: ExamRules,
    now: datetime,
    answers: Mapping[str, Sequence[int]] | None = None,
    automatic: bool = False,
) -> tuple[domain.Result | None, bool]:
    """The result, and whether this call scored the paper (False: someone else did, or nothing to do)."""
    applicant = await load_applicant(store.db, candidate_id)
    stored = await execute(
        store,
        candidate_stream(candidate_id),
        lambda h: domain.submit(
            domain.Candidate.from_history(h),
            applicant=applicant,
            scorer=_scorer(rules),
            rules=rules.scoring,
            now=now,
            answers=answers,
            automatic=automatic,
        ),
        stream_type="candidate",
    )
    return (await load(store, candidate_id)).result, bool(stored)


async def current(
    store: EventStore, candidate_id: str, *, rules: ExamRules, now: datetime
) -> domain.Candidate:
    """The candidate's state, after the automatic submission if the time ran out (lazy submission)."""
    state = await load(store, candidate_id)
    if domain.time_up(state, now):
        await submit(store, candidate_id, rules=rules, now=now, automatic=True)
        state = await load(store, candidate_id)
    return state


async def save(
    store: EventStore,
    candidate_id: str,
    *,
    answers: Mapping[str, Sequence[int]],
    rules: ExamRules,
    now: datetime,
) -> domain.Candidate:
    state = await current(store, candidate_id, rules=rules, now=now)
    if state.result is not None:
        raise Conflict(
            "考试时间已到，试卷已自动提交" if state.result.automatic else "试卷已提交，不能再修改答案",
            code="time_up" if state.result.automatic else "already_submitted",
            details=domain.result_view(state.result),
        )
    await execute(
        store,
        candidate_stream(candidate_id),
        lambda h: domain.save_answers(domain.Candidate.from_history(h), answers=answers, now=now),
        stream_type="candidate",
    )
    return await load(store, candidate_id)


def paper_view(state: domain.Candidate, now: datetime) -> dict[str, Any]:
    """The candidate's paper without the answers."""
    started = state.started
    assert started is not None
    return {
        "attempt_id": started.attempt_id,
        "candidate_id": started.candidate_id,
        "session_id": started.session_id,
        "started_at": started.started_at.isoformat(),
        "deadline": started.deadline.isoformat(),
        "earliest_submission": started.earliest_submission.isoformat(),
        "server_time": now.isoformat(),
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
        "answers": state.answers,
        "saved_at": state.saved_at.isoformat() if state.saved_at else None,
    }


async def sweep(store: EventStore, *, rules: ExamRules, now: datetime, limit: int = 200) -> list[str]:
    """Submit every attempt whose time is up; returns the candidates submitted now (idempotent)."""
    done = []
    cursor = store.db[ATTEMPTS].find({"status": "in_progress", "deadline": {"$lte": now}}).limit(limit)
    async for doc in cursor:
        candidate_id = doc["candidate_id"]
        try:
            before = await load(store, candidate_id)
            if before.result is not None:
                continue
            result, scored = await _submit(store, candidate_id, rules=rules, now=now, automatic=True)
        except DomainError as exc:
            log.warning("exam.sweep_failed", candidate_id=candidate_id, code=exc.code)
            continue
        if scored and isinstance(result, ExamPassed | ExamFailed):
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
