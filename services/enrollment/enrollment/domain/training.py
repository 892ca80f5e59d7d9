"""Training plans (培训计划): an institution plans the training of its enrolled applicants, records who
completed it and applies for the exam for them (domain.md §8).

The plan is its own aggregate (`plan-<id>`); what happens to one trainee is recorded in the applicant's
stream (`TrainingPlanned`, `TrainingCompleted`, `ExamApplied`). `Applicant.from_history` knows the status
(已报名 / 已申请考试); the training facts are derived here from the same history (`TraineeTraining`).
Pure rules: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from events import ContinuingEducationCompleted, DomainEvent, ExamApplied, TrainingPlanned
from servicekit.errors import Conflict, DomainError, NotFound

from enrollment.domain.events import TrainingCompleted, TrainingPlanCreated

from . import applicant as applicant_domain
from . import profile
from .reference import POSITIONS, TRAINING_MODES

NAME_MAX = 100
PLACE_MAX = 200
PLATFORM_MAX = 300
SCHEDULE_MAX = 4000
MAX_APPLICANTS_PER_REQUEST = 500
MAX_PLAN_HOURS = 200  # a continuing-education plan's hours, each kind and in total (the contract's bound)

PLAN_LABELS = {
    "name": "计划名称",
    "training_mode": "培训方式",
    "position": "岗位",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "place": "培训地点",
    "platform": "网络培训平台",
    "schedule": "课程安排",
    "professional_hours": "专业科目学时",
    "general_hours": "公共科目学时",
}
HOURS_FIELDS = ("professional_hours", "general_hours")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class TraineeState(StrEnum):
    PLANNED = "planned"  # 已安排培训
    COMPLETED = "completed"  # 已完成培训
    EXAM_APPLIED = "exam_applied"  # 已申请考试


TRAINEE_STATE_LABELS = {
    TraineeState.PLANNED: "已安排培训",
    TraineeState.COMPLETED: "已完成培训",
    TraineeState.EXAM_APPLIED: "已申请考试",
}


def trainee_state(*, completed: bool, exam_applied: bool) -> TraineeState:
    if exam_applied:
        return TraineeState.EXAM_APPLIED
    return TraineeState.COMPLETED if completed else TraineeState.PLANNED


# ---------------------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class PlanForm:
    """What the institution submits; every field as received (text), validated all at once."""

    name: str | None = None
    training_mode: str | None = None
    position: str | None = None
    starts_on: str | date | None = None
    ends_on: str | date | None = None
    place: str | None = None
    platform: str | None = None
    schedule: str | None = None
    # a plan for continuing-education trainees (继续教育) declares the hours each completed trainee earns
    continuing_education: bool = False
    professional_hours: float | str | None = None
    general_hours: float | str | None = None

    def normalized(self) -> PlanForm:
        def text(value: str | date | None) -> str:
            return value.isoformat() if isinstance(value, date) else (value or "").strip()

        return PlanForm(
            name=text(self.name),
            training_mode=text(self.training_mode).lower(),
            position=text(self.position),
            starts_on=text(self.starts_on),
            ends_on=text(self.ends_on),
            place=text(self.place),
            platform=text(self.platform),
            schedule=(self.schedule or "").strip(),
            continuing_education=bool(self.continuing_education),
            professional_hours=self.professional_hours,
            general_hours=self.general_hours,
        )


def parse_hours(value: float | str | None) -> float | None:
    """Hours as a finite number (a number or its text), else None."""
    if isinstance(value, bool):
        return None
    try:
        hours = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return hours if math.isfinite(hours) else None


def _given(value: float | str | None) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _hours_problems(form: PlanForm) -> list[dict[str, str]]:
    """A continuing-education plan must declare both kinds of hours (each 0–200, total 1–200 … > 0); an
    initial-training plan declares none (initial training never credits hours)."""
    problems: list[dict[str, str]] = []

    def problem(name: str, code: str, message: str) -> None:
        problems.append({"field": name, "code": code, "message": message})

    if not form.continuing_education:
        for key in HOURS_FIELDS:
            if _given(getattr(form, key)):
                problem(
                    key,
                    "hours_not_allowed",
                    f"新取证培训计划不登记学时（学时只用于继续教育计划），请不要填写{PLAN_LABELS[key]}",
                )
        return problems
    hours: dict[str, float] = {}
    for key in HOURS_FIELDS:
        raw = getattr(form, key)
        value = parse_hours(raw)
        if not _given(raw):
            problem(key, "required", f"继续教育培训计划须填写{PLAN_LABELS[key]}（没有的填 0）")
        elif value is None:
            problem(key, "invalid_hours", f"{PLAN_LABELS[key]}应为数字")
        elif value < 0:
            problem(key, "invalid_hours", f"{PLAN_LABELS[key]}不能为负数")
        elif value > MAX_PLAN_HOURS:
            problem(key, "too_many_hours", f"{PLAN_LABELS[key]}不能超过 {MAX_PLAN_HOURS} 学时")
        else:
            hours[key] = value
    if len(hours) == len(HOURS_FIELDS):
        total = sum(hours.values())
        if total <= 0:
            problem("professional_hours", "no_hours", "继续教育培训计划的学时合计须大于 0")
        elif total > MAX_PLAN_HOURS:
            problem(
                "professional_hours",
                "too_many_hours",
                f"继续教育培训计划的学时合计（{total:g}）不能超过 {MAX_PLAN_HOURS} 学时",
            )
    return problems


def parse_date(value: str | date | None) -> date | None:
    """An ISO date `YYYY-MM-DD` (a real calendar day), else None."""
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def platform_url_ok(platform: str) -> bool:
    """A platform given by name passes; one given as an address (a scheme, or `www.`) must be a web URL."""
    if _SCHEME.match(platform):
        return bool(_URL.match(platform))
    if platform.lower().startswith("www."):
        return bool(_URL.match(f"https://{platform}"))
    return True


def validate_plan(form: PlanForm) -> list[dict[str, str]]:
    """Every problem of the plan at once, each as field + code + Chinese message."""
    form = form.normalized()
    problems: list[dict[str, str]] = []

    def problem(name: str, code: str, message: str) -> None:
        problems.append({"field": name, "code": code, "message": message})

    name = form.name or ""
    if not name:
        problem("name", "required", "请填写计划名称")
    elif len(name) > NAME_MAX:
        problem("name", "too_long", f"计划名称不能超过 {NAME_MAX} 个字")

    mode = form.training_mode or ""
    if not mode:
        problem("training_mode", "required", "请选择培训方式：online（线上）或 offline（线下）")
    elif mode not in TRAINING_MODES:
        problem("training_mode", "invalid_choice", "培训方式应为 online（线上）或 offline（线下）")

    position = form.position or ""
    if not position:
        problem("position", "required", "请选择岗位")
    elif position not in POSITIONS:
        problem("position", "invalid_choice", f"岗位应为以下之一：{'、'.join(POSITIONS)}")

    dates: dict[str, date | None] = {}
    for key in ("starts_on", "ends_on"):
        raw = str(getattr(form, key) or "")
        dates[key] = parse_date(raw)
        if not raw:
            problem(key, "required", f"请填写{PLAN_LABELS[key]}")
        elif dates[key] is None:
            problem(key, "invalid_date", f"{PLAN_LABELS[key]}应为有效日期，格式 YYYY-MM-DD（如 2026-03-01）")
    starts_on, ends_on = dates["starts_on"], dates["ends_on"]
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        problem("ends_on", "ends_before_start", f"结束日期（{ends_on}）不能早于开始日期（{starts_on}）")

    place = form.place or ""
    if mode == "offline" and not place:
        problem("place", "required", "线下培训须填写培训地点")
    elif len(place) > PLACE_MAX:
        problem("place", "too_long", f"培训地点不能超过 {PLACE_MAX} 个字")

    platform = form.platform or ""
    if mode == "online" and not platform:
        problem("platform", "required", "线上培训须填写网络培训平台（名称或网址）")
    elif len(platform) > PLATFORM_MAX:
        problem("platform", "too_long", f"网络培训平台不能超过 {PLATFORM_MAX} 个字")
    elif not platform_url_ok(platform):
        problem("platform", "invalid_url", "网络培训平台网址不正确，应为 http:// 或 https:// 开头的完整网址")

    if len(form.schedule or "") > SCHEDULE_MAX:
        problem("schedule", "too_long", f"课程安排不能超过 {SCHEDULE_MAX} 个字")
    return problems + _hours_problems(form)


def ensure_valid_plan(form: PlanForm) -> None:
    if problems := validate_plan(form):
        raise DomainError(
            f"培训计划填写有误（共 {len(problems)} 处）：" + "；".join(p["message"] for p in problems[:3]),
            code="invalid_training_plan",
            details=problems,
        )


def create_plan(
    history: Sequence[DomainEvent], *, plan_id: str, institution_id: str, form: PlanForm
) -> list[DomainEvent]:
    if history:
        raise Conflict("该培训计划已存在", code="training_plan_exists")
    ensure_valid_plan(form)
    form = form.normalized()
    starts_on, ends_on = parse_date(form.starts_on), parse_date(form.ends_on)
    assert starts_on is not None and ends_on is not None
    return [
        TrainingPlanCreated(
            plan_id=plan_id,
            institution_id=institution_id,
            name=form.name or "",
            training_mode=form.training_mode or "",
            position=form.position or "",
            starts_on=starts_on,
            ends_on=ends_on,
            place=form.place or "",
            platform=form.platform or "",
            schedule=form.schedule or "",
            continuing_education=form.continuing_education,
            professional_hours=parse_hours(form.professional_hours) if form.continuing_education else None,
            general_hours=parse_hours(form.general_hours) if form.continuing_education else None,
        )
    ]


@dataclass(frozen=True)
class Plan:
    plan_id: str
    institution_id: str
    name: str
    training_mode: str
    position: str
    starts_on: date
    ends_on: date
    place: str = ""
    platform: str = ""
    schedule: str = ""
    continuing_education: bool = False
    professional_hours: float | None = None
    general_hours: float | None = None

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> Plan:
        created = next((e for e in history if isinstance(e, TrainingPlanCreated)), None)
        if created is None:
            raise NotFound("未找到该培训计划", code="training_plan_not_found")
        return cls(
            plan_id=created.plan_id,
            institution_id=created.institution_id,
            name=created.name,
            training_mode=created.training_mode,
            position=created.position,
            starts_on=created.starts_on,
            ends_on=created.ends_on,
            place=created.place,
            platform=created.platform,
            schedule=created.schedule,
            continuing_education=created.continuing_education,
            professional_hours=created.professional_hours,
            general_hours=created.general_hours,
        )

    @property
    def kind_label(self) -> str:
        return "继续教育" if self.continuing_education else "新取证培训"

    @property
    def mode_label(self) -> str:
        return TRAINING_MODES.get(self.training_mode, self.training_mode)


# ---------------------------------------------------------------------------------------------------------
# One trainee's training, derived from the applicant's own history


@dataclass(frozen=True)
class TraineeTraining:
    plan_id: str | None = None
    completed: bool = False
    exam_applied: bool = False

    @classmethod
    def from_history(cls, history: Sequence[DomainEvent]) -> TraineeTraining:
        plan_id: str | None = None
        completed = exam_applied = False
        for event in history:
            match event:
                case TrainingPlanned():
                    plan_id, completed = event.plan_id, False
                case TrainingCompleted() if event.plan_id == plan_id:
                    completed = True
                case ExamApplied():
                    exam_applied = True
        return cls(plan_id=plan_id, completed=completed, exam_applied=exam_applied)

    def in_plan(self, plan: Plan) -> bool:
        return self.plan_id == plan.plan_id


@dataclass(frozen=True)
class Refusal:
    """Why one applicant cannot take part in a request (every reason, the first one's code leads)."""

    applicant_id: str
    reasons: tuple[tuple[str, str], ...]
    name: str = ""

    @property
    def code(self) -> str:
        return self.reasons[0][0]

    @property
    def message(self) -> str:
        return "；".join(message for _, message in self.reasons)

    def as_detail(self) -> dict[str, Any]:
        return {
            "applicant_id": self.applicant_id,
            "name": self.name,
            "code": self.code,
            "message": self.message,
            "reasons": [{"code": code, "message": message} for code, message in self.reasons],
        }


@dataclass
class _Reasons:
    applicant_id: str
    name: str = ""
    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, code: str, message: str) -> None:
        self.items.append((code, message))

    def refusal(self) -> Refusal | None:
        return Refusal(self.applicant_id, tuple(self.items), self.name) if self.items else None


def not_found(applicant_id: str) -> Refusal:
    return Refusal(applicant_id, (("applicant_not_found", "未找到该学员报名记录"),))


def _owned(plan: Plan, state: applicant_domain.Applicant, reasons: _Reasons) -> bool:
    if state.batch.institution_id != plan.institution_id:
        reasons.name = ""  # another institution's applicant: nothing about them is shown
        reasons.add("not_institution_applicant", "该学员不是向本机构报名的")
        return False
    return True


def refuse_trainee(
    plan: Plan, state: applicant_domain.Applicant, training: TraineeTraining
) -> Refusal | None:
    """Who may join the plan: this institution's applicant, 已报名, same mode and position, in no other plan.
    An applicant already in this very plan is not refused (adding again changes nothing)."""
    reasons = _Reasons(state.applicant_id, state.record.name)
    if not _owned(plan, state, reasons):
        return reasons.refusal()
    if training.plan_id is not None and not training.in_plan(plan):
        reasons.add("already_in_other_plan", f"该学员已在其他培训计划中（计划编号 {training.plan_id}）")
    if training.plan_id is None and state.status is not applicant_domain.Status.ENROLLED:
        label = applicant_domain.STATUS_LABELS[state.status]
        # 已审核 may be a payment confirmed a moment ago whose OrderPaid has not reached enrollment yet
        lag = (
            "；如刚确认缴费，报名状态正在处理中，请稍后再试"
            if state.status is applicant_domain.Status.QUALIFIED
            else ""
        )
        reasons.add("not_enrolled", f"学员当前状态为“{label}”，须为“已报名”（已缴费确认）才能安排培训{lag}")
    if state.batch.training_mode != plan.training_mode:
        mode = TRAINING_MODES.get(state.batch.training_mode, state.batch.training_mode)
        reasons.add(
            "training_mode_mismatch",
            f"学员报名的培训方式为{mode}，与本计划的培训方式（{plan.mode_label}）不一致",
        )
    if state.batch.position != plan.position:
        reasons.add(
            "position_mismatch",
            f"学员报名的岗位为{state.batch.position}，与本计划的岗位（{plan.position}）不一致",
        )
    if state.batch.continuing_education != plan.continuing_education:
        kind = "继续教育" if state.batch.continuing_education else "新取证培训"
        reasons.add(
            "kind_mismatch",
            f"该学员是{kind}学员，不能加入{plan.kind_label}计划：继续教育学员与新取证学员不能混在一个培训计划中",
        )
    return reasons.refusal()


def _raise(refusal: Refusal) -> None:
    raise Conflict(refusal.message, code=refusal.code, details=[refusal.as_detail()])


def plan_trainee(
    plan: Plan, state: applicant_domain.Applicant, training: TraineeTraining
) -> list[DomainEvent]:
    """Decide: add one applicant to the plan (`TrainingPlanned`); nothing if already in it."""
    if refusal := refuse_trainee(plan, state, training):
        _raise(refusal)
    if training.in_plan(plan):
        return []
    return [
        TrainingPlanned(
            plan_id=plan.plan_id,
            applicant_id=state.applicant_id,
            institution_id=plan.institution_id,
            enterprise_id=state.batch.enterprise_id,
            training_mode=plan.training_mode,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            place=plan.place,
        )
    ]


def refuse_completion(
    plan: Plan, state: applicant_domain.Applicant, training: TraineeTraining
) -> Refusal | None:
    """Completion is recorded for a trainee of this plan (the institution decides when; no date rule: a plan
    dated in the future may be completed today, and a continuing-education trainee's hours are credited for
    `completed_on` = the plan's last day)."""
    reasons = _Reasons(state.applicant_id, state.record.name)
    if not _owned(plan, state, reasons):
        return reasons.refusal()
    if not training.in_plan(plan):
        reasons.add("not_in_plan", "该学员不在本培训计划中")
    return reasons.refusal()


def complete_training(
    plan: Plan, state: applicant_domain.Applicant, training: TraineeTraining
) -> list[DomainEvent]:
    """Decide: record the trainee's completion (`TrainingCompleted`); nothing if already recorded."""
    if refusal := refuse_completion(plan, state, training):
        _raise(refusal)
    if training.completed:
        return []
    return [
        TrainingCompleted(
            plan_id=plan.plan_id,
            applicant_id=state.applicant_id,
            institution_id=plan.institution_id,
            enterprise_id=state.batch.enterprise_id,
        ),
        *continuing_education_completed(plan, state),
    ]


def continuing_education_completed(plan: Plan, state: applicant_domain.Applicant) -> list[DomainEvent]:
    """A continuing-education trainee completed a continuing-education plan: the plan's hours, for
    certification to credit (once per plan and trainee: completion is recorded once). Initial training never
    credits hours."""
    if not (plan.continuing_education and state.batch.continuing_education):
        return []
    r, b = state.record, state.batch
    return [
        ContinuingEducationCompleted(
            applicant_id=r.applicant_id,
            batch_id=b.batch_id,
            enterprise_id=b.enterprise_id,
            institution_id=b.institution_id,
            plan_id=plan.plan_id,
            plan_name=plan.name,
            id_number=r.id_number,
            name=r.name,
            position=b.position,
            specialisation=b.specialisation,
            professional_hours=plan.professional_hours or 0.0,
            general_hours=plan.general_hours or 0.0,
            completed_on=plan.ends_on,
        )
    ]


def refuse_exam_application(
    plan: Plan,
    state: applicant_domain.Applicant,
    training: TraineeTraining,
    photo: profile.ExamPhotoChoice | None = None,
) -> Refusal | None:
    """The institution applies for the exam only for trainees of this plan who completed the training and
    have a usable head photo (`photo`, when given); after a failed exam (考试未通过) it applies again
    (补考)."""
    reasons = _Reasons(state.applicant_id, state.record.name)
    if not _owned(plan, state, reasons):
        return reasons.refusal()
    if state.batch.continuing_education:
        reasons.add(applicant_domain.CE_NO_EXAM, applicant_domain.CE_NO_EXAM_MESSAGE)
        return reasons.refusal()
    if state.status is applicant_domain.Status.EXAM_APPLIED:
        return None  # already applied: nothing to do
    if state.status is applicant_domain.Status.EXAM_PASSED:
        reasons.add("exam_passed", "该学员已考试合格，无需再申请考试")
        return reasons.refusal()
    if not training.in_plan(plan):
        reasons.add("not_in_plan", "该学员不在本培训计划中")
    elif not training.completed:
        reasons.add("training_not_completed", "该学员尚未完成培训，完成培训后才能申请考试")
    if state.status not in (applicant_domain.Status.ENROLLED, applicant_domain.Status.EXAM_FAILED):
        label = applicant_domain.STATUS_LABELS[state.status]
        reasons.add("invalid_applicant_state", f"学员当前状态为“{label}”，不能申请考试")
    if photo is not None and photo.photo is None:
        reasons.add(photo.code, photo.message)
    return reasons.refusal()


def apply_for_exam(
    plan: Plan, state: applicant_domain.Applicant, training: TraineeTraining, photo: profile.ExamPhotoChoice
) -> list[DomainEvent]:
    """Decide: `ExamApplied` (by `domain.applicant.apply_for_exam`) once the training is completed, with
    the head photo; `retake` after a failed exam."""
    if refusal := refuse_exam_application(plan, state, training, photo):
        _raise(refusal)
    if state.status is applicant_domain.Status.EXAM_APPLIED:
        return []
    assert photo.photo is not None
    return applicant_domain.apply_for_exam(state, photo.photo)
