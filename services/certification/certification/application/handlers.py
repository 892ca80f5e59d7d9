"""Certification use cases: every command appends to the certificate's stream and updates the write-side
index `certificate_index` in the same transaction, so that the command side (and the public verification,
which folds the stream) is consistent at once, before any read model has caught up."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Literal

from events import (
    CertificateIssued,
    CertificateLapsed,
    CertificateRenewed,
    CertificateRevoked,
    ContinuingEducationRecorded,
    DomainEvent,
    LegacyCertificateImported,
)
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from servicekit import clock
from servicekit.commands import execute
from servicekit.errors import ConcurrencyConflict, Conflict, DomainError, NotFound
from servicekit.eventstore import EventStore
from servicekit.logging import get_logger
from servicekit.mongo import Document, Session, in_transaction

from ..domain import certificate as domain
from ..domain.certificate import Certificate
from ..domain.hours import HoursRules
from ..domain.numbers import certificate_number
from ..domain.sheets import HoursRow, LegacyRow

log = get_logger(__name__)

INDEX = "certificate_index"  # write side: certificate id → number, holder, owners, current state
COUNTERS = "counters"
INSTITUTIONS = "institutions"  # read model (OfferPublished): institution id → name
PERSON_PHOTOS = "person_photos"  # read model (PersonDocumentUploaded): ID number → head photo object
CE_ENROLLMENTS = (
    "ce_enrollments"  # read model (ApplicantQualified/Enrolled): continuing-education enrollments
)
# Derives the id of the certificate of a passed attempt (attempt ids are random and never public). Old-style
# certificates used to derive theirs from the public certificate number with it; they now get random ids.
CERTIFICATE_NAMESPACE = uuid.UUID("6f1b2d4e-3c5a-4e7b-9a1d-2b3c4d5e6f70")

_STATE_AFTER: dict[type[DomainEvent], str] = {
    CertificateLapsed: "lapsed",
    CertificateRevoked: "revoked",
    CertificateRenewed: "superseded",
}


def today_in_china() -> date:
    """Today in business time (`BUSINESS_TIMEZONE`, China time by default)."""
    return clock.today()


def date_in_china(moment: datetime | None) -> date:
    return clock.business_date(moment or clock.now())


def stream(certificate_id: str) -> str:
    return f"certificate-{certificate_id}"


def certificate_id_for(attempt_id: str) -> str:
    """Deterministic: one certificate per passed attempt, whatever happens to the event."""
    return uuid.uuid5(CERTIFICATE_NAMESPACE, attempt_id).hex


async def ensure_indexes(store: EventStore) -> None:
    await store.db[INDEX].create_index("number", unique=True)
    await store.db[INDEX].create_index("id_number")
    await store.db[INDEX].create_index("state")


async def institution_name(store: EventStore, institution_id: str, session: Session | None = None) -> str:
    doc = await store.db[INSTITUTIONS].find_one({"_id": institution_id}, session=session)
    return str(doc["name"]) if doc and doc.get("name") else institution_id


async def next_number(store: EventStore, year: int, position: str, session: Session | None) -> str:
    counter = await store.db[COUNTERS].find_one_and_update(
        {"_id": f"certificate-{year}"},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    assert counter is not None
    return certificate_number(year, position, int(counter["seq"]))


def _index_doc(event: CertificateIssued | LegacyCertificateImported, imported_by: str = "") -> Document:
    legacy = isinstance(event, LegacyCertificateImported)
    return {
        "_id": event.certificate_id,
        "number": event.certificate_number,
        "id_number": event.id_number,
        "position": event.position,
        "institution_id": None if legacy else getattr(event, "institution_id", None),
        "enterprise_id": None if legacy else getattr(event, "enterprise_id", None),
        "imported_by": imported_by or None,
        "legacy": legacy,
        "state": "valid",
        "ce_institution_ids": [],
    }


async def open_certificate(
    store: EventStore,
    event: CertificateIssued | LegacyCertificateImported,
    session: Session,
    *,
    imported_by: str = "",
) -> bool:
    """Append the first event of a certificate's stream and index it (same transaction). False when the
    certificate exists already (a redelivered event)."""
    appended = await execute(
        store,
        stream(event.certificate_id),
        lambda h: [] if h else [event],
        stream_type="certificate",
        session=session,
    )
    if not appended:
        return False
    try:
        await store.db[INDEX].insert_one(_index_doc(event, imported_by), session=session)
    except DuplicateKeyError as exc:
        raise Conflict(f"证书编号 {event.certificate_number} 已存在", code="certificate_exists") from exc
    return True


async def load(
    store: EventStore, certificate_id: str, *, session: Session | None = None
) -> tuple[Certificate, Document]:
    """The certificate folded from its stream, and its index entry (404 when unknown)."""
    index = await store.db[INDEX].find_one({"_id": certificate_id}, session=session)
    if index is None:
        raise NotFound("未找到该证书", code="certificate_not_found")
    history, _ = await store.load_events(stream(certificate_id), session=session)
    return Certificate.from_history(history), index


async def find_by_number(store: EventStore, number: str) -> tuple[Certificate, Document] | None:
    index = await store.db[INDEX].find_one({"number": number.strip().upper()})
    if index is None:
        return None
    return await load(store, index["_id"])


async def change(
    store: EventStore,
    certificate_id: str,
    decide: Callable[[list[DomainEvent]], Sequence[DomainEvent]],
    *,
    session: Session | None = None,
) -> list[DomainEvent]:
    """Decide on the stream and append, updating the index's state in the same transaction."""

    async def work(tx: Session) -> list[DomainEvent]:
        stored = await execute(store, stream(certificate_id), decide, stream_type="certificate", session=tx)
        events = [s.decode() for s in stored]
        update: dict[str, Any] = {}
        for event in events:
            state = _STATE_AFTER.get(type(event))
            if state is not None:
                update["$set"] = {"state": state}
            if isinstance(event, ContinuingEducationRecorded):
                update.setdefault("$addToSet", {})["ce_institution_ids"] = event.institution_id
        if update:
            await store.db[INDEX].update_one({"_id": certificate_id}, update, session=tx)
        return events

    if session is not None:
        return await work(session)
    for attempt in range(1, 4):
        try:
            events = await in_transaction(store.client, work)
        except ConcurrencyConflict:
            if attempt == 3:
                raise
            continue
        store.notify()
        return events
    raise AssertionError("unreachable")


# -- continuing education ---------------------------------------------------------------------------------


async def trains_holder(store: EventStore, institution_id: str | None, id_number: str) -> bool:
    """Whether the institution holds a paid continuing-education enrollment of the holder."""
    if not institution_id:
        return False
    found = await store.db[CE_ENROLLMENTS].find_one(
        {"id_number": id_number, "institution_id": institution_id, "ce": True, "enrolled": True}, {"_id": 1}
    )
    return found is not None


async def require_hours_recorder(store: EventStore, cert: Certificate, institution_id: str | None) -> None:
    """403 `not_training_institution` unless the institution (None: the administrator) may record hours."""
    trains = await trains_holder(store, institution_id, cert.id_number)
    domain.require_hours_recorder(cert, institution_id=institution_id, trains_holder=trains)


async def record_hours(
    store: EventStore,
    certificate_id: str,
    *,
    institution_id: str | None,
    studied_on: date,
    hours: float,
    kind: str,
    course: str,
    recorded_by: str,
    today: date,
    rules: HoursRules,
    record_id: str | None = None,
) -> str:
    """`institution_id` None: the administrator records."""
    record_id = record_id or uuid.uuid4().hex
    cert, _ = await load(store, certificate_id)  # 404 first
    trains = await trains_holder(store, institution_id, cert.id_number)
    await change(
        store,
        certificate_id,
        lambda h: domain.record_hours(
            h,
            record_id=record_id,
            institution_id=institution_id,
            trains_holder=trains,
            studied_on=studied_on,
            hours=hours,
            kind=kind,
            course=course,
            recorded_by=recorded_by,
            today=today,
            rules=rules,
        ),
    )
    return record_id


async def record_hours_rows(
    store: EventStore,
    rows: Sequence[HoursRow],
    *,
    institution_id: str,
    recorded_by: str,
    today: date,
    rules: HoursRules,
) -> list[str]:
    """All the rows of a validated sheet in one transaction (a rule refusing one row refuses them all)."""
    by_certificate: dict[str, list[tuple[str, HoursRow]]] = {}
    for row in rows:
        by_certificate.setdefault(row.certificate_id, []).append((uuid.uuid4().hex, row))
    trains: dict[str, bool] = {}
    for certificate_id in by_certificate:
        cert, _ = await load(store, certificate_id)
        trains[certificate_id] = await trains_holder(store, institution_id, cert.id_number)

    def decide_all(
        items: list[tuple[str, HoursRow]], trains_holder: bool
    ) -> Callable[[list[DomainEvent]], list[DomainEvent]]:
        def decide(history: list[DomainEvent]) -> list[DomainEvent]:
            out: list[DomainEvent] = []
            for record_id, row in items:
                out += domain.record_hours(
                    [*history, *out],
                    record_id=record_id,
                    institution_id=institution_id,
                    trains_holder=trains_holder,
                    studied_on=row.studied_on,
                    hours=row.hours,
                    kind=row.kind,
                    course=row.course,
                    recorded_by=recorded_by,
                    today=today,
                    rules=rules,
                )
            return out

        return decide

    async def work(tx: Session) -> None:
        for certificate_id, items in by_certificate.items():
            await change(store, certificate_id, decide_all(items, trains[certificate_id]), session=tx)

    await in_transaction(store.client, work)
    store.notify()
    return [record_id for items in by_certificate.values() for record_id, _ in items]


# -- old-style certificates -------------------------------------------------------------------------------


def legacy_certificate_id() -> str:
    """Random: a certificate's id opens its private views, so it is never derived from its (public) number.
    Certificates imported before keep the ids they have; the importer finds them by number
    (`GET /api/certification/certificates?number=`)."""
    return uuid.uuid4().hex


async def import_legacy(
    store: EventStore, rows: Sequence[LegacyRow], *, imported_by: str, importer_org: str, today: date
) -> list[dict[str, str]]:
    """Import validated old-style certificates, all in one transaction."""
    events = [
        LegacyCertificateImported(
            certificate_id=legacy_certificate_id(),
            certificate_number=row.certificate_number,
            id_number=row.id_number,
            holder_name=row.holder_name,
            gender=row.gender,
            position=row.position,
            specialisation=row.specialisation,
            issued_on=row.issued_on,
            issuer=row.issuer,
            imported_by=imported_by,
            imported_on=today,
        )
        for row in rows
    ]

    async def work(tx: Session) -> None:
        for event in events:
            if not await open_certificate(store, event, tx, imported_by=importer_org):
                raise Conflict(
                    f"证书编号 {event.certificate_number} 已导入，不能重复导入", code="certificate_exists"
                )

    await in_transaction(store.client, work)
    store.notify()
    return [{"certificate_id": e.certificate_id, "certificate_number": e.certificate_number} for e in events]


async def existing_numbers(store: EventStore, numbers: Sequence[str]) -> set[str]:
    return {
        d["number"] async for d in store.db[INDEX].find({"number": {"$in": list(numbers)}}, {"number": 1})
    }


# -- renewal, revocation, lapse ---------------------------------------------------------------------------


async def renew(
    store: EventStore,
    certificate_id: str,
    *,
    holder_id_number: str,
    today: date,
    rules: HoursRules,
) -> dict[str, str]:
    """The holder updates an old-style certificate: the new certificate and the old one's end, atomically."""
    cert, _ = await load(store, certificate_id)
    if cert.id_number != holder_id_number:
        raise NotFound("未找到该证书", code="certificate_not_found")
    # The institution printed on the new certificate: the one that recorded the latest hours (the
    # administrator's records name the certificate's own institution, or none).
    recorded = [i for i in cert.record_institutions if i]
    institution_id = recorded[-1] if recorded else ""
    name = await institution_name(store, institution_id) if institution_id else cert.issuer
    photo = await store.db[PERSON_PHOTOS].find_one({"_id": cert.id_number})
    new_id = uuid.uuid4().hex
    result: dict[str, str] = {}

    async def work(tx: Session) -> None:
        number = await next_number(store, today.year, cert.position, tx)
        holder: dict[str, domain.Renewal] = {}

        def decide(history: list[DomainEvent]) -> list[DomainEvent]:
            renewal = domain.renew(
                history,
                holder_id_number=holder_id_number,
                new_certificate_id=new_id,
                new_number=number,
                today=today,
                rules=rules,
                institution_id=institution_id or "legacy",
                institution_name=name,
                head_photo_bucket=photo.get("bucket") if photo else None,
                head_photo_key=photo.get("key") if photo else None,
            )
            holder["renewal"] = renewal
            return [renewal.renewed]

        await change(store, certificate_id, decide, session=tx)
        await open_certificate(store, holder["renewal"].issued, tx)
        result.update(certificate_id=new_id, certificate_number=number)

    await in_transaction(store.client, work)
    store.notify()
    return {**result, "previous_certificate_id": certificate_id, "previous_certificate_number": cert.number}


async def revoke(
    store: EventStore,
    certificate_id: str,
    *,
    reason: str,
    source: Literal["blacklist", "admin"],
    revoked_by: str,
    blacklist_id: str | None = None,
    session: Session | None = None,
) -> bool:
    await load(store, certificate_id, session=session)
    events = await change(
        store,
        certificate_id,
        lambda h: domain.revoke(
            h, reason=reason, source=source, revoked_by=revoked_by, blacklist_id=blacklist_id
        ),
        session=session,
    )
    return bool(events)


async def revoke_person(
    store: EventStore, id_number: str, *, reason: str, blacklist_id: str, revoked_by: str, session: Session
) -> int:
    """On a blacklisting: revoke every certificate of the person that is still valid or lapsed."""
    count = 0
    cursor = store.db[INDEX].find(
        {"id_number": id_number, "state": {"$in": ["valid", "lapsed"]}}, {"_id": 1}, session=session
    )
    for doc in [d async for d in cursor]:
        if await revoke(
            store,
            doc["_id"],
            reason=reason,
            source="blacklist",
            revoked_by=revoked_by,
            blacklist_id=blacklist_id,
            session=session,
        ):
            count += 1
    return count


async def lapse_check(
    store: EventStore,
    *,
    today: date,
    rules: HoursRules,
    dry_run: bool = False,
    certificate_id: str | None = None,
) -> dict[str, Any]:
    """Judge every valid certificate's two most recent complete cycles as of `today`.

    Idempotent (a lapsed certificate is not judged again) and safe with several replicas: each append is at
    the expected version, so two processes judging the same certificate append once (the other one's
    conflict is retried on fresh state, which then decides nothing)."""
    checked = 0
    lapsed: list[dict[str, Any]] = []
    query: dict[str, Any] = {"state": "valid"}
    if certificate_id is not None:
        query["_id"] = certificate_id
    cursor = store.db[INDEX].find(query, {"_id": 1})
    async for doc in cursor:
        checked += 1
        current = str(doc["_id"])
        if dry_run:
            history, _ = await store.load_events(stream(current))
            decided = domain.lapse(history, today=today, rules=rules)
        else:
            try:
                decided = await change(store, current, lambda h: domain.lapse(h, today=today, rules=rules))
            except DomainError as exc:  # a conflict that survived the retries: next run
                log.warning("lapse.check_failed", certificate_id=current, error=exc.code)
                continue
        for event in decided:
            if isinstance(event, CertificateLapsed):
                lapsed.append(
                    {
                        "certificate_id": event.certificate_id,
                        "certificate_number": event.certificate_number,
                        "cycles_from": event.cycles_from.isoformat(),
                        "cycles_to": event.cycles_to.isoformat(),
                        "hours": event.hours,
                        "required_hours": event.required_hours,
                    }
                )
    if lapsed and not dry_run:
        log.info("lapse.checked", checked=checked, lapsed=len(lapsed), today=today.isoformat())
    return {"today": today.isoformat(), "dry_run": dry_run, "checked": checked, "lapsed": lapsed}
