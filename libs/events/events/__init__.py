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
from events.payment import (
    InvoiceDetails,
    InvoiceIssued,
    OnlinePaymentStarted,
    OrderCancelled,
    OrderCreated,
    OrderLine,
    OrderPaid,
    OrderRefunded,
    VoucherRejected,
    VoucherUploaded,
)
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
    "InvoiceDetails",
    "InvoiceIssued",
    "MalformedEnvelope",
    "MaterialsUploaded",
    "OfferPublished",
    "OnlinePaymentStarted",
    "OrderCancelled",
    "OrderCreated",
    "OrderLine",
    "OrderPaid",
    "OrderRefunded",
    "ReviewCheck",
    "TrainingCompleted",
    "TrainingPlanCreated",
    "TrainingPlanned",
    "UnknownEventType",
    "UploadedDocument",
    "VoucherRejected",
    "VoucherUploaded",
    "event",
    "registry",
]
