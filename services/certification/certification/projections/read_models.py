"""Read models of the certification service.

- `certificates`: what holders (证书管理), institutions, enterprises and administrators list; one document per
  certificate with its state, its hours so far, and the links between a renewed certificate and its successor.
  `readers`: the institutions that may list it (the one that trained the holder, the one that imported an
  old-style certificate), one indexed field instead of an `$or`. Recording hours never adds a reader: reading
  a certificate (with the holder's full ID number) never follows from having written to it.
- `institutions`: institution id → name, from enrollment's OfferPublished (printed on certificates).
- `ce_enrollments`: applicant id → ID number and institution of a continuing-education enrollment
  (enrollment's ApplicantQualified with `continuing_education`, then Enrolled once paid): an institution that
  holds a paid continuing-education enrollment of a holder may record that holder's hours.
- `uncredited_trainings`: completed continuing-education trainings whose hours could not be credited (no
  valid or lapsed certificate for the position; internal TrainingNotCredited), for the administrator and the
  training institution.
- `issue_refusals`: passed exams that issued no certificate (a valid one for the position exists and
  CERTIFICATION_SECOND_CERTIFICATE=refuse; internal CertificateIssueRefused), for the administrator.
- `person_photos`: ID number → the head photo of the person's profile (enrollment's PersonDocumentUploaded),
  printed on a certificate issued by renewal.
"""

from __future__ import annotations

from events import (
    ApplicantQualified,
    CertificateIssued,
    CertificateLapsed,
    CertificateReinstated,
    CertificateRenewed,
    CertificateRevoked,
    ContinuingEducationRecorded,
    ContinuingEducationReminderDue,
    Enrolled,
    LegacyCertificateImported,
    OfferPublished,
    PersonDocumentUploaded,
)
from pymongo import ASCENDING, DESCENDING, IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from ..domain.events import CertificateIssueRefused, TrainingNotCredited

CERTIFICATES = "certificates"
INSTITUTIONS = "institutions"
PERSON_PHOTOS = "person_photos"
CE_ENROLLMENTS = "ce_enrollments"
UNCREDITED_TRAININGS = "uncredited_trainings"
ISSUE_REFUSALS = "issue_refusals"


def _readers(*institution_ids: str | None) -> dict[str, object]:
    """`$addToSet` of the institutions that may list a certificate (`readers`, see the module's docstring)."""
    return {"readers": {"$each": [i for i in institution_ids if i]}}


# Every list of `GET /api/certification/certificates` is sorted by issue date (newest first), then id.
_NEWEST = [("issued_on", DESCENDING), ("_id", ASCENDING)]


def certificates(database: str) -> Projection:
    projection = Projection(
        name="certificates",
        collections=[CERTIFICATES],
        database=database,
        indexes={
            CERTIFICATES: [
                # who sees what (api.routes.list_scope): institution, holder, enterprise; administrator: all
                IndexModel([("readers", ASCENDING), *_NEWEST], name="readers_newest"),
                IndexModel([("id_number", ASCENDING), *_NEWEST], name="id_number_newest"),
                IndexModel([("enterprise_id", ASCENDING), *_NEWEST], name="enterprise_newest"),
                IndexModel(_NEWEST, name="newest"),
                # the list's filters
                IndexModel([("certificate_number", ASCENDING)], name="certificate_number"),
                IndexModel([("applicant_id", ASCENDING)], name="applicant_id"),
            ]
        },
    )

    @projection.handlers.on(CertificateIssued)
    async def issued(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateIssued)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id},
            {
                "$set": {
                    **e.model_dump(mode="json", exclude={"certificate_id"}),
                    "legacy": False,
                },
                "$setOnInsert": {"state": "valid", "hours_total": 0.0, "ce_institution_ids": []},
                "$addToSet": _readers(e.institution_id),
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(LegacyCertificateImported)
    async def imported(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, LegacyCertificateImported)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id},
            {
                "$set": {
                    **e.model_dump(mode="json", exclude={"certificate_id"}),
                    "institution_id": None,
                    "legacy": True,
                },
                "$setOnInsert": {"state": "valid", "hours_total": 0.0, "ce_institution_ids": []},
                "$addToSet": _readers(e.imported_by),
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(ContinuingEducationRecorded)
    async def hours(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ContinuingEducationRecorded)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id},
            {
                "$inc": {"hours_total": e.hours},
                # who recorded hours is kept, but never becomes a reader (see the module's docstring)
                "$addToSet": {"ce_institution_ids": e.institution_id},
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(CertificateLapsed)
    async def lapsed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateLapsed)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id},
            {
                "$set": {
                    "state": "lapsed",
                    "lapsed_cycles": [e.cycles_from.isoformat(), e.cycles_to.isoformat()],
                }
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(CertificateReinstated)
    async def reinstated(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateReinstated)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id},
            {"$set": {"state": "valid", "reinstated_on": e.reinstated_on.isoformat()}},
            upsert=True,
            session=session,
        )

    @projection.handlers.on(ContinuingEducationReminderDue)
    async def reminded(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ContinuingEducationReminderDue)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id},
            {
                "$set": {
                    "last_reminder": {
                        "cycle": e.cycle,
                        "days_before": e.days_before,
                        "cycle_ends_on": e.cycle_ends_on.isoformat(),
                        "lapses_on": e.lapses_on.isoformat() if e.lapses_on else None,
                    }
                }
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(CertificateRenewed)
    async def renewed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateRenewed)
        collection = projection.collection(session)
        await collection.update_one(
            {"_id": e.previous_certificate_id},
            {
                "$set": {
                    "state": "superseded",
                    "renewed_by": e.certificate_id,
                    "renewed_by_number": e.certificate_number,
                    "renewed_on": e.renewed_on.isoformat(),
                }
            },
            upsert=True,
            session=session,
        )
        await collection.update_one(
            {"_id": e.certificate_id},
            {
                "$set": {"renews_number": e.previous_certificate_number},
                # the new certificate's own stream may be applied after this event (another partition)
                "$setOnInsert": {"state": "valid", "hours_total": 0.0, "ce_institution_ids": []},
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(CertificateRevoked)
    async def revoked(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateRevoked)
        await projection.collection(session).update_one(
            {"_id": e.certificate_id},
            {"$set": {"state": "revoked", "revoked_reason": e.reason, "revoked_source": e.source}},
            upsert=True,
            session=session,
        )

    return projection


def institutions(database: str) -> Projection:
    # read by `_id` only (the name printed on a certificate): no secondary index
    projection = Projection(
        name="institutions", collections=[INSTITUTIONS], database=database, indexes={INSTITUTIONS: []}
    )

    @projection.handlers.on(OfferPublished)
    async def published(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, OfferPublished)
        await projection.collection(session).replace_one(
            {"_id": e.institution_id},
            {"_id": e.institution_id, "name": e.name, "city": e.city},
            upsert=True,
            session=session,
        )

    return projection


def person_photos(database: str) -> Projection:
    # read by `_id` (the ID number) only: no secondary index
    projection = Projection(
        name="person-photos", collections=[PERSON_PHOTOS], database=database, indexes={PERSON_PHOTOS: []}
    )

    @projection.handlers.on(PersonDocumentUploaded)
    async def uploaded(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, PersonDocumentUploaded)
        if e.document != "head_photo":
            return
        await projection.collection(session).replace_one(
            {"_id": e.id_number},
            {"_id": e.id_number, "bucket": e.bucket, "key": e.key},
            upsert=True,
            session=session,
        )

    return projection


def ce_enrollments(database: str) -> Projection:
    """Continuing-education enrollments (see the module's docstring): `ce` once the applicant was qualified
    for a continuing-education batch, `enrolled` once their order was paid; the two events may arrive in
    either order, so each sets its own flag."""
    projection = Projection(
        name="ce-enrollments",
        collections=[CE_ENROLLMENTS],
        database=database,
        indexes={
            CE_ENROLLMENTS: [
                IndexModel(
                    [("id_number", ASCENDING), ("institution_id", ASCENDING)], name="holder_institution"
                ),
                IndexModel([("enterprise_id", ASCENDING)], name="enterprise"),
            ]
        },
    )

    @projection.handlers.on(ApplicantQualified)
    async def qualified(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ApplicantQualified)
        if not e.continuing_education:
            return
        await projection.collection(session).update_one(
            {"_id": e.applicant_id},
            {
                "$set": {
                    "id_number": e.id_number,
                    "institution_id": e.institution_id,
                    "enterprise_id": e.enterprise_id,
                    "ce": True,
                }
            },
            upsert=True,
            session=session,
        )

    @projection.handlers.on(Enrolled)
    async def enrolled(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, Enrolled)
        await projection.collection(session).update_one(
            {"_id": e.applicant_id},
            {
                "$set": {
                    "id_number": e.id_number,
                    "institution_id": e.institution_id,
                    "enterprise_id": e.enterprise_id,
                    "enrolled": True,
                }
            },
            upsert=True,
            session=session,
        )

    return projection


def uncredited_trainings(database: str) -> Projection:
    projection = Projection(
        name="uncredited-trainings",
        collections=[UNCREDITED_TRAININGS],
        database=database,
        indexes={
            UNCREDITED_TRAININGS: [
                IndexModel([("institution_id", ASCENDING), ("completed_on", DESCENDING)], name="institution"),
                IndexModel([("completed_on", DESCENDING), ("_id", ASCENDING)], name="newest"),
            ]
        },
    )

    @projection.handlers.on(TrainingNotCredited)
    async def not_credited(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, TrainingNotCredited)
        await projection.collection(session).replace_one(
            {"_id": e.source_ref},
            {"_id": e.source_ref, **e.model_dump(mode="json", exclude={"source_ref"})},
            upsert=True,
            session=session,
        )

    return projection


def issue_refusals(database: str) -> Projection:
    projection = Projection(
        name="issue-refusals",
        collections=[ISSUE_REFUSALS],
        database=database,
        indexes={
            ISSUE_REFUSALS: [IndexModel([("refused_on", DESCENDING), ("_id", ASCENDING)], name="newest")]
        },
    )

    @projection.handlers.on(CertificateIssueRefused)
    async def refused(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateIssueRefused)
        await projection.collection(session).replace_one(
            {"_id": e.attempt_id},
            {"_id": e.attempt_id, **e.model_dump(mode="json", exclude={"attempt_id"})},
            upsert=True,
            session=session,
        )

    return projection
