"""Read models of the enrollment context.

- `enterprise_status`: which enterprises their city has approved (only those may enroll);
- `applicants`: one document per applicant with its batch data and status, for enterprises and institutions;
  `head_photo_uploaded_at` is when the materials zip last brought a head photo, `exam_head_photo` the photo
  the exam uses (set by ExamApplied); `photo_ok` / `photo_problems` ([{rule, code, message}], the codes of
  我的资料's head-photo check): the check of the head photo the last zip with one brought, at
  `photo_checked_at` (a photo that failed was not stored: `materials.头像`, with its own `photo_ok`, is then
  an earlier one, if any); `closed_reason` / `closed_at` once the enrollment ended (status `closed`, 已结束;
  a rejected applicant keeps `rejected` with `closed_reason` `rejected`);
- `certificate_holders`: every certificate of a person with its state (valid / lapsed / revoked /
  superseded), for continuing education (only valid ones) and the head-photo lock;
- `person_profiles`: one document per person (ID number): their own documents and the head-photo lock.
"""

from __future__ import annotations

from events import (
    ApplicantQualified,
    ApplicantRejected,
    ApplicantsImported,
    CertificateIssued,
    CertificateLapsed,
    CertificateReinstated,
    CertificateRenewed,
    CertificateRevoked,
    Enrolled,
    EnterpriseApproved,
    EnterpriseRegistered,
    EnterpriseRejected,
    EnterpriseResubmitted,
    ExamApplied,
    LegacyCertificateImported,
    PersonDocumentUploaded,
)
from pymongo import ASCENDING, IndexModel, InsertOne, UpdateOne
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Document, Session
from servicekit.projections import Projection

from enrollment.domain.events import (
    ApplicantCorrected,
    EnrollmentClosed,
    EnrollmentReopened,
    ExamResultNoted,
    HeadPhotoLocked,
    MaterialsUploaded,
)

from ..domain.eligibility import precheck

ENTERPRISES = "enterprise_status"
APPLICANTS = "applicants"
HOLDERS = "certificate_holders"
PERSON_PROFILES = "person_profiles"
MATERIALS_HEAD_PHOTO = "头像"


def enterprise_status(database: str) -> Projection:
    projection = Projection(name="enterprise-status", collections=[ENTERPRISES], database=database)

    @projection.handlers.on(
        EnterpriseRegistered, EnterpriseResubmitted, EnterpriseApproved, EnterpriseRejected
    )
    async def status(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        fields: dict[str, object] = {"updated_at": received.envelope.time}
        match e:
            case EnterpriseRegistered() | EnterpriseResubmitted():
                fields.update(name=e.name, city=e.city, status="submitted")
            case EnterpriseApproved():
                fields.update(name=e.name, city=e.city, status="approved", credit_code=e.credit_code)
            case EnterpriseRejected():
                fields.update(status="rejected", reason=e.reason)
        await projection.collection(session).update_one(
            {"_id": e.enterprise_id},
            {"$set": fields},
            upsert=True,
            session=session,
        )

    return projection


def _index(*keys: str) -> IndexModel:
    """An index on `keys`, then `imported_at` (the lists' order)."""
    return IndexModel([*((k, ASCENDING) for k in keys), ("imported_at", ASCENDING)])


# What the pages filter and sort on (api/routes.py, api/profile.py, api/training.py): the institution's review
# queue and lists (institution, status), the enterprise's lists, a batch's applicants, a person's applicants.
APPLICANT_INDEXES = [
    _index("institution_id", "status"),
    _index("institution_id", "batch_id"),
    _index("enterprise_id", "status"),
    _index("enterprise_id"),
    _index("batch_id"),
    _index("id_number"),
    _index("status"),
]


def applicants(database: str) -> Projection:
    projection = Projection(
        name="applicants",
        collections=[APPLICANTS],
        database=database,
        indexes={APPLICANTS: APPLICANT_INDEXES},
    )
    on = projection.handlers.on

    # The batch's event and the applicant's own events travel under different keys (partitions), so a
    # replay may apply them in either order: every handler upserts, and the fields it does not own are only
    # defaulted on insert. The applicant's own events keep their order (one key).
    status_defaults: dict[str, object] = {"status": "pending", "rejection_reason": "", "order_id": None}

    async def set_status(session: Session, applicant_id: str, **fields: object) -> None:
        defaults = {k: v for k, v in status_defaults.items() if k not in fields} | {"materials": {}}
        await projection.collection(session).update_one(
            {"_id": applicant_id}, {"$set": fields, "$setOnInsert": defaults}, upsert=True, session=session
        )

    def eligibility_of(record: dict[str, object], position: str) -> dict[str, object]:
        years = record.get("years_in_post")
        result = precheck(
            position=position,
            education=str(record.get("education") or ""),
            major=str(record.get("major") or ""),
            years_in_post=years if isinstance(years, int) else None,
        )
        return {
            "verdict": result.verdict,
            "reason": result.reason,
            "rule": result.rule,
            "major_class": result.major_class,
        }

    @on(ApplicantsImported)
    async def imported(received: ReceivedEvent, session: Session) -> None:
        """A chunk of up to 500 applicants: one read (which of them exist already: an applicant's own events,
        a correction above all, may have been replayed first) and one bulk write in which the new ones are
        plain inserts (half the cost of an upsert on the local MongoDB server, which every service shares)."""
        e = received.event
        assert isinstance(e, ApplicantsImported)
        table = projection.collection(session)
        ids = [a.applicant_id for a in e.applicants]
        existing = {
            doc["_id"]: doc
            async for doc in table.find(
                {"_id": {"$in": ids}},
                {"corrected_at": 1, "education": 1, "major": 1, "years_in_post": 1},
                session=session,
            )
        }
        writes: list[InsertOne[Document] | UpdateOne] = []
        for a in e.applicants:
            batch_fields: dict[str, object] = {
                "batch_id": e.batch_id,
                "enterprise_id": e.enterprise_id,
                "institution_id": e.institution_id,
                "position": e.position,
                "specialisation": e.specialisation,
                "training_mode": e.training_mode,
                "continuing_education": e.continuing_education,
                "imported_at": received.envelope.time,
            }
            known = existing.get(a.applicant_id)
            if known is not None and known.get("corrected_at"):
                # a correction replayed first wins; only now is the position known to judge it
                batch_fields["eligibility"] = eligibility_of(known, e.position)
            else:
                record = a.model_dump(mode="json", exclude={"applicant_id"})
                batch_fields.update(record, eligibility=eligibility_of(record, e.position))
            if known is None:
                writes.append(
                    InsertOne({"_id": a.applicant_id, **batch_fields, **status_defaults, "materials": {}})
                )
            else:
                writes.append(
                    UpdateOne(
                        {"_id": a.applicant_id},
                        {"$set": batch_fields, "$setOnInsert": {**status_defaults, "materials": {}}},
                        upsert=True,
                    )
                )
        if writes:
            await table.bulk_write(writes, ordered=False, session=session)

    @on(ApplicantCorrected)
    async def corrected(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ApplicantCorrected)
        table = projection.collection(session)
        doc = await table.find_one({"_id": e.applicant_id}, {"position": 1}, session=session)
        record = e.record.model_dump(mode="json", exclude={"applicant_id"})
        fields: dict[str, object] = {
            **record,
            "corrected_at": received.envelope.time,
            "status": "pending",
            "rejection_reason": "",
        }
        if doc and doc.get("position"):
            fields["eligibility"] = eligibility_of(record, str(doc["position"]))
        await table.update_one(
            {"_id": e.applicant_id},
            {"$set": fields, "$setOnInsert": {"order_id": None, "materials": {}}},
            upsert=True,
            session=session,
        )

    @on(MaterialsUploaded)
    async def materials(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, MaterialsUploaded)
        for item in e.applicants:
            fields: dict[str, object] = {}
            for d in item.documents:
                document = d.model_dump(mode="json", exclude={"document"})
                if d.document == MATERIALS_HEAD_PHOTO:
                    # the stored photo's own check (before the codes, a photo that failed was stored too)
                    document["photo_ok"] = item.photo_ok is not False
                fields[f"materials.{d.document}"] = document
            if item.photo_ok is not None:
                fields.update(
                    photo_ok=item.photo_ok,
                    photo_problems=[p.model_dump(mode="json") for p in item.photo_findings()],
                    photo_checked_at=received.envelope.time,
                )
            if any(d.document == MATERIALS_HEAD_PHOTO for d in item.documents):
                fields["head_photo_uploaded_at"] = received.envelope.time
            await projection.collection(session).update_one(
                {"_id": item.applicant_id},
                {"$set": fields, "$setOnInsert": status_defaults},
                upsert=True,
                session=session,
            )

    @on(ApplicantQualified)
    async def qualified(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, ApplicantQualified)
        # a later ApplicantQualified (after a refund) clears the order
        await set_status(
            session, received.event.applicant_id, status="qualified", rejection_reason="", order_id=None
        )

    @on(ApplicantRejected)
    async def rejected(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, ApplicantRejected)
        await set_status(
            session, received.event.applicant_id, status="rejected", rejection_reason=received.event.reason
        )

    @on(Enrolled)
    async def enrolled(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, Enrolled)
        await set_status(
            session, received.event.applicant_id, status="enrolled", order_id=received.event.order_id
        )

    @on(ExamApplied)
    async def exam_applied(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamApplied)
        await set_status(
            session,
            e.applicant_id,
            status="exam_applied",
            exam_applied_at=received.envelope.time,
            exam_retake=e.retake,
            exam_head_photo={"bucket": e.head_photo_bucket, "key": e.head_photo_key}
            if e.head_photo_key
            else None,
        )

    @on(ExamResultNoted)
    async def exam_result(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ExamResultNoted)
        await set_status(
            session,
            e.applicant_id,
            status="exam_passed" if e.passed else "exam_failed",
            exam_score=e.score,
            exam_pass_mark=e.pass_mark,
            exam_result_at=received.envelope.time,
        )

    @on(EnrollmentClosed)
    async def closed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnrollmentClosed)
        fields: dict[str, object] = {"closed_reason": e.reason, "closed_at": received.envelope.time}
        if e.reason != "rejected":  # a rejected applicant stays 未通过 (it may be corrected)
            fields["status"] = "closed"
        await set_status(session, e.applicant_id, **fields)

    @on(EnrollmentReopened)
    async def reopened(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, EnrollmentReopened)
        await set_status(session, received.event.applicant_id, closed_reason=None, closed_at=None)

    return projection


def certificate_holders(database: str) -> Projection:
    """Every certificate of a person and its state (from certification): continuing education is for the
    holders of a valid one; any certificate but a legacy one (which has no photo) locks the head photo.

    A certificate's own events share its key and keep their order; a renewal names the previous
    certificate, which becomes `superseded` whichever of the two arrives first (terminal states are never
    overwritten by an issue's defaults)."""
    projection = Projection(
        name="certificate-holders",
        collections=[HOLDERS],
        database=database,
        # continuing education's check (imports.py) and the head-photo lock (application/profile.py)
        indexes={
            HOLDERS: [IndexModel([("id_number", ASCENDING), ("position", ASCENDING), ("state", ASCENDING)])]
        },
    )
    on = projection.handlers.on

    async def holder(
        session: Session, certificate_id: str, fields: dict[str, object], *, legacy: bool = False
    ) -> None:
        # `legacy` is a fact of the import only: a renewal seen first must not pin it to False
        update: dict[str, dict[str, object]] = (
            {"$set": {**fields, "legacy": True}, "$setOnInsert": {"state": "valid"}}
            if legacy
            else {"$set": fields, "$setOnInsert": {"state": "valid", "legacy": False}}
        )
        await projection.collection(session).update_one(
            {"_id": certificate_id}, update, upsert=True, session=session
        )

    async def set_state(session: Session, certificate_id: str, id_number: str, state: str) -> None:
        await projection.collection(session).update_one(
            {"_id": certificate_id},
            {"$set": {"state": state, "id_number": id_number}, "$setOnInsert": {"legacy": False}},
            upsert=True,
            session=session,
        )

    @on(CertificateIssued)
    async def issued(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateIssued)
        fields = {
            "id_number": e.id_number,
            "position": e.position,
            "certificate_number": e.certificate_number,
        }
        await holder(session, e.certificate_id, fields)
        if e.renews:
            await set_state(session, e.renews, e.id_number, "superseded")

    @on(LegacyCertificateImported)
    async def legacy(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, LegacyCertificateImported)
        fields = {
            "id_number": e.id_number,
            "position": e.position,
            "certificate_number": e.certificate_number,
        }
        await holder(session, e.certificate_id, fields, legacy=True)

    @on(CertificateRenewed)
    async def renewed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateRenewed)
        await set_state(session, e.previous_certificate_id, e.id_number, "superseded")
        fields = {
            "id_number": e.id_number,
            "position": e.position,
            "certificate_number": e.certificate_number,
        }
        await holder(session, e.certificate_id, fields)

    @on(CertificateLapsed)
    async def lapsed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateLapsed)
        await set_state(session, e.certificate_id, e.id_number, "lapsed")

    @on(CertificateRevoked)
    async def revoked(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateRevoked)
        await set_state(session, e.certificate_id, e.id_number, "revoked")

    @on(CertificateReinstated)
    async def reinstated(received: ReceivedEvent, session: Session) -> None:
        """A lapsed certificate whose retraining was credited is valid again (not revoked or renewed ones)."""
        e = received.event
        assert isinstance(e, CertificateReinstated)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id, "state": "lapsed"}, {"$set": {"state": "valid"}}, session=session
        )

    return projection


def person_profiles(database: str) -> Projection:
    """One document per person (`_id` = ID number): `documents.<head_photo|id_card_front|id_card_back>` =
    {bucket, key, content_type, size, uploaded_at} and `head_photo_locked` (+ the locked photo)."""
    projection = Projection(name="person-profiles", collections=[PERSON_PROFILES], database=database)
    on = projection.handlers.on

    @on(PersonDocumentUploaded)
    async def uploaded(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, PersonDocumentUploaded)
        document = {
            "bucket": e.bucket,
            "key": e.key,
            "content_type": e.content_type,
            "size": e.size,
            "uploaded_at": received.envelope.time,
        }
        await projection.collection(session).update_one(
            {"_id": e.id_number},
            {"$set": {f"documents.{e.document}": document}, "$setOnInsert": {"head_photo_locked": False}},
            upsert=True,
            session=session,
        )

    @on(HeadPhotoLocked)
    async def locked(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, HeadPhotoLocked)
        await projection.collection(session).update_one(
            {"_id": e.id_number},
            {
                "$set": {
                    "head_photo_locked": True,
                    "locked_head_photo": {"bucket": e.bucket, "key": e.key},
                    "locked_at": received.envelope.time,
                    "locked_reason": e.reason,
                },
                "$setOnInsert": {"documents": {}},
            },
            upsert=True,
            session=session,
        )

    return projection
