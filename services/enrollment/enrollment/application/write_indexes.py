"""The enrollment context's write-side collections as its events say they must be (`make rebuild-check` builds
them again and compares; see `servicekit.projections.check_write_index`)."""

from __future__ import annotations

from events import ApplicantsImported, TrainingPlanned
from pymongo import IndexModel, ReplaceOne
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Document, Session
from servicekit.projections import Projection, diff

from ..domain.events import ApplicantCorrected, EnrollmentClosed, EnrollmentReopened
from .handlers import APPLICANT_INDEX, index_updates
from .training import PLAN_TRAINEES


def applicant_index(database: str) -> Projection:
    """Applicant id → its batch, the batch's enterprise, institution, position and continuing education, and
    the applicant's ID number (the duplicate-enrollment check looks it up by ID number and position).

    The rows are written with the batch's ApplicantsImported chunks (one transaction), not with the
    applicants' own ApplicantRegistered events (appended before, in transactions of their own: an import that
    failed in between leaves registrations that no batch and no index row names). A correction of a rejected
    applicant (ApplicantCorrected, same transaction as the index's update) carries the new ID number.
    EnrollmentClosed marks the row `closed` (with `closed_reason`), EnrollmentReopened removes the mark: a row
    without it is an open enrollment (every row written before closing existed stays open)."""
    index = Projection(
        name="applicant-index",
        collections=[APPLICANT_INDEX],
        database=database,
        indexes={APPLICANT_INDEX: [IndexModel([("id_number", 1), ("position", 1)]), IndexModel("batch_id")]},
    )

    @index.handlers.on(ApplicantsImported)
    async def imported(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ApplicantsImported)
        rows = [
            {
                "_id": a.applicant_id,
                "batch_id": event.batch_id,
                "enterprise_id": event.enterprise_id,
                "institution_id": event.institution_id,
                "id_number": a.id_number,
                "position": event.position,
                "continuing_education": event.continuing_education,
            }
            for a in event.applicants
        ]
        if rows:
            await index.collection(session).bulk_write(
                [ReplaceOne({"_id": row["_id"]}, row, upsert=True) for row in rows], session=session
            )

    @index.handlers.on(ApplicantCorrected)
    async def corrected(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ApplicantCorrected)
        await index.collection(session).update_one(
            {"_id": event.applicant_id}, {"$set": {"id_number": event.record.id_number}}, session=session
        )

    @index.handlers.on(EnrollmentClosed, EnrollmentReopened)
    async def closed(received: ReceivedEvent, session: Session) -> None:
        if updates := index_updates([received.event]):
            await index.collection(session).bulk_write(updates, session=session)

    return index


def plan_trainees(database: str) -> Projection:
    """Applicant id → the training plan it was added to (an applicant is in at most one plan): one row per
    TrainingPlanned, written in the same transaction as it."""
    index = Projection(
        name="plan-trainees",
        collections=[PLAN_TRAINEES],
        database=database,
        indexes={PLAN_TRAINEES: [IndexModel("plan_id")]},
        compare=_without_added_at,
    )

    @index.handlers.on(TrainingPlanned)
    async def planned(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, TrainingPlanned)
        await index.collection(session).replace_one(
            {"_id": event.applicant_id},
            {
                "_id": event.applicant_id,
                "plan_id": event.plan_id,
                "institution_id": event.institution_id,
                "enterprise_id": event.enterprise_id,
                "added_at": received.envelope.time,  # the event's time (see `_without_added_at`)
            },
            upsert=True,
            session=session,
        )

    return index


def _without_added_at(live: dict[str, list[Document]], rebuilt: dict[str, list[Document]]) -> list[str]:
    """Exact, but for `added_at`: the command reads its clock before it decides, the store reads it again when
    it appends, and TrainingPlanned carries no time of its own; so the rebuilt row holds the event's time,
    a moment after the live one. Nothing reads `added_at` (the read models take the event's time)."""

    def strip(docs: dict[str, list[Document]]) -> dict[str, list[Document]]:
        return {
            name: [{k: v for k, v in d.items() if k != "added_at"} for d in rows]
            for name, rows in docs.items()
        }

    return diff(strip(live), strip(rebuilt))
