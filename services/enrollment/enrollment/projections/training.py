"""Read models of training plans (projection `training-plans`).

- `training_plans`: one document per plan, with counts of its trainees (planned, completed, exam applied);
- `applicant_training`: one document per trainee: the plan (name, dates, place or platform, schedule) and the
  completed / exam-applied flags, for the enterprise that enrolled the applicant and for the institution.

The plan's events (key `plan-<id>`) and a trainee's events (key `applicant-<id>`) may sit on different
partitions, so a replay may deliver `TrainingPlanned` before `TrainingPlanCreated`. Every handler therefore
upserts; a field that another event owns is only defaulted on insert; counts are `$inc`s (they commute);
the plan's data is copied onto the trainee both ways (by `TrainingPlanned` from an existing plan document,
by `TrainingPlanCreated` onto existing trainees). The plan is immutable, so either order ends identical.
A trainee's own events share one key and keep their order (planned → completed → exam applied).
"""

from __future__ import annotations

from typing import Any

from events import ExamApplied, TrainingPlanned
from pymongo import ASCENDING, DESCENDING, IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from enrollment.domain.events import TrainingCompleted, TrainingPlanCreated

TRAINING_PLANS = "training_plans"
APPLICANT_TRAINING = "applicant_training"

COUNTS = ("trainee_count", "completed_count", "exam_applied_count")

PLAN_DEFAULTS: dict[str, Any] = {
    "institution_id": "",
    "name": "",
    "training_mode": "",
    "position": "",
    "starts_on": None,
    "ends_on": None,
    "place": "",
    "platform": "",
    "schedule": "",
    "created_at": None,
    "continuing_education": False,
    "professional_hours": None,
    "general_hours": None,
    **dict.fromkeys(COUNTS, 0),
}

# The fields a trainee's document takes from its plan (`plan_name` ← the plan's `name`).
COPIED_FROM_PLAN = {
    "plan_name": "name",
    "position": "position",
    "platform": "platform",
    "schedule": "schedule",
}

TRAINEE_DEFAULTS: dict[str, Any] = {
    "plan_id": None,
    "institution_id": "",
    "enterprise_id": "",
    "training_mode": "",
    "starts_on": None,
    "ends_on": None,
    "place": "",
    **dict.fromkeys(COPIED_FROM_PLAN, ""),
    "planned_at": None,
    "completed": False,
    "completed_at": None,
    "exam_applied": False,
    "exam_applied_at": None,
}


def _upsert(
    defaults: dict[str, Any], set_: dict[str, Any] | None = None, inc: dict[str, int] | None = None
) -> dict[str, Any]:
    """An upsert update: `$set` / `$inc` what this event owns, default every other field on insert."""
    owned = set(set_ or {}) | set(inc or {})
    update: dict[str, Any] = {}
    if on_insert := {k: v for k, v in defaults.items() if k not in owned}:
        update["$setOnInsert"] = on_insert
    if set_:
        update["$set"] = set_
    if inc:
        update["$inc"] = inc
    return update


def training_plans(database: str) -> Projection:
    projection = Projection(
        name="training-plans",
        collections=[TRAINING_PLANS, APPLICANT_TRAINING],
        database=database,
        indexes={
            # the plans' list (api/training.py): an institution's plans, newest first
            TRAINING_PLANS: [IndexModel([("institution_id", ASCENDING), ("starts_on", DESCENDING)])],
            # a plan's trainees, in the order they were planned
            APPLICANT_TRAINING: [IndexModel([("plan_id", ASCENDING), ("planned_at", ASCENDING)])],
        },
    )
    on = projection.handlers.on

    def plans(session: Session) -> Any:
        return projection.collection(session, TRAINING_PLANS)

    def trainees(session: Session) -> Any:
        return projection.collection(session, APPLICANT_TRAINING)

    @on(TrainingPlanCreated)
    async def created(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, TrainingPlanCreated)
        fields = {
            "institution_id": e.institution_id,
            "name": e.name,
            "training_mode": e.training_mode,
            "position": e.position,
            "starts_on": e.starts_on.isoformat(),
            "ends_on": e.ends_on.isoformat(),
            "place": e.place,
            "platform": e.platform,
            "schedule": e.schedule,
            "created_at": received.envelope.time,
            "continuing_education": e.continuing_education,
            "professional_hours": e.professional_hours,
            "general_hours": e.general_hours,
        }
        await plans(session).update_one(
            {"_id": e.plan_id}, _upsert(PLAN_DEFAULTS, fields), upsert=True, session=session
        )
        copied = {mine: fields[theirs] for mine, theirs in COPIED_FROM_PLAN.items()}
        await trainees(session).update_many({"plan_id": e.plan_id}, {"$set": copied}, session=session)

    @on(TrainingPlanned)
    async def planned(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, TrainingPlanned)
        plan = await plans(session).find_one({"_id": e.plan_id}, session=session)
        fields: dict[str, Any] = {
            "plan_id": e.plan_id,
            "institution_id": e.institution_id,
            "enterprise_id": e.enterprise_id,
            "training_mode": e.training_mode,
            "starts_on": e.starts_on.isoformat(),
            "ends_on": e.ends_on.isoformat(),
            "place": e.place,
            "planned_at": received.envelope.time,
        }
        if plan is not None and plan.get("created_at") is not None:
            fields.update({mine: plan.get(theirs, "") for mine, theirs in COPIED_FROM_PLAN.items()})
        await trainees(session).update_one(
            {"_id": e.applicant_id}, _upsert(TRAINEE_DEFAULTS, fields), upsert=True, session=session
        )
        # Always written, even when the plan document exists: the write also orders this handler against a
        # concurrent `created` on another partition (two transactions writing one document conflict).
        plan_defaults = {
            **PLAN_DEFAULTS,
            "institution_id": e.institution_id,
            "training_mode": e.training_mode,
            "starts_on": e.starts_on.isoformat(),
            "ends_on": e.ends_on.isoformat(),
            "place": e.place,
        }
        await plans(session).update_one(
            {"_id": e.plan_id},
            _upsert(plan_defaults, inc={"trainee_count": 1}),
            upsert=True,
            session=session,
        )

    @on(TrainingCompleted)
    async def completed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, TrainingCompleted)
        fields = {"completed": True, "completed_at": received.envelope.time}
        defaults = {
            **TRAINEE_DEFAULTS,
            "plan_id": e.plan_id,
            "institution_id": e.institution_id,
            "enterprise_id": e.enterprise_id,
        }
        await trainees(session).update_one(
            {"_id": e.applicant_id}, _upsert(defaults, fields), upsert=True, session=session
        )
        await plans(session).update_one(
            {"_id": e.plan_id},
            _upsert({**PLAN_DEFAULTS, "institution_id": e.institution_id}, inc={"completed_count": 1}),
            upsert=True,
            session=session,
        )

    @on(ExamApplied)
    async def exam_applied(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamApplied)
        # ExamApplied names no plan; the trainee's document (its TrainingPlanned came first, same key) does.
        # An applicant sent to the exam outside any plan has no document here and is left alone.
        doc = await trainees(session).find_one(
            {"_id": e.applicant_id}, {"plan_id": 1, "exam_applied": 1}, session=session
        )
        if doc is None or not doc.get("plan_id"):
            return
        if doc.get("exam_applied"):  # applied again after a failed exam (补考): counted once
            await trainees(session).update_one(
                {"_id": e.applicant_id},
                {"$set": {"exam_applied_at": received.envelope.time}, "$inc": {"exam_retakes": 1}},
                session=session,
            )
            return
        await trainees(session).update_one(
            {"_id": e.applicant_id},
            {"$set": {"exam_applied": True, "exam_applied_at": received.envelope.time}},
            session=session,
        )
        await plans(session).update_one(
            {"_id": doc["plan_id"]},
            _upsert({**PLAN_DEFAULTS, "institution_id": e.institution_id}, inc={"exam_applied_count": 1}),
            upsert=True,
            session=session,
        )

    return projection
