"""Exam use cases."""

from __future__ import annotations

import uuid

from servicekit.commands import execute
from servicekit.errors import NotFound
from servicekit.eventstore import EventStore

from ..domain.attempt import Candidate, ScoringRules, record_result
from ..projections.read_models import CANDIDATES


async def load_candidate(store: EventStore, applicant_id: str, *, institution_id: str | None) -> Candidate:
    doc = await store.db[CANDIDATES].find_one({"_id": applicant_id})
    if (
        doc is None
        or "institution_id" not in doc
        or (institution_id is not None and doc["institution_id"] != institution_id)
    ):
        raise NotFound("未找到该考生（培训机构尚未为其申请考试）", code="candidate_not_found")
    return Candidate(
        applicant_id=applicant_id,
        enterprise_id=doc["enterprise_id"],
        institution_id=doc["institution_id"],
        id_number=doc["id_number"],
        name=doc["name"],
        gender=doc.get("gender", ""),
        position=doc["position"],
        specialisation=doc.get("specialisation"),
        head_photo_key=doc.get("head_photo_key"),
    )


async def record_score(
    store: EventStore, applicant_id: str, *, institution_id: str | None, score: int, rules: ScoringRules
) -> str:
    candidate = await load_candidate(store, applicant_id, institution_id=institution_id)
    attempt_id = uuid.uuid4().hex
    await execute(
        store,
        f"attempt-{attempt_id}",
        lambda h: record_result(h, attempt_id=attempt_id, candidate=candidate, score=score, rules=rules),
        stream_type="attempt",
    )
    return attempt_id
