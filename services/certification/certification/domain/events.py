"""The certification context's internal events: stored in its own event store, never published to Kafka, not
part of the contract in `libs/events` (they may change freely; see `DomainEvent.public`)."""

from __future__ import annotations

from datetime import date

from events import DomainEvent, event
from events.base import DocumentNumber, Identifier, IdNumber, PersonName, Reason, ShortText

CONTEXT = "certification"


@event(CONTEXT, "TrainingNotCredited", public=False)
class TrainingNotCredited(DomainEvent):
    """A completed continuing-education training plan whose hours could not be credited: the holder has no
    valid or lapsed certificate for the position (stream `uncredited-<source_ref>`). The administrator and the
    institution see it in `GET /uncredited-trainings`; nothing is credited later by itself."""

    source_ref: Identifier  # "<plan_id>:<applicant_id>"
    applicant_id: Identifier
    enterprise_id: Identifier
    institution_id: Identifier
    plan_id: Identifier
    plan_name: ShortText
    id_number: IdNumber
    name: PersonName
    position: ShortText
    professional_hours: float
    general_hours: float
    completed_on: date
    reason: Reason


@event(CONTEXT, "CertificateIssueRefused", public=False)
class CertificateIssueRefused(DomainEvent):
    """A passed exam issued no certificate: the person already holds a valid certificate for the position and
    CERTIFICATION_SECOND_CERTIFICATE is `refuse` (stream `refused-<attempt_id>`)."""

    attempt_id: Identifier
    applicant_id: Identifier
    id_number: IdNumber
    name: PersonName
    position: ShortText
    institution_id: Identifier
    enterprise_id: Identifier | None = None
    existing_certificate_id: Identifier
    existing_certificate_number: DocumentNumber
    refused_on: date
    reason: Reason
