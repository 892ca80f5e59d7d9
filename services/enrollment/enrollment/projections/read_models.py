"""Read models of the enrollment context.

- `enterprise_status`: which enterprises their city has approved (only those may enroll);
- `applicants`: one document per applicant with its batch data and status, for enterprises and institutions.
"""

from __future__ import annotations

from events import (
    ApplicantQualified,
    ApplicantRejected,
    ApplicantsImported,
    Enrolled,
    EnterpriseApproved,
    EnterpriseRegistered,
    EnterpriseRejected,
    EnterpriseResubmitted,
    ExamApplied,
)
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

ENTERPRISES = "enterprise_status"
APPLICANTS = "applicants"


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


def applicants(database: str) -> Projection:
    projection = Projection(name="applicants", collections=[APPLICANTS], database=database)
    on = projection.handlers.on

    # The batch's event and the applicant's own events travel under different keys (partitions), so a
    # replay may apply them in either order: every handler upserts, and the fields it does not own are only
    # defaulted on insert. The applicant's own events keep their order (one key).
    status_defaults: dict[str, object] = {"status": "pending", "rejection_reason": "", "order_id": None}

    async def set_status(session: Session, applicant_id: str, **fields: object) -> None:
        defaults = {k: v for k, v in status_defaults.items() if k not in fields}
        await projection.collection(session).update_one(
            {"_id": applicant_id}, {"$set": fields, "$setOnInsert": defaults}, upsert=True, session=session
        )

    @on(ApplicantsImported)
    async def imported(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ApplicantsImported)
        for a in e.applicants:
            data = {
                **a.model_dump(mode="json", exclude={"applicant_id"}),
                "batch_id": e.batch_id,
                "enterprise_id": e.enterprise_id,
                "institution_id": e.institution_id,
                "position": e.position,
                "specialisation": e.specialisation,
                "training_mode": e.training_mode,
                "continuing_education": e.continuing_education,
                "imported_at": received.envelope.time,
            }
            await projection.collection(session).update_one(
                {"_id": a.applicant_id},
                {"$set": data, "$setOnInsert": status_defaults},
                upsert=True,
                session=session,
            )

    @on(ApplicantQualified)
    async def qualified(received: ReceivedEvent, session: Session) -> None:
        assert isinstance(received.event, ApplicantQualified)
        await set_status(session, received.event.applicant_id, status="qualified", rejection_reason="")

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
        assert isinstance(received.event, ExamApplied)
        await set_status(session, received.event.applicant_id, status="exam_applied")

    return projection
