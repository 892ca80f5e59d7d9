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
the live consumer did; every update is therefore idempotent and order-independent:

- the id sets are sorted unions (`$setUnion`, `$sortArray`);
- first/last import times use `$min` / `$max`;
- name and mobile are those of the latest event that carries one (envelope time, then event id, then row),
  whatever the order they are applied in: a value only lands over an older version (`*_as_of`); an empty name
  or mobile never replaces a known one (nor counts as a version).

Each named person is ONE update (an update pipeline, upserting, found by `_id` alone): an import of 5,000 rows
is 5,000 point updates. The filter never has an `$or`, with which the local MongoDB server scans the whole
collection for every update (690 ms against 3 ms on 20,000 persons) and holds every other service up
meanwhile. Needs MongoDB ≥ 5.2 (`$sortArray`). The model has no write-side index: `_id` lookups only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from events import ApplicantsImported
from events.certification import CertificateIssued, CertificateRenewed, LegacyCertificateImported
from pymongo import UpdateOne
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


def _literal(value: object) -> dict[str, object]:
    """A value inside an update pipeline, never read as a field path or an operator (a name may start `$`)."""
    return {"$literal": value}


def _latest(field: str, value: str, version_field: str, as_of: str) -> dict[str, dict[str, Any]]:
    """`field` and `version_field` set to `value` and `as_of` if the stored version is missing, None or older
    (all of them sort before a string); otherwise kept."""
    newer = {"$lt": [f"${version_field}", _literal(as_of)]}
    return {
        field: {"$cond": [newer, _literal(value), f"${field}"]},
        version_field: {"$cond": [newer, _literal(as_of), f"${version_field}"]},
    }


def _union(field: str, values: list[str]) -> dict[str, Any]:
    """The sorted union of the stored set and `values`."""
    return {
        "$sortArray": {
            "input": {"$setUnion": [{"$ifNull": [f"${field}", []]}, [_literal(v) for v in values]]},
            "sortBy": 1,
        }
    }


def person_update(
    *,
    id_number: str,
    name: str,
    received: ReceivedEvent,
    row: int = 0,
    mobile: str = "",
    sets: Mapping[str, str | None] | None = None,
    imported: bool = False,
) -> UpdateOne:
    """The one update of a person an event names: `sets` adds a value (if any) to each id set; `imported`
    (an enrollment import) moves the first/last import times."""
    as_of = version(received, row)
    fields: dict[str, Any] = {
        field: _union(field, [value] if value else []) for field, value in (sets or {}).items()
    }
    if imported:
        at = received.envelope.time
        fields["first_imported_at"] = {"$min": ["$first_imported_at", _literal(at)]}  # a missing one: ignored
        fields["last_imported_at"] = {"$max": ["$last_imported_at", _literal(at)]}
    if name:
        fields |= _latest("name", name, "name_as_of", as_of)
    if mobile:
        fields |= _latest("mobile", mobile, "mobile_as_of", as_of)
    return UpdateOne({"_id": id_number}, [{"$set": fields}], upsert=True)


def person_updates(
    *,
    id_number: str,
    name: str,
    mobile: str,
    enterprise_id: str,
    institution_id: str,
    applicant_id: str,
    received: ReceivedEvent,
    row: int,
) -> list[UpdateOne]:
    """One row of an enrollment import."""
    return [
        person_update(
            id_number=id_number,
            name=name,
            mobile=mobile,
            received=received,
            row=row,
            imported=True,
            sets={
                "sources": SOURCE_APPLICANTS,
                "enterprise_ids": enterprise_id,
                "institution_ids": institution_id,
                "applicant_ids": applicant_id,
            },
        )
    ]


def persons(database: str) -> Projection:
    # Only `_id` lookups (the activation code, the handlers' updates): no secondary index.
    projection = Projection(name=NAME, collections=[PERSONS], database=database, indexes={PERSONS: []})

    async def write(session: Session, updates: list[UpdateOne]) -> None:
        if updates:
            await projection.collection(session).bulk_write(updates, ordered=True, session=session)

    @projection.handlers.on(ApplicantsImported)
    async def imported(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, ApplicantsImported)
        updates: list[UpdateOne] = []
        for row, applicant in enumerate(event.applicants):
            id_number = normalize_id_number(applicant.id_number)
            if not id_number:
                continue
            updates += person_updates(
                id_number=id_number,
                name=applicant.name.strip(),
                mobile=applicant.mobile.strip(),
                enterprise_id=event.enterprise_id,
                institution_id=event.institution_id,
                applicant_id=applicant.applicant_id,
                received=received,
                row=row,
            )
        await write(session, updates)

    @projection.handlers.on(LegacyCertificateImported)
    async def legacy_imported(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, LegacyCertificateImported)
        id_number = normalize_id_number(event.id_number)
        if not id_number:
            return
        sets = {
            "sources": SOURCE_LEGACY_CERTIFICATE,
            "legacy_importers": event.imported_by.strip(),
            "legacy_certificate_ids": event.certificate_id,
        }
        update = person_update(
            id_number=id_number, name=event.holder_name.strip(), received=received, sets=sets
        )
        await write(session, [update])

    @projection.handlers.on(CertificateIssued, CertificateRenewed)
    async def certified(received: ReceivedEvent, session: Session) -> None:
        event = received.event
        assert isinstance(event, CertificateIssued | CertificateRenewed)
        id_number = normalize_id_number(event.id_number)
        if not id_number:
            return
        sets = {"sources": SOURCE_CERTIFICATE, "certificate_ids": event.certificate_id}
        update = person_update(
            id_number=id_number, name=event.holder_name.strip(), received=received, sets=sets
        )
        await write(session, [update])

    return projection
