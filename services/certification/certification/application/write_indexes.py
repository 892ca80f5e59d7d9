"""The certification context's write-side collections as its events say they must be (`make rebuild-check`
builds them again and compares; see `servicekit.projections.check_write_index`)."""

from __future__ import annotations

from events import (
    CertificateIssued,
    CertificateLapsed,
    CertificateReinstated,
    CertificateRenewed,
    CertificateRevoked,
    ContinuingEducationRecorded,
    LegacyCertificateImported,
)
from pymongo import IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from .handlers import _STATE_AFTER, COUNTERS, INDEX, TRAINING_CREDITS, _index_doc, stream


def certificate_index(database: str) -> Projection:
    """Certificate id → number, holder's ID number, position, owners (issuing institution and enterprise, or
    the importer of an old-style certificate), state and the institutions that recorded hours.

    Opened by CertificateIssued / LegacyCertificateImported (`open_certificate`); changed by the events
    `change` appends, in the same transaction: CertificateLapsed, CertificateRevoked and CertificateRenewed
    (appended to the renewed, old certificate's stream) set the state of the certificate whose stream holds
    them, CertificateReinstated makes it valid again;
    ContinuingEducationRecorded adds its institution. `imported_by` is the importer's organisation,
    which both import routes pass as LegacyCertificateImported's `imported_by` too."""
    index = Projection(
        name="certificate-index",
        collections=[INDEX],
        database=database,
        indexes={
            INDEX: [IndexModel("number", unique=True), IndexModel("id_number"), IndexModel("state")],
        },
    )

    def certificate_of(received: ReceivedEvent) -> str:
        """The certificate whose stream holds the event (CertificateRenewed names the new one)."""
        return received.envelope.subject.removeprefix(stream(""))

    @index.handlers.on(CertificateIssued, LegacyCertificateImported)
    async def opened(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CertificateIssued | LegacyCertificateImported)
        imported_by = event.imported_by if isinstance(event, LegacyCertificateImported) else ""
        doc = _index_doc(event, imported_by)
        await index.collection(session).replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)

    @index.handlers.on(CertificateLapsed, CertificateRevoked, CertificateRenewed, CertificateReinstated)
    async def state_changed(received: ReceivedEvent, session: Session) -> None:
        state = _STATE_AFTER[type(received.event)]
        await index.collection(session).update_one(
            {"_id": certificate_of(received)}, {"$set": {"state": state}}, session=session
        )

    @index.handlers.on(ContinuingEducationRecorded)
    async def hours(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ContinuingEducationRecorded)
        await index.collection(session).update_one(
            {"_id": certificate_of(received)},
            {"$addToSet": {"ce_institution_ids": event.institution_id}},
            session=session,
        )

    return index


def certificate_counters(database: str) -> Projection:
    """The yearly certificate-number counters (`certificate-<year>`): exactly the highest sequence a
    CertificateIssued of that year holds. `next_number` is taken inside the issuing transaction (the policy
    on ExamPassed, a renewal), so a failed issue takes no number back: no gaps, never ahead. Old-style
    certificates keep their own numbers and take none."""
    index = Projection(name="certificate-counters", collections=[COUNTERS], database=database)

    @index.handlers.on(CertificateIssued)
    async def issued(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CertificateIssued)
        number = event.certificate_number  # 33 + year (4) + position code (2) + sequence (7) + check
        year, sequence = int(number[2:6]), int(number[8:15])
        await index.collection(session).update_one(
            {"_id": f"certificate-{year}"}, {"$max": {"seq": sequence}}, upsert=True, session=session
        )

    return index


def training_credits(database: str) -> Projection:
    """source_ref of a credited training plan ("<plan_id>:<applicant_id>") → the certificate it was credited
    to: a training is credited once, whatever certificate the holder holds by the time it is redelivered.
    Written by `handlers.change` in the transaction that appends the ContinuingEducationRecorded."""
    index = Projection(name="training-credits", collections=[TRAINING_CREDITS], database=database)

    @index.handlers.on(ContinuingEducationRecorded)
    async def credited(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ContinuingEducationRecorded)
        if not event.source_ref:
            return
        await index.collection(session).update_one(
            {"_id": event.source_ref},
            {"$set": {"certificate_id": event.certificate_id}},
            upsert=True,
            session=session,
        )

    return index
