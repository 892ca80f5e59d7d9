from __future__ import annotations

from enrollment.domain import applicant as domain
from enrollment.domain.batch import BatchForm, import_batch
from events import ApplicantQualified, ApplicantsImported
from events.enrollment import ImportedApplicant


def batch() -> ApplicantsImported:
    form = BatchForm(
        batch_id="b",
        enterprise_id="e",
        institution_id="i",
        position="施工员",
        training_mode="online",
        applicants=[ImportedApplicant(applicant_id="a", name="张三", gender="男", id_number="x")],
    )
    events = import_batch([], form)
    assert isinstance(events[0], ApplicantsImported)
    return events[0]


def test_a_refund_reverts_the_enrollment_once() -> None:
    b = batch()
    qualified = domain.qualify(
        domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *[]]), reviewer_id="r"
    )
    enrolled = domain.enroll(
        domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *qualified]), order_id="o"
    )
    state = domain.Applicant.from_history([domain.registration_from_batch(b, "a"), *[*qualified, *enrolled]])
    assert domain.revert_enrollment(state, order_id="other") == [], "another order's refund changes nothing"
    reverted = domain.revert_enrollment(state, order_id="o")
    assert isinstance(reverted[0], ApplicantQualified) and reverted[0].model_dump(
        exclude={"reviewer_id"}
    ) == qualified[0].model_dump(exclude={"reviewer_id"})
    state = domain.Applicant.from_history(
        [domain.registration_from_batch(b, "a"), *[*qualified, *enrolled, *reverted]]
    )
    assert state.status is domain.Status.QUALIFIED and state.order_id is None
    assert domain.revert_enrollment(state, order_id="o") == [], "a redelivered refund changes nothing"
    again = domain.enroll(state, order_id="o2")  # orderable and payable again
    assert again[0].order_id == "o2"
