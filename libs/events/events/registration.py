"""Registration context: enterprises sign up and are reviewed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from events.base import (
    TEXT_MAX_LENGTH,
    DocumentNumber,
    DomainEvent,
    Identifier,
    Mobile,
    OrgName,
    PersonName,
    Reason,
    ShortText,
)
from events.registry import event

CONTEXT = "registration"


class UploadedDocument(BaseModel):
    """A file in object storage (the event carries its key, never its bytes)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    kind: ShortText
    object_key: str
    content_type: ShortText
    size: int


class ReviewCheck(BaseModel):
    """One item of a reviewer's checklist."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_max_length=TEXT_MAX_LENGTH)

    check: ShortText
    passed: bool
    note: Reason = ""


@event(CONTEXT, "EnterpriseRegistered")
class EnterpriseRegistered(DomainEvent):
    """An enterprise (or branch) submitted its registration for review."""

    enterprise_id: Identifier
    credit_code: DocumentNumber
    name: OrgName
    is_branch: bool = False
    legal_representative: PersonName = ""
    contact_name: PersonName = ""
    contact_mobile: Mobile = ""
    address: ShortText = ""
    city: ShortText
    business_scope: str = ""
    documents: list[UploadedDocument] = Field(default_factory=list)
    preferred_institution_id: Identifier | None = None
    account_id: Identifier | None = None


@event(CONTEXT, "EnterpriseResubmitted")
class EnterpriseResubmitted(DomainEvent):
    """A rejected enterprise submitted corrected details (submission counts from 1)."""

    enterprise_id: Identifier
    submission: int
    name: OrgName
    city: ShortText
    documents: list[UploadedDocument] = Field(default_factory=list)
    changes: dict[str, str] = Field(default_factory=dict)
    # The whole corrected form (added in 0.2, optional for compatibility; producers always fill them).
    is_branch: bool = False
    legal_representative: PersonName = ""
    contact_name: PersonName = ""
    contact_mobile: Mobile = ""
    address: ShortText = ""
    business_scope: str = ""
    preferred_institution_id: Identifier | None = None


@event(CONTEXT, "EnterpriseApproved")
class EnterpriseApproved(DomainEvent):
    """A reviewer approved the enterprise's registration."""

    enterprise_id: Identifier
    credit_code: DocumentNumber
    name: OrgName
    city: ShortText
    reviewer_id: Identifier
    checks: list[ReviewCheck] = Field(default_factory=list)


@event(CONTEXT, "EnterpriseRejected")
class EnterpriseRejected(DomainEvent):
    """A reviewer rejected the enterprise's registration."""

    enterprise_id: Identifier
    reviewer_id: Identifier
    reason: Reason
    checks: list[ReviewCheck] = Field(default_factory=list)
