"""Reading the `persons` read model (written only by the projection in `gateway.projections.persons`)."""

from __future__ import annotations

from servicekit.mongo import Database, Document

from ..domain.persons import Person
from ..projections.persons import PERSONS


def person_from_document(doc: Document) -> Person:
    return Person(
        id_number=str(doc["_id"]),
        name=doc.get("name") or "",
        mobile=doc.get("mobile") or "",
        enterprise_ids=frozenset(doc.get("enterprise_ids") or ()),
        institution_ids=frozenset(doc.get("institution_ids") or ()),
        legacy_importers=frozenset(doc.get("legacy_importers") or ()),
        sources=frozenset(doc.get("sources") or ()),
    )


class MongoPersonDirectory:
    def __init__(self, db: Database) -> None:
        self.collection = db[PERSONS]

    async def get(self, id_number: str) -> Person | None:
        doc = await self.collection.find_one({"_id": id_number})
        return person_from_document(doc) if doc else None
