"""Training plans: the plan's validation corpus, who may join a plan, completion and the exam application."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from enrollment.domain import applicant as applicant_domain
from enrollment.domain import profile
from enrollment.domain import training as domain
from enrollment.domain.batch import BatchForm, import_batch
from enrollment.domain.events import TrainingCompleted, TrainingPlanCreated
from events import (
    ApplicantQualified,
    ApplicantRejected,
    ApplicantsImported,
    DomainEvent,
    Enrolled,
    ExamApplied,
    TrainingPlanned,
)
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict, DomainError, NotFound

HEAD_PHOTO = applicant_domain.ExamHeadPhoto(bucket="enrollment", key="batches/b/a/头像.jpg")
PHOTO = profile.ExamPhotoChoice(HEAD_PHOTO)

GOOD_OFFLINE: dict[str, Any] = {
    "name": "2026年3月施工员线下班",
    "training_mode": "offline",
    "position": "施工员",
    "starts_on": "2026-03-09",
    "ends_on": "2026-03-13",
    "place": "杭州市西湖区文三路 90 号 3 楼培训教室",
    "platform": "",
    "schedule": "每天 9:00-12:00、13:30-17:00",
}
GOOD_ONLINE: dict[str, Any] = {
    **GOOD_OFFLINE,
    "name": "2026年3月施工员线上班",
    "training_mode": "online",
    "place": "",
    "platform": "https://zj.zhujianpeixun.com/Account/Default",
}


def form(base: dict[str, Any] = GOOD_OFFLINE, **changes: Any) -> domain.PlanForm:
    return domain.PlanForm(**{**base, **changes})


def problems_of(f: domain.PlanForm) -> set[tuple[str, str]]:
    return {(p["field"], p["code"]) for p in domain.validate_plan(f)}


# --- plan validation ---


def test_good_plans_pass() -> None:
    assert domain.validate_plan(form()) == []
    assert domain.validate_plan(form(GOOD_ONLINE)) == []
    for platform in ("浙江省住建培训平台", "www.zhujianpeixun.com", "http://10.0.0.8.example.cn:8080/x?y=1"):
        assert domain.validate_plan(form(GOOD_ONLINE, platform=platform)) == [], platform
    # one-day plan, dates as date objects, surrounding blanks and an upper-case mode are accepted
    assert domain.validate_plan(form(starts_on=date(2026, 3, 9), ends_on=date(2026, 3, 9))) == []
    assert domain.validate_plan(form(name="  施工员班 ", training_mode=" OFFLINE ")) == []


def _bad_inputs() -> list[tuple[str, dict[str, Any], tuple[str, str]]]:
    """The corpus of bad inputs: one broken field each, with the problem it must produce."""
    cases: list[tuple[str, dict[str, Any], tuple[str, str]]] = []
    for blank in (None, "", "   ", "\t\n"):
        for key in ("name", "training_mode", "position", "starts_on", "ends_on"):
            cases.append((f"{key}={blank!r}", {key: blank}, (key, "required")))
        cases.append((f"offline place={blank!r}", {"place": blank}, ("place", "required")))
        cases.append(
            (f"online platform={blank!r}", {**GOOD_ONLINE, "platform": blank}, ("platform", "required"))
        )
    for mode in ("by-post", "线上", "online,offline", "0"):
        cases.append((f"mode {mode}", {"training_mode": mode}, ("training_mode", "invalid_choice")))
    for position in ("项目经理", "施工员（土建施工）", "安全", "x" * 30):
        cases.append((f"position {position}", {"position": position}, ("position", "invalid_choice")))
    for key in ("starts_on", "ends_on"):
        for bad in ("2026-02-30", "2026-13-01", "2026/03/01", "20260301", "3月9日", "2026-3-9", "tomorrow"):
            cases.append((f"{key} {bad}", {key: bad}, (key, "invalid_date")))
    for starts, ends in (("2026-03-10", "2026-03-09"), ("2027-01-01", "2026-12-31")):
        cases.append(
            (f"{starts}>{ends}", {"starts_on": starts, "ends_on": ends}, ("ends_on", "ends_before_start"))
        )
    for bad_url in ("ftp://zhujianpeixun.com", "http://", "https://localhost", "www.", "https://a b.com"):
        cases.append(
            (f"platform {bad_url}", {**GOOD_ONLINE, "platform": bad_url}, ("platform", "invalid_url"))
        )
    cases += [
        ("long name", {"name": "班" * (domain.NAME_MAX + 1)}, ("name", "too_long")),
        ("long place", {"place": "地" * (domain.PLACE_MAX + 1)}, ("place", "too_long")),
        (
            "long platform",
            {**GOOD_ONLINE, "platform": "平" * (domain.PLATFORM_MAX + 1)},
            ("platform", "too_long"),
        ),
        ("long schedule", {"schedule": "课" * (domain.SCHEDULE_MAX + 1)}, ("schedule", "too_long")),
    ]
    return cases


@pytest.mark.parametrize(("label", "changes", "expected"), _bad_inputs(), ids=lambda v: str(v)[:40])
def test_bad_plan_inputs_are_named(label: str, changes: dict[str, Any], expected: tuple[str, str]) -> None:
    f = form(**changes)
    assert problems_of(f) == {expected}, label
    with pytest.raises(DomainError) as refused:
        domain.create_plan([], plan_id="p", institution_id="i", form=f)
    assert refused.value.code == "invalid_training_plan" and refused.value.status == 422
    details = refused.value.details
    assert isinstance(details, list) and details[0]["field"] == expected[0]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d["message"]) for d in details), "Chinese messages"


def test_every_problem_is_reported_at_once() -> None:
    empty = domain.PlanForm()
    assert problems_of(empty) == {
        ("name", "required"),
        ("training_mode", "required"),
        ("position", "required"),
        ("starts_on", "required"),
        ("ends_on", "required"),
    }
    many = form(
        name="",
        training_mode="offline",
        position="项目经理",
        starts_on="2026-03-10",
        ends_on="2026-02-01",
        place="",
        schedule="课" * (domain.SCHEDULE_MAX + 1),
    )
    assert problems_of(many) == {
        ("name", "required"),
        ("position", "invalid_choice"),
        ("ends_on", "ends_before_start"),
        ("place", "required"),
        ("schedule", "too_long"),
    }
    with pytest.raises(DomainError) as refused:
        domain.ensure_valid_plan(many)
    assert "共 5 处" in refused.value.message


def test_create_plan_normalizes_and_is_created_once() -> None:
    events = domain.create_plan(
        [],
        plan_id="p1",
        institution_id="inst",
        form=form(GOOD_ONLINE, name=" 线上班 ", training_mode="ONLINE"),
    )
    created = events[0]
    assert isinstance(created, TrainingPlanCreated)
    assert (created.name, created.training_mode, created.position) == ("线上班", "online", "施工员")
    assert (created.starts_on, created.ends_on) == (date(2026, 3, 9), date(2026, 3, 13))
    assert created.platform.startswith("https://") and created.institution_id == "inst"
    plan = domain.Plan.from_history(events)
    assert plan.plan_id == "p1" and plan.mode_label == "线上"
    with pytest.raises(Conflict):
        domain.create_plan(events, plan_id="p1", institution_id="inst", form=form())
    with pytest.raises(NotFound):
        domain.Plan.from_history([])


# --- trainees ---


def make_batch(
    *, institution_id: str = "inst", training_mode: str = "offline", position: str = "施工员"
) -> ApplicantsImported:
    events = import_batch(
        [],
        BatchForm(
            batch_id="b",
            enterprise_id="ent",
            institution_id=institution_id,
            position=position,
            training_mode=training_mode,
            applicants=[ImportedApplicant(applicant_id="a", name="张三", gender="男", id_number="x")],
        ),
    )
    assert isinstance(events[0], ApplicantsImported)
    return events[0]


def qualified(b: ApplicantsImported) -> list[DomainEvent]:
    state = applicant_domain.Applicant.from_history([applicant_domain.registration_from_batch(b, "a"), *[]])
    return list(applicant_domain.qualify(state, reviewer_id="r"))


def enrolled_history(b: ApplicantsImported) -> list[DomainEvent]:
    history = qualified(b)
    state = applicant_domain.Applicant.from_history(
        [applicant_domain.registration_from_batch(b, "a"), *history]
    )
    return [*history, *applicant_domain.enroll(state, order_id="o")]


def the_plan(**changes: Any) -> domain.Plan:
    plan = domain.Plan.from_history(domain.create_plan([], plan_id="p1", institution_id="inst", form=form()))
    return replace(plan, **changes)


class Trainee:
    """An applicant's history and the two views the rules read from it."""

    def __init__(self, b: ApplicantsImported, history: list[DomainEvent]) -> None:
        self.batch, self.history = b, history

    @property
    def state(self) -> applicant_domain.Applicant:
        return applicant_domain.Applicant.from_history(
            [applicant_domain.registration_from_batch(self.batch, "a"), *self.history]
        )

    @property
    def training(self) -> domain.TraineeTraining:
        return domain.TraineeTraining.from_history(self.history)

    def then(self, events: list[DomainEvent]) -> Trainee:
        return Trainee(self.batch, [*self.history, *events])


def enrolled(**batch: Any) -> Trainee:
    b = make_batch(**batch)
    return Trainee(b, enrolled_history(b))


def codes(refusal: domain.Refusal | None) -> list[str]:
    return [code for code, _ in refusal.reasons] if refusal else []


def test_an_enrolled_applicant_of_the_same_mode_and_position_joins_the_plan() -> None:
    plan, t = the_plan(), enrolled()
    assert domain.refuse_trainee(plan, t.state, t.training) is None
    events = domain.plan_trainee(plan, t.state, t.training)
    planned = events[0]
    assert isinstance(planned, TrainingPlanned)
    assert (planned.plan_id, planned.applicant_id, planned.institution_id, planned.enterprise_id) == (
        "p1",
        "a",
        "inst",
        "ent",
    )
    assert planned.starts_on == plan.starts_on and planned.place == plan.place
    after = t.then(events)
    assert after.training == domain.TraineeTraining(plan_id="p1")
    assert after.state.status is applicant_domain.Status.ENROLLED
    assert domain.plan_trainee(plan, after.state, after.training) == [], "adding again changes nothing"


@pytest.mark.parametrize(
    ("history", "label"),
    [
        (lambda b: [], "待审核"),
        (qualified, "已审核"),
        (
            lambda b: [
                ApplicantRejected(
                    applicant_id="a",
                    batch_id="b",
                    enterprise_id="ent",
                    institution_id="inst",
                    reason="照片不清晰",
                )
            ],
            "未通过",
        ),
    ],
)
def test_only_enrolled_applicants_join(history: Any, label: str) -> None:
    b = make_batch()
    t = Trainee(b, history(b))
    refusal = domain.refuse_trainee(the_plan(), t.state, t.training)
    assert codes(refusal) == ["not_enrolled"]
    assert refusal is not None and label in refusal.message and "已报名" in refusal.message
    with pytest.raises(Conflict) as refused:
        domain.plan_trainee(the_plan(), t.state, t.training)
    assert refused.value.code == "not_enrolled"


def test_an_applicant_sent_to_the_exam_outside_a_plan_is_not_enrolled_any_more() -> None:
    t = enrolled()
    t = t.then(applicant_domain.apply_for_exam(t.state, HEAD_PHOTO))
    assert codes(domain.refuse_trainee(the_plan(), t.state, t.training)) == ["not_enrolled"]


def test_mode_position_and_other_plan_are_all_reported() -> None:
    plan = the_plan()
    assert codes(domain.refuse_trainee(plan, *_views(enrolled(training_mode="online")))) == [
        "training_mode_mismatch"
    ]
    assert codes(domain.refuse_trainee(plan, *_views(enrolled(position="质量员")))) == ["position_mismatch"]
    elsewhere = enrolled()
    elsewhere = elsewhere.then(
        domain.plan_trainee(the_plan(plan_id="p0"), elsewhere.state, elsewhere.training)
    )
    refusal = domain.refuse_trainee(plan, elsewhere.state, elsewhere.training)
    assert codes(refusal) == ["already_in_other_plan"] and refusal is not None and "p0" in refusal.message
    b = make_batch(training_mode="online", position="安全员")
    both = Trainee(b, qualified(b))
    refusal = domain.refuse_trainee(plan, both.state, both.training)
    assert codes(refusal) == ["not_enrolled", "training_mode_mismatch", "position_mismatch"]
    assert refusal is not None and refusal.code == "not_enrolled" and refusal.name == "张三"
    detail = refusal.as_detail()
    assert detail["applicant_id"] == "a" and len(detail["reasons"]) == 3 and "；" in detail["message"]


def test_another_institutions_applicant_is_refused_without_details() -> None:
    t = enrolled(institution_id="other", training_mode="online")
    refusal = domain.refuse_trainee(the_plan(), t.state, t.training)
    assert codes(refusal) == ["not_institution_applicant"]
    assert refusal is not None and refusal.name == "", "another institution's applicant stays anonymous"
    assert codes(domain.refuse_completion(the_plan(), t.state, t.training)) == ["not_institution_applicant"]
    assert codes(domain.refuse_exam_application(the_plan(), t.state, t.training)) == [
        "not_institution_applicant"
    ]
    assert domain.not_found("zzz").code == "applicant_not_found"


def _views(t: Trainee) -> tuple[applicant_domain.Applicant, domain.TraineeTraining]:
    return t.state, t.training


# --- completion and the exam application ---


def planned() -> Trainee:
    t = enrolled()
    return t.then(domain.plan_trainee(the_plan(), t.state, t.training))


def test_completion_rules() -> None:
    plan = the_plan()
    not_planned = enrolled()
    assert codes(domain.refuse_completion(plan, *_views(not_planned))) == ["not_in_plan"]
    with pytest.raises(Conflict) as refused:
        domain.complete_training(plan, *_views(not_planned))
    assert refused.value.code == "not_in_plan" and refused.value.details
    t = planned()
    assert codes(domain.refuse_completion(the_plan(plan_id="p9"), *_views(t))) == ["not_in_plan"]
    assert domain.refuse_completion(the_plan(starts_on=date(2099, 1, 1)), *_views(t)) is None, "no date rule"
    events = domain.complete_training(plan, t.state, t.training)
    done = events[0]
    assert isinstance(done, TrainingCompleted)
    assert (done.plan_id, done.applicant_id, done.enterprise_id) == ("p1", "a", "ent")
    t = t.then(events)
    assert t.training.completed and t.state.status is applicant_domain.Status.ENROLLED
    assert domain.complete_training(plan, t.state, t.training) == [], "recorded once"


def test_exam_application_needs_the_completed_training() -> None:
    plan = the_plan()
    assert codes(domain.refuse_exam_application(plan, *_views(enrolled()))) == ["not_in_plan"]
    t = planned()
    refusal = domain.refuse_exam_application(plan, t.state, t.training)
    assert codes(refusal) == ["training_not_completed"]
    with pytest.raises(Conflict) as refused:
        domain.apply_for_exam(plan, t.state, t.training, PHOTO)
    assert refused.value.code == "training_not_completed"
    assert refusal is not None and refused.value.details == [refusal.as_detail()]

    t = t.then(domain.complete_training(plan, t.state, t.training))
    assert domain.refuse_exam_application(plan, t.state, t.training) is None
    events = domain.apply_for_exam(plan, t.state, t.training, PHOTO)
    applied = events[0]
    assert isinstance(applied, ExamApplied)
    assert (applied.applicant_id, applied.institution_id, applied.name, applied.position) == (
        "a",
        "inst",
        "张三",
        "施工员",
    )
    t = t.then(events)
    assert t.state.status is applicant_domain.Status.EXAM_APPLIED and t.training.exam_applied
    assert domain.refuse_exam_application(plan, t.state, t.training) is None
    assert domain.apply_for_exam(plan, t.state, t.training, PHOTO) == [], "applied once"


def test_training_state_is_derived_from_the_applicants_history() -> None:
    assert domain.TraineeTraining.from_history([]) == domain.TraineeTraining()
    b = make_batch()
    history: list[DomainEvent] = [
        *enrolled_history(b),
        TrainingCompleted(plan_id="elsewhere", applicant_id="a", institution_id="inst", enterprise_id="ent"),
    ]
    assert not domain.TraineeTraining.from_history(history).completed, "completion of another plan"
    assert isinstance(history[-2], Enrolled) and isinstance(history[0], ApplicantQualified)
    assert domain.trainee_state(completed=False, exam_applied=False) is domain.TraineeState.PLANNED
    assert domain.trainee_state(completed=True, exam_applied=False) is domain.TraineeState.COMPLETED
    assert domain.trainee_state(completed=True, exam_applied=True) is domain.TraineeState.EXAM_APPLIED
    assert domain.TRAINEE_STATE_LABELS[domain.TraineeState.COMPLETED] == "已完成培训"
