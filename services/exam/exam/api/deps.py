"""Dependencies shared by the exam routers: the clock, the rules, the object store, and the ownership
check of a candidate (a person sees their own, an enterprise its staff, an institution its candidates)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role
from servicekit.errors import NotFound
from servicekit.mongo import Document
from servicekit.objectstore import ObjectStore

from ..application.context import ExamRules, candidate_doc
from ..domain.candidate import reasons_view
from ..settings import ExamSettings


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


def _rules(request: Request) -> ExamRules:
    rules: ExamRules = request.app.state.rules
    return rules


def _settings(rt: RuntimeDep) -> ExamSettings:
    assert isinstance(rt.settings, ExamSettings)
    return rt.settings


def _objects(rt: RuntimeDep) -> ObjectStore:
    assert rt.objects is not None
    return rt.objects


Now = Annotated[datetime, Depends(_now)]
Rules = Annotated[ExamRules, Depends(_rules)]
Settings = Annotated[ExamSettings, Depends(_settings)]
Objects = Annotated[ObjectStore, Depends(_objects)]

OWNER_FIELD = {
    Role.PERSON: "id_number",
    Role.ENTERPRISE: "enterprise_id",
    Role.INSTITUTION: "institution_id",
}


async def visible_candidate(rt: Any, candidate_id: str, identity: Identity) -> Document:
    """The candidate's read-model document if the caller may see it (404 otherwise, never 403: no probing)."""
    doc = await candidate_doc(rt.db, candidate_id)
    if identity.role is Role.ADMIN:
        return doc
    field = OWNER_FIELD.get(identity.role)
    if field is None or not identity.org_id or doc.get(field) != identity.org_id:
        raise NotFound("未找到该考生", code="candidate_not_found")
    return doc


def candidate_view(doc: Document) -> dict[str, Any]:
    hidden = {"_id", "schedules", "head_photo_bucket", "head_photo_key"}
    view = {"candidate_id": doc["_id"], **{k: v for k, v in doc.items() if k not in hidden}}
    view["has_head_photo"] = bool(doc.get("head_photo_key"))
    checkin = doc.get("checkin")
    if isinstance(checkin, dict) and checkin.get("last_reasons"):  # as the check-in status shows them
        view["checkin"] = {
            **checkin,
            "last_reasons": [text for _, text in reasons_view(checkin["last_reasons"])],
        }
    return view
