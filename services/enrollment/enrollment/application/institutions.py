"""Institution offers: publishing (stream `institution-<id>`), reading (the `institutions` read model) and the
checks other use cases make before importing a batch or pricing an order (`fee_for`, `ensure_offered`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from events import OfferPublished
from servicekit.commands import execute
from servicekit.errors import DomainError, NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Database, Document, Session

from ..domain import institution as domain
from ..domain.institution import InstitutionFilter, OfferForm
from ..projections.institutions import INSTITUTIONS, institution_document

STREAM_TYPE = "institution"

__all__ = [
    "INSTITUTIONS",
    "Published",
    "compare_institutions",
    "ensure_offered",
    "fee_for",
    "get_institution",
    "list_institutions",
    "load_offer",
    "offer_view",
    "publish_offer",
    "stream_id",
]


def stream_id(institution_id: str) -> str:
    return f"institution-{institution_id}"


def offer_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An institution document as the API answers it: `_id` → `institution_id`, no bookkeeping fields."""
    return {
        "institution_id": doc["_id"],
        **{k: v for k, v in doc.items() if k not in {"_id", "as_of"}},
    }


@dataclass(frozen=True)
class Published:
    changed: bool  # False: the offer equals the one in force, nothing was recorded
    offer: dict[str, Any]


async def publish_offer(
    store: EventStore, *, institution_id: str, form: OfferForm, demo: bool = False
) -> Published:
    """Publish an institution's whole offer (validated at once); the offer in force is returned."""
    stored = await execute(
        store,
        stream_id(institution_id),
        lambda history: domain.publish(history, institution_id=institution_id, form=form, demo=demo),
        stream_type=STREAM_TYPE,
    )
    offer = await load_offer(store, institution_id)
    assert offer is not None
    return Published(changed=bool(stored), offer=offer_view(offer))


async def load_offer(
    store: EventStore, institution_id: str, *, session: Session | None = None
) -> Document | None:
    """The offer in force, from the institution's stream (read-your-writes), shaped like the read model."""
    for item in reversed(await store.load(stream_id(institution_id), session=session)):
        event = item.decode()
        if isinstance(event, OfferPublished):
            return {"_id": institution_id, **institution_document(event, item.envelope.time)}
    return None


def fee_for(
    institution_doc: Mapping[str, Any], position: str, specialisation: str | None, mode: str
) -> int | None:
    """The fee in fen of that position (and specialisation) in that training mode; None: not offered."""
    return domain.fee_for(institution_doc, position, specialisation, mode)


async def ensure_offered(
    store_or_db: EventStore | Database,
    institution_id: str,
    position: str,
    specialisation: str | None,
    mode: str,
    *,
    session: Session | None = None,
) -> int:
    """The fee (fen) of the position in the mode at the institution, or a refusal naming what is missing.

    With the event store the institution's own stream is read (consistent with what it just published);
    with the service's database, the `institutions` read model.
    """
    doc: Mapping[str, Any] | None
    if isinstance(store_or_db, EventStore):
        doc = await load_offer(store_or_db, institution_id, session=session)
    else:
        doc = await store_or_db[INSTITUTIONS].find_one({"_id": institution_id}, session=session)
    if doc is None:
        raise NotFound(
            f"所选培训机构（编号 {institution_id}）尚未发布招生信息（开设岗位与收费），暂不能向其报名",
            code="institution_not_found",
        )
    reason = domain.not_offered_reason(doc, position, specialisation, mode)
    fee = domain.fee_for(doc, position, specialisation, mode)
    if reason is not None or fee is None:
        raise DomainError(
            reason or "该培训机构未开设所选岗位或培训方式",
            code="not_offered",
            details={
                "institution_id": institution_id,
                "position": position,
                "specialisation": domain.normalize_specialisation(specialisation),
                "training_mode": mode,
                "offered": [
                    {"label": line["label"], "modes": line["modes"]} for line in doc.get("offers", [])
                ],
            },
        )
    return fee


async def list_institutions(
    db: Database,
    query: InstitutionFilter,
    *,
    suspended: Mapping[str, Mapping[str, Any]] | None = None,
    include_suspended: bool = False,
) -> list[dict[str, Any]]:
    """The institutions offering the position (and mode), sorted by name (see `domain.listing`). Those in
    `suspended` (suspension of new enrollments in force) are left out, or with `include_suspended` kept
    with their `suspension`; every other item has `suspension` None."""
    suspended = suspended or {}
    docs = [doc async for doc in db[INSTITUTIONS].find({"city": query.city} if query.city else {})]
    items = domain.listing([d for d in docs if d.get("as_of")], query)
    return [
        {**item, "suspension": suspended.get(item["institution_id"])}
        for item in items
        if include_suspended or item["institution_id"] not in suspended
    ]


async def get_institution(db: Database, institution_id: str) -> dict[str, Any]:
    doc = await db[INSTITUTIONS].find_one({"_id": institution_id})
    if doc is None or not doc.get("as_of"):
        raise NotFound("未找到该培训机构的招生信息", code="institution_not_found")
    return offer_view(doc)


async def compare_institutions(
    db: Database, ids: Sequence[str], *, suspended: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """2 to 5 institutions side by side, in the order asked; 404 naming the ids that are unknown; 409
    `institution_suspended` naming those whose new enrollments are suspended today (they left the search)."""
    found = {
        doc["_id"]: doc
        async for doc in db[INSTITUTIONS].find({"_id": {"$in": list(ids)}})
        if doc.get("as_of")
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"未找到以下培训机构的招生信息：{'、'.join(missing)}",
            code="institution_not_found",
            details={"institution_ids": missing},
        )
    out = [i for i in ids if i in (suspended or {})]
    if out:
        assert suspended is not None
        names = "；".join(f"{found[i]['name']}：{suspended[i]['message']}" for i in out)
        raise DomainError(
            f"以下培训机构已暂停招生，不参与比较，请另选：{names}",
            code="institution_suspended",
            status=409,
            details={"institution_ids": out, "suspensions": [dict(suspended[i]) for i in out]},
        )
    return domain.compare_table([found[i] for i in ids])
