"""Registration context: enterprises sign up and are reviewed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from events.base import DomainEvent
from events.registry import event

CONTEXT = "registration"


class UploadedDocument(BaseModel):
    """A file in object storage (the event carries its key, never its bytes)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str
    object_key: str
    content_type: str
    size: int


class ReviewCheck(BaseModel):
    """One item of a reviewer's checklist."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    check: str
    passed: bool
    note: str = ""


@event(CONTEXT, "EnterpriseRegistered")
class EnterpriseRegistered(DomainEvent):
    """An enterprise (or branch) submitted its registration for review."""

    enterprise_id: str
    credit_code: str
    name: str
    is_branch: bool = False
    legal_representative: str = ""
    contact_name: str = ""
    contact_mobile: str = ""
    address: str = ""
    city: str
    business_scope: str = ""
    documents: list[UploadedDocument] = Field(default_factory=list)
    preferred_institution_id: str | None = None
    account_id: str | None = None


@event(CONTEXT, "EnterpriseResubmitted")
class EnterpriseResubmitted(DomainEvent):
    """A rejected enterprise submitted corrected details (submission counts from 1)."""

    enterprise_id: str
    submission: int
    name: str
    city: str
    documents: list[UploadedDocument] = Field(default_factory=list)
    changes: dict[str, str] = Field(default_factory=dict)
    # The whole corrected form (added in 0.2, optional for compatibility; producers always fill them).
    is_branch: bool = False
    legal_representative: str = ""
    contact_name: str = ""
    contact_mobile: str = ""
    address: str = ""
    business_scope: str = ""
    preferred_institution_id: str | None = None


@event(CONTEXT, "EnterpriseApproved")
class EnterpriseApproved(DomainEvent):
    """A reviewer approved the enterprise's registration."""

    enterprise_id: str
    credit_code: str
    name: str
    city: str
    reviewer_id: str
    checks: list[ReviewCheck] = Field(default_factory=list)


@event(CONTEXT, "EnterpriseRejected")
class EnterpriseRejected(DomainEvent):
    """A reviewer rejected the enterprise's registration."""

    enterprise_id: str
    reviewer_id: str
    reason: str
    checks: list[ReviewCheck] = Field(default_factory=list)
