from __future__ import annotations

import pytest
from enrollment.domain import applicant as domain
from enrollment.domain.batch import BatchForm, import_batch
from events import ApplicantQualified, ApplicantsImported, Enrolled, ExamApplied
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict, DomainError


def batch() -> ApplicantsImported:
    events = import_batch(
        [],
        BatchForm(
            batch_id="b",
            enterprise_id="e",
            institution_id="i",
            position="施工员",
            training_mode="online",
            applicants=[ImportedApplicant(applicant_id="a", name="张三", gender="男", id_number="x")],
        ),
    )
    assert isinstance(events[0], ApplicantsImported)
    return events[0]


def test_batch_rules() -> None:
    with pytest.raises(DomainError):
        import_batch(
            [],
            BatchForm(
                batch_id="b",
                enterprise_id="e",
                institution_id="i",
                position="施工员",
                training_mode="by-post",
                applicants=[],
            ),
        )
    with pytest.raises(Conflict):
        import_batch(
            [batch()],
            BatchForm(
                batch_id="b",
                enterprise_id="e",
                institution_id="i",
                position="施工员",
                training_mode="online",
                applicants=[],
            ),
        )


def test_lifecycle() -> None:
    b = batch()
    state = domain.Applicant.from_history(b, "a", [])
    with pytest.raises(Conflict):  # not enrolled before qualification and payment
        domain.enroll(state, order_id="o")
    qualified = domain.qualify(state, reviewer_id="r")
    assert isinstance(qualified[0], ApplicantQualified) and qualified[0].position == "施工员"
    state = domain.Applicant.from_history(b, "a", qualified)
    enrolled = domain.enroll(state, order_id="o")
    assert isinstance(enrolled[0], Enrolled)
    state = domain.Applicant.from_history(b, "a", [*qualified, *enrolled])
    assert domain.enroll(state, order_id="o") == [], "a redelivered payment changes nothing"
    applied = domain.apply_for_exam(state, domain.ExamHeadPhoto(bucket="enrollment", key="k/头像.jpg"))
    assert isinstance(applied[0], ExamApplied)
    assert (applied[0].head_photo_bucket, applied[0].head_photo_key) == ("enrollment", "k/头像.jpg")
    assert applied[0].training_mode == "online" and applied[0].retake is False


def test_rejection_needs_a_reason_and_can_be_corrected() -> None:
    b = batch()
    state = domain.Applicant.from_history(b, "a", [])
    with pytest.raises(DomainError):
        domain.reject(state, reviewer_id="r", reason=" ")
    rejected = domain.reject(state, reviewer_id="r", reason="学历证书不清晰")
    state = domain.Applicant.from_history(b, "a", rejected)
    assert state.status is domain.Status.REJECTED and state.rejection_reason == "学历证书不清晰"
    assert domain.qualify(state, reviewer_id="r")
