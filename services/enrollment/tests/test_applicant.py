from __future__ import annotations

import pytest
from enrollment.domain import applicant as domain
from enrollment.domain.batch import BatchForm, import_batch
from events import ApplicantQualified, ApplicantsImported, Enrolled, ExamApplied
from events.enrollment import ImportedApplicant
from servicekit.errors import Conflict, DomainError, NotFound


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
    state = domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *[]])
    with pytest.raises(Conflict):  # not enrolled before qualification and payment
        domain.enroll(state, order_id="o")
    qualified = domain.qualify(state, reviewer_id="r")
    assert isinstance(qualified[0], ApplicantQualified) and qualified[0].position == "施工员"
    state = domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *qualified])
    enrolled = domain.enroll(state, order_id="o")
    assert isinstance(enrolled[0], Enrolled)
    state = domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *[*qualified, *enrolled]])
    assert domain.enroll(state, order_id="o") == [], "a redelivered payment changes nothing"
    applied = domain.apply_for_exam(state, domain.ExamHeadPhoto(bucket="enrollment", key="k/头像.jpg"))
    assert isinstance(applied[0], ExamApplied)
    assert (applied[0].head_photo_bucket, applied[0].head_photo_key) == ("enrollment", "k/头像.jpg")
    assert applied[0].training_mode == "online" and applied[0].retake is False


def test_rejection_needs_a_reason_and_can_be_corrected() -> None:
    b = batch()
    state = domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *[]])
    with pytest.raises(DomainError):
        domain.reject(state, reviewer_id="r", reason=" ")
    rejected = domain.reject(state, reviewer_id="r", reason="学历证书不清晰")
    state = domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *rejected])
    assert state.status is domain.Status.REJECTED and state.rejection_reason == "学历证书不清晰"
    assert domain.qualify(state, reviewer_id="r")


def test_a_decision_needs_the_applicants_own_stream_only() -> None:
    applicants = [
        ImportedApplicant(applicant_id=f"a{n}", name=f"学员{n}", gender="女", id_number=f"x{n}")
        for n in range(5)
    ]
    chunks = import_batch(
        [],
        BatchForm(
            batch_id="b",
            enterprise_id="e",
            institution_id="i",
            position="质量员",
            specialisation="土建施工",
            training_mode="offline",
            applicants=applicants,
        ),
        chunk=2,
    )
    assert len(chunks) == 3
    registrations = domain.registrations(chunks)
    assert [r.applicant_id for r in registrations] == [f"a{n}" for n in range(5)]
    stream = [registrations[3]]  # the applicant's own stream: its first event; no batch anywhere
    state = domain.Applicant.from_history(stream)
    assert state.record.name == "学员3" and state.batch.position == "质量员" and state.batch.batch_id == "b"
    qualified = domain.qualify(state, reviewer_id="r")
    assert isinstance(qualified[0], ApplicantQualified)
    assert (qualified[0].applicant_id, qualified[0].specialisation, qualified[0].training_mode) == (
        "a3",
        "土建施工",
        "offline",
    )
    enrolled = domain.enroll(domain.Applicant.from_history([*stream, *qualified]), order_id="o")
    assert isinstance(enrolled[0], Enrolled) and enrolled[0].enterprise_id == "e"
    # the legacy path makes the same registration from the batch's chunk naming the applicant
    legacy = domain.registration_from_batch(chunks[1], "a3")
    assert legacy.batch_version == 0 and registrations[3].batch_version == 3, "the materials come after v3"
    assert legacy.model_copy(update={"batch_version": 3}) == registrations[3]
    with pytest.raises(NotFound):
        domain.Applicant.from_history(qualified)  # a stream without its registration
    with pytest.raises(NotFound):
        domain.registration_from_batch(chunks[0], "a3")


def test_a_redelivered_payment_after_the_refund_enrolls_nobody() -> None:
    stream = [domain.registration_from_batch(batch(), "a")]
    stream += domain.qualify(domain.Applicant.from_history(stream), reviewer_id="r")
    stream += domain.enroll(domain.Applicant.from_history(stream), order_id="o")
    stream += domain.revert_enrollment(domain.Applicant.from_history(stream), order_id="o")
    state = domain.Applicant.from_history(stream)
    assert state.status is domain.Status.QUALIFIED
    assert domain.revert_enrollment(state, order_id="o") == [], "a redelivered refund changes nothing"
    assert domain.enroll(state, order_id="o") == [], "the refunded order never enrolls again"
    assert domain.enroll(state, order_id="o2"), "another order does"
