"""Read model `enterprises`: one document per registration, for the reviewers' queues and lists."""

from __future__ import annotations

from events import EnterpriseApproved, EnterpriseRegistered, EnterpriseRejected, EnterpriseResubmitted
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

COLLECTION = "enterprises"


def build(database: str) -> Projection:
    projection = Projection(name="enterprises", collections=[COLLECTION], database=database)
    on = projection.handlers.on

    @on(EnterpriseRegistered)
    async def registered(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnterpriseRegistered)
        await projection.collection(session).replace_one(
            {"_id": e.enterprise_id},
            {
                "_id": e.enterprise_id,
                "credit_code": e.credit_code,
                "name": e.name,
                "city": e.city,
                "is_branch": e.is_branch,
                "contact_name": e.contact_name,
                "business_scope": e.business_scope,
                "status": "submitted",
                "submission": 1,
                "submitted_at": received.envelope.time,
                "reviewed_at": None,
                "rejection_reason": "",
            },
            upsert=True,
            session=session,
        )

    @on(EnterpriseResubmitted)
    async def resubmitted(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnterpriseResubmitted)
        await projection.collection(session).update_one(
            {"_id": e.enterprise_id},
            {
                "$set": {
                    "name": e.name,
                    "city": e.city,
                    "status": "submitted",
                    "submission": e.submission,
                    "submitted_at": received.envelope.time,
                    "rejection_reason": "",
                }
            },
            session=session,
        )

    @on(EnterpriseApproved)
    async def approved(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnterpriseApproved)
        await projection.collection(session).update_one(
            {"_id": e.enterprise_id},
            {
                "$set": {
                    "status": "approved",
                    "reviewed_at": received.envelope.time,
                    "reviewer_id": e.reviewer_id,
                }
            },
            session=session,
        )

    @on(EnterpriseRejected)
    async def rejected(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnterpriseRejected)
        await projection.collection(session).update_one(
            {"_id": e.enterprise_id},
            {
                "$set": {
                    "status": "rejected",
                    "reviewed_at": received.envelope.time,
                    "reviewer_id": e.reviewer_id,
                    "rejection_reason": e.reason,
                }
            },
            session=session,
        )

    return projection
