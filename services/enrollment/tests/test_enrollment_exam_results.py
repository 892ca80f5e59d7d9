"""The exam's results on the applicant (ExamResultNoted) and the application again after a failed exam (补考);
the head photo an application carries, and the refusal without a usable one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from enrollment.domain import applicant as applicant_domain
from enrollment.domain import profile
from enrollment.domain import training as domain
from enrollment.domain.batch import BatchForm, import_batch
from enrollment.domain.events import ExamResultNoted, HeadPhotoLocked
from events import ApplicantsImported, DomainEvent, ExamApplied, PersonDocumentUploaded
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ZIP_PHOTO = profile.StoredPhoto("enrollment", "batches/b/a/头像.jpg", T0, "materials")
BAD_ZIP_PHOTO = profile.StoredPhoto(
    "enrollment", "batches/b/a/头像.jpg", T0, "materials", ok=False, problems=("背景不是白色",)
)


def batch() -> ApplicantsImported:
    events = import_batch(
        [],
        BatchForm(
            batch_id="b",
            enterprise_id="ent",
            institution_id="inst",
            position="安全员",
            training_mode="online",
            applicants=[
                ImportedApplicant(applicant_id="a", name="李四", gender="女", id_number="330106199001010022")
            ],
        ),
    )
    assert isinstance(events[0], ApplicantsImported)
    return events[0]


def plan() -> domain.Plan:
    form = domain.PlanForm(
        name="安全员线上班",
        training_mode="online",
        position="安全员",
        starts_on="2026-03-02",
        ends_on="2026-03-20",
        platform="浙江省建设人才网络学院",
    )
    return domain.Plan.from_history(domain.create_plan([], plan_id="p1", institution_id="inst", form=form))


class Trainee:
    def __init__(self) -> None:
        self.b = batch()
        self.history: list[DomainEvent] = []

    @property
    def state(self) -> applicant_domain.Applicant:
        return applicant_domain.Applicant.from_history(
            [applicant_domain.registration_from_batch(self.b, "a"), *self.history]
        )

    @property
    def training(self) -> domain.TraineeTraining:
        return domain.TraineeTraining.from_history(self.history)

    def add(self, events: list[DomainEvent]) -> list[DomainEvent]:
        self.history += events
        return events


def trained() -> Trainee:
    t = Trainee()
    t.add(applicant_domain.qualify(t.state, reviewer_id="r"))
    t.add(applicant_domain.enroll(t.state, order_id="o"))
    t.add(domain.plan_trainee(plan(), t.state, t.training))
    t.add(domain.complete_training(plan(), t.state, t.training))
    return t


def choice(photo: profile.StoredPhoto | None = ZIP_PHOTO) -> profile.ExamPhotoChoice:
    return profile.exam_photo(profile.Person(), photo)


def codes(refusal: domain.Refusal | None) -> list[str]:
    return [code for code, _ in refusal.reasons] if refusal else []


def test_the_application_carries_the_head_photo_and_the_training_mode() -> None:
    t = trained()
    applied = t.add(domain.apply_for_exam(plan(), t.state, t.training, choice()))
    event = applied[0]
    assert isinstance(event, ExamApplied)
    assert (event.head_photo_bucket, event.head_photo_key) == ("enrollment", "batches/b/a/头像.jpg")
    assert event.training_mode == "online" and event.retake is False
    assert (event.id_number, event.gender, event.position) == ("330106199001010022", "女", "安全员")
    assert t.state.status is applicant_domain.Status.EXAM_APPLIED and t.state.exam_applications == 1


def test_without_a_usable_head_photo_the_application_is_refused() -> None:
    t = trained()
    missing = domain.refuse_exam_application(plan(), t.state, t.training, choice(None))
    assert codes(missing) == ["head_photo_missing"] and missing is not None and "头像" in missing.message
    with pytest.raises(Conflict) as refused:
        domain.apply_for_exam(plan(), t.state, t.training, choice(None))
    assert refused.value.code == "head_photo_missing"
    invalid = domain.refuse_exam_application(plan(), t.state, t.training, choice(BAD_ZIP_PHOTO))
    assert codes(invalid) == ["head_photo_invalid"] and invalid is not None
    assert "背景不是白色" in invalid.message
    # every reason at once: not completed and no photo
    fresh = Trainee()
    fresh.add(applicant_domain.qualify(fresh.state, reviewer_id="r"))
    fresh.add(applicant_domain.enroll(fresh.state, order_id="o"))
    fresh.add(domain.plan_trainee(plan(), fresh.state, fresh.training))
    both = domain.refuse_exam_application(plan(), fresh.state, fresh.training, choice(None))
    assert codes(both) == ["training_not_completed", "head_photo_missing"]
    # the domain function itself refuses an empty photo too
    with pytest.raises(Exception) as empty:
        applicant_domain.apply_for_exam(t.state, applicant_domain.ExamHeadPhoto(bucket="", key=""))
    assert getattr(empty.value, "code", "") == "head_photo_missing"


def test_an_applicant_already_applied_is_unchanged_whatever_the_photo() -> None:
    t = trained()
    t.add(domain.apply_for_exam(plan(), t.state, t.training, choice()))
    assert domain.refuse_exam_application(plan(), t.state, t.training, choice(None)) is None
    assert domain.apply_for_exam(plan(), t.state, t.training, choice(None)) == []


def note(t: Trainee, attempt: str, *, passed: bool, score: int) -> list[DomainEvent]:
    return t.add(
        applicant_domain.note_exam_result(
            t.state, attempt_id=attempt, passed=passed, score=score, pass_mark=60
        )
    )


def test_failed_then_retake_then_passed() -> None:
    t = trained()
    t.add(domain.apply_for_exam(plan(), t.state, t.training, choice()))
    failed = note(t, "att-1", passed=False, score=48)
    assert isinstance(failed[0], ExamResultNoted) and failed[0].passed is False and failed[0].score == 48
    assert t.state.status is applicant_domain.Status.EXAM_FAILED and t.state.last_score == 48
    assert "补考" in applicant_domain.STATUS_LABELS[t.state.status]
    assert note(t, "att-1", passed=False, score=48) == [], "a redelivered result changes nothing"

    # the institution applies again: a retake, with the same (locked) photo
    locked = profile.Person(
        locked=HeadPhotoLocked(
            id_number="330106199001010022", applicant_id="a", bucket="enrollment", key=ZIP_PHOTO.key
        )
    )
    newer = profile.StoredPhoto("enrollment", "persons/x/new.jpg", T0 + timedelta(days=3), "profile")
    retake_photo = profile.exam_photo(locked, newer)
    assert retake_photo.photo == applicant_domain.ExamHeadPhoto(bucket="enrollment", key=ZIP_PHOTO.key)
    assert domain.refuse_exam_application(plan(), t.state, t.training, retake_photo) is None
    again = t.add(domain.apply_for_exam(plan(), t.state, t.training, retake_photo))
    assert isinstance(again[0], ExamApplied) and again[0].retake is True
    assert again[0].head_photo_key == ZIP_PHOTO.key
    assert t.state.status is applicant_domain.Status.EXAM_APPLIED and t.state.exam_applications == 2

    passed = note(t, "att-2", passed=True, score=75)
    assert isinstance(passed[0], ExamResultNoted) and passed[0].passed is True
    assert t.state.status is applicant_domain.Status.EXAM_PASSED
    assert applicant_domain.STATUS_LABELS[t.state.status] == "考试合格"
    refusal = domain.refuse_exam_application(plan(), t.state, t.training, choice())
    assert codes(refusal) == ["exam_passed"]
    with pytest.raises(Conflict) as closed:
        domain.apply_for_exam(plan(), t.state, t.training, choice())
    assert closed.value.code == "exam_passed"
    assert note(t, "att-1", passed=False, score=48) == [], "an old attempt redelivered late"
    assert note(t, "att-3", passed=False, score=10) == [], "a passed applicant is closed"
    assert t.state.status is applicant_domain.Status.EXAM_PASSED


def test_results_and_payments_that_do_not_apply_change_nothing() -> None:
    t = trained()
    assert note(t, "att-1", passed=True, score=90) == [], "never applied: the result is not noted"
    t.add(domain.apply_for_exam(plan(), t.state, t.training, choice()))
    assert applicant_domain.enroll(t.state, order_id="o") == [], "a redelivered payment after the exam"
    assert applicant_domain.revert_enrollment(t.state, order_id="o") == [], "no refund after the exam"
    note(t, "att-1", passed=False, score=20)
    assert applicant_domain.enroll(t.state, order_id="o") == []
    with pytest.raises(Conflict):
        applicant_domain.enroll(t.state, order_id="another")


def test_the_newest_photo_of_zip_and_profile_is_used() -> None:
    own = profile.Person.from_history(
        [
            PersonDocumentUploaded(
                id_number="x",
                document="head_photo",
                bucket="enrollment",
                key="persons/k/head_photo-1.jpg",
                content_type="image/jpeg",
                size=30000,
            )
        ],
        [T0 + timedelta(hours=1)],
    )
    assert profile.exam_photo(own, ZIP_PHOTO).photo == applicant_domain.ExamHeadPhoto(
        "enrollment", "persons/k/head_photo-1.jpg"
    )
    later_zip = profile.StoredPhoto(
        "enrollment", "batches/b/a/头像.jpg", T0 + timedelta(hours=2), "materials"
    )
    assert profile.exam_photo(own, later_zip).photo == later_zip.exam_photo()
    # the person's own photo replaces a zip photo with problems
    late_bad = profile.StoredPhoto(
        "enrollment", "batches/b/a/头像.jpg", T0 - timedelta(days=1), "materials", ok=False
    )
    assert profile.exam_photo(own, late_bad).photo is not None
