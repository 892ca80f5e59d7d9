"""Continuing education as a yearly cycle, enrollment's part: an enrollment ends (EnrollmentClosed), the
applicant index's rows close and open with it, continuing-education plans declare hours and their completion
publishes ContinuingEducationCompleted, continuing-education trainees never go to the exam."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from enrollment.application.handlers import index_updates, open_filter
from enrollment.domain import applicant as applicant_domain
from enrollment.domain import profile
from enrollment.domain import training as domain
from enrollment.domain.batch import BatchForm, import_batch
from enrollment.domain.events import EnrollmentClosed, EnrollmentReopened, TrainingCompleted
from events import (
    ApplicantRejected,
    ApplicantsImported,
    ContinuingEducationCompleted,
    DomainEvent,
)
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict

Status = applicant_domain.Status
PHOTO = profile.ExamPhotoChoice(applicant_domain.ExamHeadPhoto(bucket="enrollment", key="k/头像.jpg"))

PLAN: dict[str, Any] = {
    "name": "2027年施工员继续教育线上班",
    "training_mode": "online",
    "position": "施工员",
    "starts_on": "2027-03-01",
    "ends_on": "2027-03-05",
    "platform": "浙江省住建培训平台",
}
CE_PLAN: dict[str, Any] = {
    **PLAN,
    "continuing_education": True,
    "professional_hours": 22,
    "general_hours": 10,
}


def make_batch(*, continuing_education: bool = False) -> ApplicantsImported:
    [event] = import_batch(
        [],
        BatchForm(
            batch_id="b1",
            enterprise_id="ent",
            institution_id="inst",
            position="施工员",
            specialisation="土建施工",
            training_mode="online",
            applicants=[ImportedApplicant(applicant_id="a", name="张三", gender="男", id_number="x")],
            continuing_education=continuing_education,
        ),
    )
    assert isinstance(event, ApplicantsImported)
    return event


class Person:
    """An applicant's history with the two views the rules read."""

    def __init__(self, *, continuing_education: bool = False, history: list[DomainEvent] | None = None):
        self.batch = make_batch(continuing_education=continuing_education)
        self.history = history or []

    @property
    def state(self) -> applicant_domain.Applicant:
        return applicant_domain.Applicant.from_history(
            [applicant_domain.registration_from_batch(self.batch, "a"), *self.history]
        )

    @property
    def training(self) -> domain.TraineeTraining:
        return domain.TraineeTraining.from_history(self.history)

    def then(self, events: list[DomainEvent]) -> Person:
        self.history = [*self.history, *events]
        return self


def pending(ce: bool = False) -> Person:
    return Person(continuing_education=ce)


def qualified(ce: bool = False) -> Person:
    p = pending(ce)
    return p.then(applicant_domain.qualify(p.state, reviewer_id="r"))


def enrolled(ce: bool = False) -> Person:
    p = qualified(ce)
    return p.then(applicant_domain.enroll(p.state, order_id="o"))


def plan_of(base: dict[str, Any] = CE_PLAN, **changes: Any) -> domain.Plan:
    events = domain.create_plan(
        [], plan_id="p1", institution_id="inst", form=domain.PlanForm(**{**base, **changes})
    )
    return domain.Plan.from_history(events)


def planned(plan: domain.Plan, ce: bool = True) -> Person:
    p = enrolled(ce)
    return p.then(domain.plan_trainee(plan, p.state, p.training))


def problems(**changes: Any) -> set[tuple[str, str]]:
    base = CE_PLAN if changes.pop("ce", True) else PLAN
    return {(p["field"], p["code"]) for p in domain.validate_plan(domain.PlanForm(**{**base, **changes}))}


# --- closing ---


def test_rejection_closes_and_correction_or_approval_reopens() -> None:
    p = pending()
    events = applicant_domain.reject(p.state, reviewer_id="r", reason="学历不符")
    assert [type(e) for e in events] == [ApplicantRejected, EnrollmentClosed]
    p.then(events)
    assert p.state.status is Status.REJECTED and not p.state.is_open
    assert p.state.status_label == "未通过", "a rejected applicant may still be corrected"
    # approved after all: open again first
    events = applicant_domain.qualify(p.state, reviewer_id="r")
    assert isinstance(events[0], EnrollmentReopened)
    assert p.then(events).state.is_open and p.state.status is Status.QUALIFIED
    # corrected: open again
    q = pending()
    q.then(applicant_domain.reject(q.state, reviewer_id="r", reason="姓名有误"))
    corrected = q.state.record.model_copy(update={"name": "张三丰"})
    events = applicant_domain.correct(q.state, corrected)
    assert isinstance(events[-1], EnrollmentReopened)
    assert q.then(events).state.is_open and q.state.status is Status.PENDING
    # an applicant never closed reopens nothing
    assert not any(
        isinstance(e, EnrollmentReopened) for e in applicant_domain.qualify(pending().state, reviewer_id="r")
    )


@pytest.mark.parametrize("make", [pending, qualified])
def test_withdraw_before_payment(make: Any) -> None:
    p = make()
    events = applicant_domain.withdraw(p.state, reason="已离职")
    closing = events[-1]
    assert (
        isinstance(closing, EnrollmentClosed) and closing.reason == "withdrawn" and closing.note == "已离职"
    )
    # a qualified applicant is published as no longer qualified, so that payment no longer offers it
    assert any(isinstance(e, ApplicantRejected) for e in events) == (p.state.status is Status.QUALIFIED)
    p.then(events)
    assert p.state.status is Status.CLOSED and not p.state.is_open
    assert p.state.status_label == "已结束（企业已撤回报名）"
    with pytest.raises(Conflict) as again:
        applicant_domain.withdraw(p.state)
    assert again.value.code == "withdraw_not_allowed"


def test_a_rejected_applicant_may_be_withdrawn() -> None:
    p = pending()
    p.then(applicant_domain.reject(p.state, reviewer_id="r", reason="x"))
    p.then(applicant_domain.withdraw(p.state))
    assert p.state.status is Status.CLOSED and p.state.closed_reason == "withdrawn"


def test_a_paid_applicant_cannot_be_withdrawn() -> None:
    with pytest.raises(Conflict) as refused:
        applicant_domain.withdraw(enrolled().state)
    assert refused.value.code == "withdraw_not_allowed" and "已报名" in refused.value.message


def test_certification_closes_once() -> None:
    p = enrolled()
    events = applicant_domain.close(p.state, reason="certificate_issued", ref="c1")
    assert [e.reason for e in events if isinstance(e, EnrollmentClosed)] == ["certificate_issued"]
    p.then(events)
    assert p.state.status is Status.CLOSED and p.state.status_label == "已结束（已取得证书）"
    assert applicant_domain.close(p.state, reason="certificate_issued", ref="c1") == [], "redelivered"
    with pytest.raises(Conflict):
        applicant_domain.enroll(p.state, order_id="o2")


def test_the_index_follows_closing_and_reopening() -> None:
    closed = EnrollmentClosed(
        applicant_id="a", batch_id="b", enterprise_id="e", institution_id="i", reason="withdrawn"
    )
    reopened = EnrollmentReopened(applicant_id="a", batch_id="b", enterprise_id="e", institution_id="i")
    [close, reopen] = index_updates([closed, reopened])
    assert close._doc == {"$set": {"closed": True, "closed_reason": "withdrawn"}}
    assert reopen._doc == {"$unset": {"closed": "", "closed_reason": ""}}
    assert index_updates([make_batch()]) == []
    # a row without the mark (every row written before closing existed) is open
    assert open_filter(position="施工员", continuing_education=True) == {
        "position": "施工员",
        "continuing_education": True,
        "closed": {"$ne": True},
    }


# --- continuing-education plans: hours ---


def test_ce_plan_hours_boundaries() -> None:
    assert problems() == set()
    assert problems(professional_hours=0, general_hours=0.5) == set()
    assert problems(professional_hours=200, general_hours=0) == set()
    assert problems(professional_hours="22", general_hours=" 10 ") == set(), "numbers as text"
    assert problems(professional_hours=None) == {("professional_hours", "required")}
    assert problems(general_hours="") == {("general_hours", "required")}
    assert problems(professional_hours=-1) == {("professional_hours", "invalid_hours")}
    assert problems(professional_hours="abc") == {("professional_hours", "invalid_hours")}
    assert problems(professional_hours=float("nan")) == {("professional_hours", "invalid_hours")}
    assert problems(general_hours=200.5) == {("general_hours", "too_many_hours")}
    assert problems(professional_hours=0, general_hours=0) == {("professional_hours", "no_hours")}
    assert problems(professional_hours=150, general_hours=50.5) == {("professional_hours", "too_many_hours")}


def test_initial_plans_declare_no_hours() -> None:
    assert problems(ce=False) == set()
    assert problems(ce=False, professional_hours=22) == {("professional_hours", "hours_not_allowed")}
    assert problems(ce=False, general_hours=0) == {("general_hours", "hours_not_allowed")}
    plan = plan_of(PLAN)
    assert not plan.continuing_education and plan.professional_hours is None


def test_a_ce_plan_may_lie_in_the_future() -> None:
    plan = plan_of(starts_on="2029-01-01", ends_on="2029-01-03")
    assert (plan.continuing_education, plan.professional_hours, plan.general_hours) == (True, 22.0, 10.0)


def test_ce_and_initial_trainees_never_share_a_plan() -> None:
    ce_plan, initial_plan = plan_of(), plan_of(PLAN)
    initial, ce = enrolled(), enrolled(ce=True)
    assert domain.refuse_trainee(ce_plan, ce.state, ce.training) is None
    assert domain.refuse_trainee(initial_plan, initial.state, initial.training) is None
    for plan, p in ((ce_plan, initial), (initial_plan, ce)):
        refusal = domain.refuse_trainee(plan, p.state, p.training)
        assert refusal is not None and refusal.code == "kind_mismatch" and "不能混在" in refusal.message


# --- completion: hours published once ---


def test_completing_a_ce_plan_publishes_the_hours_once() -> None:
    plan = plan_of(starts_on="2028-06-01", ends_on="2028-06-03")
    p = planned(plan)
    events = domain.complete_training(plan, p.state, p.training)
    assert [type(e) for e in events] == [TrainingCompleted, ContinuingEducationCompleted]
    done = events[1]
    assert isinstance(done, ContinuingEducationCompleted)
    assert done.model_dump(mode="json") == {
        "applicant_id": "a",
        "batch_id": "b1",
        "enterprise_id": "ent",
        "institution_id": "inst",
        "plan_id": "p1",
        "plan_name": "2027年施工员继续教育线上班",
        "id_number": "x",
        "name": "张三",
        "position": "施工员",
        "specialisation": "土建施工",
        "professional_hours": 22.0,
        "general_hours": 10.0,
        "completed_on": "2028-06-03",
    }
    p.then(events)
    assert domain.complete_training(plan, p.state, p.training) == [], "completion is recorded once"


def test_initial_training_never_credits_hours() -> None:
    plan = plan_of(PLAN)
    p = planned(plan, ce=False)
    events = domain.complete_training(plan, p.state, p.training)
    assert [type(e) for e in events] == [TrainingCompleted]
    # a continuing-education trainee in a plan made before plans had kinds earns no hours either
    legacy = replace(plan_of(), continuing_education=False)
    assert domain.continuing_education_completed(legacy, enrolled(ce=True).state) == []


# --- the exam ---


def test_ce_trainees_never_go_to_the_exam() -> None:
    plan = plan_of()
    p = planned(plan)
    p.then(domain.complete_training(plan, p.state, p.training))
    refusal = domain.refuse_exam_application(plan, p.state, p.training, PHOTO)
    assert refusal is not None and refusal.code == "continuing_education_no_exam"
    assert "继续教育学员不参加考试" in refusal.message
    with pytest.raises(Conflict) as refused:
        applicant_domain.apply_for_exam(p.state, PHOTO.photo)
    assert refused.value.code == "continuing_education_no_exam"
    # an initial trainee who completed the same way is applied
    initial_plan = plan_of(PLAN)
    q = planned(initial_plan, ce=False)
    q.then(domain.complete_training(initial_plan, q.state, q.training))
    assert domain.refuse_exam_application(initial_plan, q.state, q.training, PHOTO) is None
