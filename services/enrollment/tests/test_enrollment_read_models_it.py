"""Read models on a real MongoDB: certificate holders follow the certificate's state; the person's profile;
the applicant's exam head photo and results; a retake is counted once in the training plan."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from enrollment.domain.events import (
    ApplicantMaterials,
    ExamResultNoted,
    HeadPhotoLocked,
    HeadPhotoProblem,
    MaterialDocument,
    MaterialsUploaded,
    TrainingCompleted,
    TrainingPlanCreated,
)
from enrollment.projections.read_models import (
    APPLICANTS,
    HOLDERS,
    PERSON_PROFILES,
    applicants,
    certificate_holders,
    person_profiles,
)
from enrollment.projections.training import APPLICANT_TRAINING, TRAINING_PLANS, training_plans
from events import (
    ApplicantsImported,
    CertificateIssued,
    CertificateLapsed,
    CertificateRenewed,
    CertificateRevoked,
    DomainEvent,
    Envelope,
    ExamApplied,
    LegacyCertificateImported,
    PersonDocumentUploaded,
    TrainingPlanned,
)
from events.enrollment import ImportedApplicant
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session, create_client, in_transaction
from servicekit.projections import Projection

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ID = "330106199001010022"


async def _apply(client: Any, projection: Projection, events: Sequence[tuple[DomainEvent, str]]) -> None:
    for tick, (event, subject) in enumerate(events):
        envelope = Envelope.for_event(
            event, subject=subject, source="/test", time=T0 + timedelta(minutes=tick)
        )
        received = ReceivedEvent(envelope, event, event.topic(), 0, tick)

        async def work(session: Session, received: ReceivedEvent = received) -> None:
            await projection.handlers.dispatch(received, session)

        await in_transaction(client, work)


def issued(certificate_id: str, renews: str | None = None) -> CertificateIssued:
    return CertificateIssued(
        certificate_id=certificate_id,
        certificate_number=f"N-{certificate_id}",
        applicant_id="a",
        id_number=ID,
        holder_name="李四",
        position="安全员",
        institution_id="inst",
        issued_on=date(2026, 3, 1),
        renews=renews,
    )


async def test_certificate_holders_follow_the_certificates_state(stack_env: dict[str, str]) -> None:
    client = create_client(stack_env["MONGO_URL"])
    name = f"holders-{uuid.uuid4().hex[:8]}"
    try:
        projection = certificate_holders(name)
        await _apply(
            client,
            projection,
            [
                (issued("c1"), "certificate-c1"),
                (issued("c2"), "certificate-c2"),
                (issued("c3"), "certificate-c3"),
                (
                    CertificateLapsed(
                        certificate_id="c1",
                        certificate_number="N-c1",
                        id_number=ID,
                        cycles_from=date(2027, 3, 1),
                        cycles_to=date(2029, 2, 28),
                        hours=40,
                        required_hours=64,
                    ),
                    "certificate-c1",
                ),
                (
                    CertificateRevoked(
                        certificate_id="c2",
                        certificate_number="N-c2",
                        id_number=ID,
                        reason="列入黑名单",
                        source="blacklist",
                    ),
                    "certificate-c2",
                ),
                # the renewal's CertificateRenewed before the new certificate's CertificateIssued
                (
                    CertificateRenewed(
                        certificate_id="c4",
                        certificate_number="N-c4",
                        previous_certificate_id="c3",
                        previous_certificate_number="N-c3",
                        id_number=ID,
                        holder_name="李四",
                        position="安全员",
                        renewed_on=date(2030, 1, 1),
                    ),
                    "certificate-c4",
                ),
                (issued("c4", renews="c3"), "certificate-c4"),
                (
                    LegacyCertificateImported(
                        certificate_id="old",
                        certificate_number="浙建安2015001",
                        id_number="330106198001010011",
                        holder_name="王五",
                        position="安全员",
                        issued_on=date(2015, 1, 1),
                    ),
                    "certificate-old",
                ),
                # a renewed legacy certificate: the renewal is consumed before the import (other streams)
                (issued("c6", renews="old2"), "certificate-c6"),
                (
                    LegacyCertificateImported(
                        certificate_id="old2",
                        certificate_number="浙建安2016002",
                        id_number=ID,
                        holder_name="李四",
                        position="安全员",
                        issued_on=date(2016, 1, 1),
                    ),
                    "certificate-old2",
                ),
            ],
        )
        docs = {d["_id"]: d async for d in client[name][HOLDERS].find()}
        assert {k: d["state"] for k, d in docs.items()} == {
            "c1": "lapsed",
            "c2": "revoked",
            "c3": "superseded",
            "c4": "valid",
            "old": "valid",
            "c6": "valid",
            "old2": "superseded",
        }
        assert docs["c4"]["position"] == "安全员" and docs["c4"]["certificate_number"] == "N-c4"
        assert docs["old"]["legacy"] is True and docs["c4"]["legacy"] is False
        assert docs["old2"]["legacy"] is True and docs["old2"]["certificate_number"] == "浙建安2016002"
        # continuing education's query (imports.py): only valid certificates count
        valid = [d["_id"] async for d in client[name][HOLDERS].find({"id_number": ID, "state": "valid"})]
        assert sorted(valid) == ["c4", "c6"]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_profile_applicant_and_training_read_models(stack_env: dict[str, str]) -> None:
    client = create_client(stack_env["MONGO_URL"])
    name = f"profile-{uuid.uuid4().hex[:8]}"
    imported = ApplicantsImported(
        batch_id="b",
        enterprise_id="ent",
        institution_id="inst",
        position="安全员",
        training_mode="online",
        applicants=[ImportedApplicant(applicant_id="a", name="李四", gender="女", id_number=ID)],
    )
    zip_photo = MaterialsUploaded(
        batch_id="b",
        enterprise_id="ent",
        institution_id="inst",
        applicants=[
            ApplicantMaterials(
                applicant_id="a",
                id_number=ID,
                documents=[
                    MaterialDocument(
                        document="头像", object_key="batches/b/a/头像.jpg", content_type="image/jpeg", size=9
                    )
                ],
                photo_ok=True,
            )
        ],
    )
    own = PersonDocumentUploaded(
        id_number=ID,
        document="head_photo",
        bucket="enrollment",
        key="persons/k/1.jpg",
        content_type="image/jpeg",
        size=30000,
    )

    def applied(retake: bool) -> ExamApplied:
        return ExamApplied(
            applicant_id="a",
            enterprise_id="ent",
            institution_id="inst",
            id_number=ID,
            name="李四",
            position="安全员",
            head_photo_bucket="enrollment",
            head_photo_key="persons/k/1.jpg",
            training_mode="online",
            retake=retake,
        )

    def result(attempt: str, passed: bool, score: int) -> ExamResultNoted:
        return ExamResultNoted(
            applicant_id="a",
            enterprise_id="ent",
            institution_id="inst",
            attempt_id=attempt,
            passed=passed,
            score=score,
            pass_mark=60,
        )

    try:
        await _apply(
            client,
            person_profiles(name),
            [
                (own, "person-k"),
                (
                    HeadPhotoLocked(
                        id_number=ID, applicant_id="a", bucket="enrollment", key="persons/k/1.jpg"
                    ),
                    "person-k",
                ),
            ],
        )
        profile = await client[name][PERSON_PROFILES].find_one({"_id": ID})
        assert profile is not None and profile["head_photo_locked"] is True
        assert profile["documents"]["head_photo"]["key"] == "persons/k/1.jpg"
        assert profile["locked_head_photo"] == {"bucket": "enrollment", "key": "persons/k/1.jpg"}

        applicant_events: list[tuple[DomainEvent, str]] = [
            (imported, "batch-b"),
            (zip_photo, "batch-b"),
            (applied(False), "applicant-a"),
            (result("att-1", False, 40), "applicant-a"),
        ]
        await _apply(client, applicants(name), applicant_events)
        doc = await client[name][APPLICANTS].find_one({"_id": "a"})
        assert doc is not None and doc["status"] == "exam_failed" and doc["exam_score"] == 40
        assert doc["exam_head_photo"] == {"bucket": "enrollment", "key": "persons/k/1.jpg"}
        assert doc["head_photo_uploaded_at"] is not None and doc["materials"]["头像"]["size"] == 9
        await _apply(
            client,
            applicants(name),
            [(applied(True), "applicant-a"), (result("att-2", True, 80), "applicant-a")],
        )
        doc = await client[name][APPLICANTS].find_one({"_id": "a"})
        assert doc is not None and doc["status"] == "exam_passed" and doc["exam_retake"] is True

        plan = TrainingPlanCreated(
            plan_id="p1",
            institution_id="inst",
            name="线上班",
            training_mode="online",
            position="安全员",
            starts_on=date(2026, 3, 2),
            ends_on=date(2026, 3, 20),
            platform="浙江省建设人才网络学院",
        )
        planned = TrainingPlanned(
            plan_id="p1",
            applicant_id="a",
            institution_id="inst",
            enterprise_id="ent",
            training_mode="online",
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
        )
        done = TrainingCompleted(plan_id="p1", applicant_id="a", institution_id="inst", enterprise_id="ent")
        await _apply(
            client,
            training_plans(name),
            [
                (plan, "plan-p1"),
                (planned, "applicant-a"),
                (done, "applicant-a"),
                (applied(False), "applicant-a"),
                (applied(True), "applicant-a"),
            ],
        )
        counts = await client[name][TRAINING_PLANS].find_one({"_id": "p1"})
        assert counts is not None and counts["exam_applied_count"] == 1, "a retake is counted once"
        trainee = await client[name][APPLICANT_TRAINING].find_one({"_id": "a"})
        assert trainee is not None and trainee["exam_applied"] and trainee["exam_retakes"] == 1
    finally:
        await client.drop_database(name)
        await client.close()


async def test_the_applicants_photo_check_carries_the_rule_codes(stack_env: dict[str, str]) -> None:
    """A zip's head photo that passed is stored with its check; one that failed is not stored, and the
    applicant's `photo_ok` / `photo_problems` (what the review queue shows) name the failed rules by code; an
    event recorded before the codes (messages only, the failing photo stored) gets the code photo_invalid."""
    client = create_client(stack_env["MONGO_URL"])
    name = f"photos-{uuid.uuid4().hex[:8]}"
    head = MaterialDocument(
        document="头像", object_key="batches/b/a/u1/头像.jpg", content_type="image/jpeg", size=9
    )
    form = MaterialDocument(
        document="报名表", object_key="batches/b/a/u2/报名表.jpg", content_type="image/jpeg", size=5
    )

    def uploaded(*items: ApplicantMaterials) -> MaterialsUploaded:
        return MaterialsUploaded(
            batch_id="b", enterprise_id="ent", institution_id="inst", applicants=list(items)
        )

    tilted = HeadPhotoProblem(
        rule="tilt", code="tilted", message="头部歪斜：双眼连线与水平方向成 19.2°（上限 8°）"
    )
    try:
        await _apply(
            client,
            applicants(name),
            [
                (
                    uploaded(
                        ApplicantMaterials(applicant_id="a", id_number=ID, documents=[head], photo_ok=True)
                    ),
                    "b",
                ),
                (
                    uploaded(
                        ApplicantMaterials(
                            applicant_id="a",
                            id_number=ID,
                            documents=[form],
                            photo_ok=False,
                            head_photo_problems=[tilted],
                        )
                    ),
                    "b",
                ),
                (
                    uploaded(
                        ApplicantMaterials(
                            applicant_id="old",
                            id_number="330106199001010030",
                            documents=[head],
                            photo_ok=False,
                            photo_problems=["照片模糊"],
                        )
                    ),
                    "b",
                ),
            ],
        )
        doc = await client[name][APPLICANTS].find_one({"_id": "a"})
        assert doc is not None and doc["photo_ok"] is False
        assert doc["photo_problems"] == [tilted.model_dump()]
        # the photo on file is the earlier one, which passed
        assert (
            doc["materials"]["头像"]["object_key"] == head.object_key and doc["materials"]["头像"]["photo_ok"]
        )
        assert doc["photo_checked_at"] > doc["head_photo_uploaded_at"]
        old = await client[name][APPLICANTS].find_one({"_id": "old"})
        assert old is not None and old["materials"]["头像"]["photo_ok"] is False
        assert old["photo_problems"] == [{"rule": "", "code": "photo_invalid", "message": "照片模糊"}]
    finally:
        await client.drop_database(name)
        await client.close()
