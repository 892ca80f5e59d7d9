"""The shared contract: domain events, their envelope, and the registry that knows them all.

Importing this package registers every event model in `registry`.
"""

from events.base import DomainEvent
from events.certification import CertificateIssued, CertificateRenewed
from events.enrollment import (
    ApplicantCorrected,
    ApplicantQualified,
    ApplicantRejected,
    ApplicantsImported,
    Enrolled,
    ExamApplied,
    MaterialsUploaded,
    OfferPublished,
    TrainingCompleted,
    TrainingPlanCreated,
    TrainingPlanned,
)
from events.envelope import Envelope, MalformedEnvelope
from events.exam import ExamFailed, ExamPassed
from events.payment import OrderCancelled, OrderCreated, OrderLine, OrderPaid
from events.registration import (
    EnterpriseApproved,
    EnterpriseRegistered,
    EnterpriseRejected,
    EnterpriseResubmitted,
    ReviewCheck,
    UploadedDocument,
)
from events.registry import DuplicateEventType, EventRegistry, UnknownEventType, event, registry

__all__ = [
    "ApplicantCorrected",
    "ApplicantQualified",
    "ApplicantRejected",
    "ApplicantsImported",
    "CertificateIssued",
    "CertificateRenewed",
    "DomainEvent",
    "DuplicateEventType",
    "Enrolled",
    "EnterpriseApproved",
    "EnterpriseRegistered",
    "EnterpriseRejected",
    "EnterpriseResubmitted",
    "Envelope",
    "EventRegistry",
    "ExamApplied",
    "ExamFailed",
    "ExamPassed",
    "MalformedEnvelope",
    "MaterialsUploaded",
    "OfferPublished",
    "OrderCancelled",
    "OrderCreated",
    "OrderLine",
    "OrderPaid",
    "ReviewCheck",
    "TrainingCompleted",
    "TrainingPlanCreated",
    "TrainingPlanned",
    "UnknownEventType",
    "UploadedDocument",
    "event",
    "registry",
]
