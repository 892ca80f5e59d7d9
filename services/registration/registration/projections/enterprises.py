"""Read model `enterprises`: one document per registration, for the reviewers' queues and lists."""

from __future__ import annotations

from events import EnterpriseApproved, EnterpriseRegistered, EnterpriseRejected, EnterpriseResubmitted
from pymongo import ASCENDING, IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from ..domain.documents import scope_hint

COLLECTION = "enterprises"


def build(database: str, scope_keywords: tuple[str, ...]) -> Projection:
    projection = Projection(
        name="enterprises",
        collections=[COLLECTION],
        database=database,
        indexes={
            # the review queue (api.routes.review_queue): a reviewer's city, or everything for an
            # administrator, by status and submission time, oldest first
            COLLECTION: [
                IndexModel(
                    [("city", ASCENDING), ("status", ASCENDING), ("submitted_at", ASCENDING)],
                    name="city_status_submitted",
                ),
                IndexModel([("status", ASCENDING), ("submitted_at", ASCENDING)], name="status_submitted"),
                IndexModel([("submitted_at", ASCENDING)], name="submitted"),
            ]
        },
    )
    on = projection.handlers.on

    @on(EnterpriseRegistered, EnterpriseResubmitted)
    async def submitted(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnterpriseRegistered | EnterpriseResubmitted)
        fields: dict[str, object] = {
            "name": e.name,
            "city": e.city,
            "is_branch": e.is_branch,
            "contact_name": e.contact_name,
            "business_scope": e.business_scope,
            "scope_hint": scope_hint(e.business_scope, scope_keywords),
            "documents": sorted(d.kind for d in e.documents),
            "status": "submitted",
            "submission": e.submission if isinstance(e, EnterpriseResubmitted) else 1,
            "submitted_at": received.envelope.time,
            "reviewed_at": None,
            "rejection_reason": "",
        }
        if isinstance(e, EnterpriseRegistered):
            fields["credit_code"] = e.credit_code
            fields["registered_at"] = received.envelope.time
        await projection.collection(session).update_one(
            {"_id": e.enterprise_id}, {"$set": fields}, upsert=True, session=session
        )

    @on(EnterpriseApproved, EnterpriseRejected)
    async def reviewed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, EnterpriseApproved | EnterpriseRejected)
        approved = isinstance(e, EnterpriseApproved)
        await projection.collection(session).update_one(
            {"_id": e.enterprise_id},
            {
                "$set": {
                    "status": "approved" if approved else "rejected",
                    "reviewed_at": received.envelope.time,
                    "reviewer_id": e.reviewer_id,
                    "rejection_reason": "" if approved else e.reason,
                }
            },
            session=session,
        )

    return projection
