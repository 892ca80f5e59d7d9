"""Training-plan use cases: create a plan, add trainees, record completion, apply for the exam.

Every command on trainees (at most 500) is recorded in ONE MongoDB transaction: the trainees' streams are
read once (one query per 50 of them, before the transaction: each new event is appended at the version after
the one read, so a stream that moved meanwhile makes the request run again on fresh state), the decisions are
appended to each applicant's stream (one insert for all) and, for new trainees, the plan's roster
(`training_plan_trainees`, write side, one document per applicant: an applicant is in at most one plan) is
written in the same transaction. Either the whole request is recorded or nothing is, and the transaction
holds the writes only. Nothing a trainee costs depends on the size of its batch.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from events import DomainEvent
from pymongo.errors import BulkWriteError
from servicekit.commands import execute
from servicekit.errors import Conflict, DomainError, NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, is_duplicate_key
from servicekit.streams import Streams, commit, retrying

from ..domain import applicant as applicant_domain
from ..domain import profile as profile_domain
from ..domain import training as domain
from . import profile as profile_app
from .handlers import LoadedApplicant, applicant_stream, read_applicants

PLAN_TRAINEES = "training_plan_trainees"  # write side: applicant id -> the plan it was added to


def plan_stream(plan_id: str) -> str:
    return f"plan-{plan_id}"


async def ensure_training_indexes(store: EventStore) -> None:
    await store.db[PLAN_TRAINEES].create_index("plan_id")


async def create_plan(store: EventStore, *, institution_id: str, form: domain.PlanForm) -> domain.Plan:
    plan_id = uuid.uuid4().hex
    stored = await execute(
        store,
        plan_stream(plan_id),
        lambda history: domain.create_plan(
            history, plan_id=plan_id, institution_id=institution_id, form=form
        ),
        stream_type="training_plan",
    )
    return domain.Plan.from_history([s.decode() for s in stored])


async def load_plan(
    store: EventStore, plan_id: str, *, institution_id: str | None, session: Session | None = None
) -> domain.Plan:
    """The plan from its stream; another institution's plan is reported as not found."""
    history, _ = await store.load_events(plan_stream(plan_id), session=session)
    plan = domain.Plan.from_history(history)
    if institution_id is not None and plan.institution_id != institution_id:
        raise NotFound("未找到该培训计划", code="training_plan_not_found")
    return plan


def unique_ids(applicant_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(a.strip() for a in applicant_ids if a and a.strip()))
    if not ids:
        raise DomainError("请至少选择一名学员", code="no_applicants")
    if len(ids) > domain.MAX_APPLICANTS_PER_REQUEST:
        raise DomainError(
            f"一次最多处理 {domain.MAX_APPLICANTS_PER_REQUEST} 名学员，请分批提交", code="too_many_applicants"
        )
    return ids


@dataclass
class _Trainee:
    applicant_id: str
    loaded: LoadedApplicant
    training: domain.TraineeTraining

    @property
    def state(self) -> applicant_domain.Applicant:
        return self.loaded.state


@dataclass
class TrainingOutcome:
    """What a request changed: `done` got an event, `unchanged` already had it, `refused` did not qualify."""

    done: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[domain.Refusal] = field(default_factory=list)
    retakes: list[str] = field(default_factory=list)  # applied again after a failed exam (补考)


async def _load_trainees(
    store: EventStore, ids: Sequence[str]
) -> tuple[list[_Trainee], list[domain.Refusal], Streams]:
    """The trainees, their streams read once (a query per 50), known to the request's `Streams`."""
    loaded = await read_applicants(store, ids)
    streams = Streams(store)
    found: list[_Trainee] = []
    missing: list[domain.Refusal] = []
    for applicant_id in ids:
        current = loaded.get(applicant_id)
        if current is None:
            missing.append(domain.not_found(applicant_id))
            continue
        streams.known(applicant_stream(applicant_id), current.history, current.version)
        found.append(_Trainee(applicant_id, current, domain.TraineeTraining.from_history(current.history)))
    return found, missing, streams


def _decide(
    streams: Streams,
    trainee: _Trainee,
    decide: Callable[[applicant_domain.Applicant, domain.TraineeTraining], list[DomainEvent]],
) -> None:
    """Decide on the trainee's stream as this request read it; appended by `commit`."""
    stream_id = applicant_stream(trainee.applicant_id)
    state = trainee.loaded.fold(streams.history(stream_id))
    streams.add(stream_id, decide(state, trainee.training), stream_type="applicant")


def _refused(message: str, code: str, refusals: Sequence[domain.Refusal]) -> DomainError:
    names = "、".join(r.name or r.applicant_id for r in refusals[:5])
    more = f"等 {len(refusals)} 名学员" if len(refusals) > 5 else ""
    return DomainError(
        f"{message}：{names}{more}（原因见明细）",
        code=code,
        details=[r.as_detail() for r in refusals],
    )


async def add_trainees(
    store: EventStore, *, plan_id: str, institution_id: str, applicant_ids: Sequence[str]
) -> TrainingOutcome:
    """All or nothing: if any applicant does not qualify, the request is refused listing each one and why."""
    ids = unique_ids(applicant_ids)

    async def request() -> TrainingOutcome:
        plan = await load_plan(store, plan_id, institution_id=institution_id)
        trainees, refusals, streams = await _load_trainees(store, ids)
        refusals += [r for t in trainees if (r := domain.refuse_trainee(plan, t.state, t.training))]
        if refusals:
            order = {a: i for i, a in enumerate(ids)}
            refusals.sort(key=lambda r: order[r.applicant_id])
            raise _refused("以下学员不能加入本培训计划，本次未添加任何学员", "trainees_refused", refusals)
        outcome = TrainingOutcome()
        now = datetime.now(UTC)
        roster = []
        for trainee in trainees:
            if trainee.training.in_plan(plan):
                outcome.unchanged.append(trainee.applicant_id)
                continue
            _decide(streams, trainee, lambda state, training: domain.plan_trainee(plan, state, training))
            roster.append(
                {
                    "_id": trainee.applicant_id,
                    "plan_id": plan.plan_id,
                    "institution_id": plan.institution_id,
                    "enterprise_id": trainee.state.batch.enterprise_id,
                    "added_at": now,
                }
            )
            outcome.done.append(trainee.applicant_id)

        async def add_to_roster(session: Session) -> None:
            if not roster:
                return
            try:
                await store.db[PLAN_TRAINEES].insert_many(roster, ordered=True, session=session)
            except BulkWriteError as exc:
                if not is_duplicate_key(exc):
                    raise
                raise Conflict(
                    "该学员刚被加入其他培训计划，请刷新后重试", code="already_in_other_plan"
                ) from exc

        await commit(store, streams, add_to_roster)
        return outcome

    return await retrying(request)


async def record_completion(
    store: EventStore,
    *,
    plan_id: str,
    institution_id: str,
    applicant_ids: Sequence[str],
) -> TrainingOutcome:
    """All or nothing, like adding trainees: every applicant must be a trainee of this plan."""
    ids = unique_ids(applicant_ids)

    async def request() -> TrainingOutcome:
        plan = await load_plan(store, plan_id, institution_id=institution_id)
        trainees, refusals, streams = await _load_trainees(store, ids)
        refusals += [r for t in trainees if (r := domain.refuse_completion(plan, t.state, t.training))]
        if refusals:
            order = {a: i for i, a in enumerate(ids)}
            refusals.sort(key=lambda r: order[r.applicant_id])
            raise _refused("以下学员不能登记培训完成，本次未登记任何学员", "completion_refused", refusals)
        outcome = TrainingOutcome()
        for trainee in trainees:
            if trainee.training.completed:
                outcome.unchanged.append(trainee.applicant_id)
                continue
            _decide(streams, trainee, lambda state, training: domain.complete_training(plan, state, training))
            outcome.done.append(trainee.applicant_id)
        await commit(store, streams)
        return outcome

    return await retrying(request)


def _apply_for_exam(
    plan: domain.Plan,
    photo: profile_domain.ExamPhotoChoice,
    state: applicant_domain.Applicant,
    training: domain.TraineeTraining,
) -> list[DomainEvent]:
    return domain.apply_for_exam(plan, state, training, photo)


async def apply_for_exam(
    store: EventStore, *, plan_id: str, institution_id: str, applicant_ids: Sequence[str], bucket: str
) -> TrainingOutcome:
    """`ExamApplied` for the trainees who completed the training and have a usable head photo (in one
    transaction), carrying that photo (enrollment's `bucket` and the object key); the first application of
    a person also locks their head photo (`HeadPhotoLocked` on the person's stream, same transaction). The
    others are returned as refused with the reason (`training_not_completed`, `not_in_plan`,
    `head_photo_missing`, …). A trainee who failed the exam is applied again (补考, `retake`)."""
    ids = unique_ids(applicant_ids)

    async def request() -> TrainingOutcome:
        plan = await load_plan(store, plan_id, institution_id=institution_id)
        trainees, refusals, streams = await _load_trainees(store, ids)
        outcome = TrainingOutcome(refused=refusals)
        photos = profile_app.ExamPhotos(store, streams, bucket)
        await photos.read(
            [
                t.state
                for t in trainees
                if t.state.status is not applicant_domain.Status.EXAM_APPLIED
                and t.state.batch.institution_id == plan.institution_id
            ]
        )
        for trainee in trainees:
            if trainee.state.status is applicant_domain.Status.EXAM_APPLIED:
                if refusal := domain.refuse_exam_application(plan, trainee.state, trainee.training):
                    outcome.refused.append(refusal)  # another institution's applicant
                else:
                    outcome.unchanged.append(trainee.applicant_id)
                continue
            owned = trainee.state.batch.institution_id == plan.institution_id
            photo = photos.choice(trainee.state) if owned else None  # nothing read of another's applicant
            if refusal := domain.refuse_exam_application(plan, trainee.state, trainee.training, photo):
                outcome.refused.append(refusal)
                continue
            assert photo is not None and photo.photo is not None
            _decide(streams, trainee, functools.partial(_apply_for_exam, plan, photo))
            photos.lock(trainee.state, photo.photo)
            if trainee.state.status is applicant_domain.Status.EXAM_FAILED:
                outcome.retakes.append(trainee.applicant_id)
            outcome.done.append(trainee.applicant_id)
        order = {a: i for i, a in enumerate(ids)}
        outcome.refused.sort(key=lambda r: order[r.applicant_id])
        await commit(store, streams)
        return outcome

    return await retrying(request)
