"""Read model `persons`: every person a public event names, one document per ID number.

    {_id: ID number, name, mobile, sources: [...], enterprise_ids: [...], institution_ids: [...],
     applicant_ids: [...], legacy_importers: [...], legacy_certificate_ids: [...], certificate_ids: [...],
     first_imported_at, last_imported_at, name_as_of, mobile_as_of}

A person becomes known from:

- enrollment's `ApplicantsImported` (`sources` ∋ `applicants`): the enterprises and institutions of every
  batch that named the person are the ones that may ask for their activation code; first/last import times;
- certification's `LegacyCertificateImported` (`legacy_certificate`): an old-style certificate recorded by an
  institution or an administrator; `legacy_importers` holds its `imported_by` (the institution id, or
  `admin:<account>`) — the importing institution may ask for the holder's activation code;
- certification's `CertificateIssued` and `CertificateRenewed` (`certificate`): a certificate of the platform
  (after an exam, or a renewal). They only make the person known and may give a name.

Events travel under different keys and topics (partitions), so a replay may apply them in another order than
the live consumer did; every merge is therefore idempotent and order-independent (`merge_person`):

- the id sets are sorted unions;
- first/last import times are the minimum / maximum;
- name and mobile are those of the latest event that carries one (envelope time, then event id, then row),
  whatever the order they are applied in: a value only lands over an older version (`*_as_of`); an empty name
  or mobile never replaces a known one (nor counts as a version).

An event's persons are merged in Python and written back in one bulk write, inside the consumer's transaction
(its snapshot read and write-conflict check make read-merge-write safe): ONE read of the event's persons by
`_id` (`$in`), then one plain replacement per person. An import of 5,000 rows is 10 reads and 5,000 point
writes. Two shapes are avoided because the local MongoDB server, a single process every service shares, pays
for them with everyone's latency: an `$or` filter (it scans the whole collection for every update: 690 ms
against 3 ms on 20,000 persons) and update pipelines (`$setUnion`, `$cond`: 4–6 times the cost of a plain
write, which held a 2,000-row import's persons back for over a minute in the full test suite). The model has
no write-side index: `_id` lookups only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from events import ApplicantsImported
from events.certification import CertificateIssued, CertificateRenewed, LegacyCertificateImported
from pymongo import ReplaceOne
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

from ..domain.persons import (
    SOURCE_APPLICANTS,
    SOURCE_CERTIFICATE,
    SOURCE_LEGACY_CERTIFICATE,
    normalize_id_number,
)

PERSONS = "persons"
NAME = "persons"


def version(received: ReceivedEvent, row: int) -> str:
    """A total order of named persons that does not depend on the order of delivery (fixed width)."""
    at = received.envelope.time.astimezone(UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S.%f}Z|{received.envelope.id}|{row:06d}"


@dataclass
class PersonChange:
    """What one event says of one person: ids to add to its sets, maybe a name and a mobile (with the version
    `as_of` they carry), maybe an import time."""

    id_number: str
    as_of: str
    name: str = ""
    mobile: str = ""
    sets: dict[str, str] = field(default_factory=dict)
    imported_at: datetime | None = None


def _as_of(value: object) -> str:
    return value if isinstance(value, str) else ""  # missing or None sorts before every version


def merge_person(document: Mapping[str, Any] | None, change: PersonChange) -> dict[str, Any]:
    """The person `document` (None: not known yet) after `change`; the same whatever order changes come in."""
    merged: dict[str, Any] = dict(document or {"_id": change.id_number})
    for key, value in change.sets.items():
        if value:
            merged[key] = sorted({*merged.get(key, []), value})
    if change.imported_at is not None:
        at = change.imported_at
        first, last = merged.get("first_imported_at"), merged.get("last_imported_at")
        merged["first_imported_at"] = at if first is None else min(_aware(first), at)
        merged["last_imported_at"] = at if last is None else max(_aware(last), at)
    for key, value in (("name", change.name), ("mobile", change.mobile)):
        if value and _as_of(merged.get(f"{key}_as_of")) < change.as_of:
            merged[key] = value
            merged[f"{key}_as_of"] = change.as_of
    return merged


def _aware(value: datetime) -> datetime:
    """MongoDB gives naive UTC datetimes back (no tz-aware codec): compare them as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def import_change(
    *,
    id_number: str,
    name: str,
    mobile: str,
    enterprise_id: str,
    institution_id: str,
    applicant_id: str,
    received: ReceivedEvent,
    row: int,
) -> PersonChange:
    """One row of an enrollment import."""
    return PersonChange(
        id_number=id_number,
        as_of=version(received, row),
        name=name,
        mobile=mobile,
        imported_at=received.envelope.time,
        sets={
            "sources": SOURCE_APPLICANTS,
            "enterprise_ids": enterprise_id,
            "institution_ids": institution_id,
            "applicant_ids": applicant_id,
        },
    )


def persons(database: str) -> Projection:
    # Only `_id` lookups (the activation code, the handlers' updates): no secondary index.
    projection = Projection(name=NAME, collections=[PERSONS], database=database, indexes={PERSONS: []})

    async def write(session: Session, changes: list[PersonChange]) -> None:
        """Merge `changes` (in order) into the stored persons and write the changed ones back."""
        if not changes:
            return
        table = projection.collection(session)
        ids = list(dict.fromkeys(c.id_number for c in changes))
        stored = {doc["_id"]: doc async for doc in table.find({"_id": {"$in": ids}}, session=session)}
        merged: dict[str, dict[str, Any]] = {}
        for change in changes:
            merged[change.id_number] = merge_person(
                merged.get(change.id_number) or stored.get(change.id_number), change
            )
        writes = [
            ReplaceOne({"_id": number}, document, upsert=True)
            for number, document in merged.items()
            if document != stored.get(number)
        ]
        if writes:
            await table.bulk_write(writes, ordered=False, session=session)

    @projection.handlers.on(ApplicantsImported)
    async def imported(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ApplicantsImported)
        changes: list[PersonChange] = []
        for row, applicant in enumerate(event.applicants):
            id_number = normalize_id_number(applicant.id_number)
            if not id_number:
                continue
            changes.append(
                import_change(
                    id_number=id_number,
                    name=applicant.name.strip(),
                    mobile=applicant.mobile.strip(),
                    enterprise_id=event.enterprise_id,
                    institution_id=event.institution_id,
                    applicant_id=applicant.applicant_id,
                    received=received,
                    row=row,
                )
            )
        await write(session, changes)

    @projection.handlers.on(LegacyCertificateImported)
    async def legacy_imported(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, LegacyCertificateImported)
        id_number = normalize_id_number(event.id_number)
        if not id_number:
            return
        change = PersonChange(
            id_number=id_number,
            as_of=version(received, 0),
            name=event.holder_name.strip(),
            sets={
                "sources": SOURCE_LEGACY_CERTIFICATE,
                "legacy_importers": event.imported_by.strip(),
                "legacy_certificate_ids": event.certificate_id,
            },
        )
        await write(session, [change])

    @projection.handlers.on(CertificateIssued, CertificateRenewed)
    async def certified(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CertificateIssued | CertificateRenewed)
        id_number = normalize_id_number(event.id_number)
        if not id_number:
            return
        change = PersonChange(
            id_number=id_number,
            as_of=version(received, 0),
            name=event.holder_name.strip(),
            sets={"sources": SOURCE_CERTIFICATE, "certificate_ids": event.certificate_id},
        )
        await write(session, [change])

    return projection
