"""Certification use cases: every command appends to the certificate's stream and updates the write-side
index `certificate_index` in the same transaction, so that the command side (and the public verification,
which folds the stream) is consistent at once, before any read model has caught up."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from events import (
    CertificateIssued,
    CertificateLapsed,
    CertificateReinstated,
    CertificateRenewed,
    CertificateRevoked,
    ContinuingEducationCompleted,
    ContinuingEducationRecorded,
    ContinuingEducationReminderDue,
    DomainEvent,
    ExamPassed,
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
from ..domain.certificate import Certificate, SecondCertificateRule
from ..domain.events import CertificateIssueRefused, TrainingNotCredited
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
    CertificateReinstated: "valid",
}
# write side: source_ref of a credited training plan → the certificate it was credited to (once per ref)
TRAINING_CREDITS = "training_credits"
# the namespace of the record ids of a credited training plan (uuid5 of "<source_ref>:<kind>")
TRAINING_NAMESPACE = uuid.UUID("0c7e8f4a-61d2-4b8e-9f3a-5d2e7c1b9a40")

_test_clock_offset_file: str | None = None


def use_test_clock(path: str | None) -> None:
    """Tests only (CERTIFICATION_TEST_CLOCK_OFFSET_FILE, refused in production by the settings): the seconds
    written in `path` are added to certification's clock (missing or empty file: none)."""
    global _test_clock_offset_file
    _test_clock_offset_file = path


def now() -> datetime:
    moment = clock.now()
    if _test_clock_offset_file:
        try:
            text = Path(_test_clock_offset_file).read_text().strip()
        except FileNotFoundError:
            text = ""
        moment += timedelta(seconds=float(text or 0))
    return moment


def today_in_china() -> date:
    """Today in business time (`BUSINESS_TIMEZONE`, China time by default), on certification's clock."""
    return clock.today(now())


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
                if event.source_ref:
                    await store.db[TRAINING_CREDITS].update_one(
                        {"_id": event.source_ref},
                        {"$set": {"certificate_id": certificate_id}},
                        upsert=True,
                        session=tx,
                    )
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
) -> tuple[str, bool]:
    """`institution_id` None: the administrator records. Answers the record id and whether it was recorded
    now (False: the same natural key with the same hours was recorded before; its id is answered)."""
    record_id = record_id or uuid.uuid4().hex
    cert, _ = await load(store, certificate_id)  # 404 first
    trains = await trains_holder(store, institution_id, cert.id_number)
    appended = await change(
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
    if appended:
        return record_id, True
    # the same natural key with the same hours: the record that exists (decided on the stream just read)
    cert, _ = await load(store, certificate_id)
    existing = domain.duplicate_of(cert, studied_on=studied_on, kind=kind, course=course)
    return (existing.record_id if existing is not None else record_id), False


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
                    source="import",
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
    reminded: list[dict[str, Any]] = []

    def decide(history: list[DomainEvent]) -> list[DomainEvent]:
        return domain.lapse(history, today=today, rules=rules) or domain.remind(
            history, today=today, rules=rules
        )

    query: dict[str, Any] = {"state": "valid"}
    if certificate_id is not None:
        query["_id"] = certificate_id
    cursor = store.db[INDEX].find(query, {"_id": 1})
    async for doc in cursor:
        checked += 1
        current = str(doc["_id"])
        if dry_run:
            history, _ = await store.load_events(stream(current))
            decided = decide(history)
        else:
            try:
                decided = await change(store, current, decide)
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
            elif isinstance(event, ContinuingEducationReminderDue):
                reminded.append(
                    {
                        "certificate_id": event.certificate_id,
                        "certificate_number": event.certificate_number,
                        "cycle": event.cycle,
                        "cycle_ends_on": event.cycle_ends_on.isoformat(),
                        "days_before": event.days_before,
                        "hours": event.hours,
                        "professional_hours": event.professional_hours,
                        "lapses_on": event.lapses_on.isoformat() if event.lapses_on else None,
                    }
                )
    if (lapsed or reminded) and not dry_run:
        log.info(
            "lapse.checked",
            checked=checked,
            lapsed=len(lapsed),
            reminded=len(reminded),
            today=today.isoformat(),
        )
    return {
        "today": today.isoformat(),
        "dry_run": dry_run,
        "checked": checked,
        "lapsed": lapsed,
        "reminded": reminded,
    }


# -- issuing on a passed exam (at most one valid certificate per person and position) ----------------------


async def valid_certificates(
    store: EventStore, id_number: str, position: str, session: Session | None = None
) -> list[Certificate]:
    cursor = store.db[INDEX].find(
        {"id_number": id_number, "position": position, "state": "valid"}, {"_id": 1}, session=session
    )
    found = []
    for doc in [d async for d in cursor]:
        cert, _ = await load(store, str(doc["_id"]), session=session)
        found.append(cert)
    return found


async def issue_on_exam(
    store: EventStore,
    passed: ExamPassed,
    *,
    issued_on: date,
    rule: SecondCertificateRule,
    session: Session,
) -> str:
    """Issue the certificate of a passed attempt once ("issued", "exists"); when the person already holds a
    valid certificate for the position, `rule` decides: "renewed" (the old one 已更新, CertificateRenewed on
    its stream, in the same transaction) or "refused" (CertificateIssueRefused on `refused-<attempt>`)."""
    certificate_id = certificate_id_for(passed.attempt_id)
    if await store.version_of(stream(certificate_id), session=session):
        return "exists"
    if await store.version_of(f"refused-{passed.attempt_id}", session=session):
        return "exists"
    existing = await valid_certificates(store, passed.id_number, passed.position, session)
    decision = domain.second_certificate(existing, rule)
    if decision == "refuse":
        old = existing[0]
        refused = CertificateIssueRefused(
            attempt_id=passed.attempt_id,
            applicant_id=passed.applicant_id,
            id_number=passed.id_number,
            name=passed.name,
            position=passed.position,
            institution_id=passed.institution_id,
            enterprise_id=passed.enterprise_id,
            existing_certificate_id=old.certificate_id,
            existing_certificate_number=old.number,
            refused_on=issued_on,
            reason=f"持证人已持有有效的{passed.position}证书 {old.number}，未再发证",
        )
        await execute(
            store,
            f"refused-{passed.attempt_id}",
            lambda h: [] if h else [refused],
            stream_type="certificate-refusal",
            session=session,
        )
        log.warning(
            "certificate.issue_refused",
            attempt_id=passed.attempt_id,
            existing_certificate_id=old.certificate_id,
            id_number=mask_id(passed.id_number),
        )
        return "refused"
    number = await next_number(store, issued_on.year, passed.position, session)
    name = await institution_name(store, passed.institution_id, session)
    (issued,) = domain.issue(
        [],
        passed=passed,
        certificate_id=certificate_id,
        number=number,
        issued_on=issued_on,
        institution_name=name,
    )
    assert isinstance(issued, CertificateIssued)
    if decision == "renew":
        issued = issued.model_copy(update={"renews": existing[0].certificate_id})
    await open_certificate(store, issued, session)
    for old in existing:
        await change(
            store,
            old.certificate_id,
            lambda h: domain.supersede(
                h, new_certificate_id=certificate_id, new_number=number, today=issued_on
            ),
            session=session,
        )
    return "renewed" if existing else "issued"


def mask_id(id_number: str) -> str:
    """An ID number as logs show it: the first 6 and the last 4 characters."""
    return id_number[:6] + "*" * max(len(id_number) - 10, 0) + id_number[-4:] if len(id_number) > 10 else "*"


# -- crediting completed continuing-education training ---------------------------------------------------


def training_record_id(source_ref: str, kind: str) -> str:
    return uuid.uuid5(TRAINING_NAMESPACE, f"{source_ref}:{kind}").hex


async def certificate_for_training(
    store: EventStore, id_number: str, position: str, session: Session | None = None
) -> Certificate | None:
    """The holder's certificate for the position that a training credits: valid or lapsed, the newest (by
    issue date; a valid one first on the same date)."""
    cursor = store.db[INDEX].find(
        {"id_number": id_number, "position": position, "state": {"$in": ["valid", "lapsed"]}},
        {"_id": 1},
        session=session,
    )
    found = []
    for doc in [d async for d in cursor]:
        cert, _ = await load(store, str(doc["_id"]), session=session)
        found.append(cert)
    if not found:
        return None
    return max(found, key=lambda c: (c.issued_on, c.state == "valid", c.certificate_id))


async def credit_training(
    store: EventStore,
    completed: ContinuingEducationCompleted,
    *,
    today: date,
    rules: HoursRules,
    session: Session,
) -> str:
    """Credit a completed training plan once per source_ref ("credited", "already_credited",
    "uncredited"): to the holder's certificate for the position (`certificate_for_training`), else kept as
    TrainingNotCredited (listed by `GET /uncredited-trainings`) with a warning in the log."""
    ref = domain.training_ref(completed)
    if await store.db[TRAINING_CREDITS].find_one({"_id": ref}, {"_id": 1}, session=session):
        return "already_credited"
    cert = await certificate_for_training(store, completed.id_number, completed.position, session)
    reason = ""
    if cert is None:
        reason = f"持证人没有有效或已失效的{completed.position}证书"
    elif completed.professional_hours <= 0 and completed.general_hours <= 0:
        reason = "培训计划未申报学时"
    if cert is None or reason:
        await _keep_uncredited(store, completed, reason, session)
        return "uncredited"
    await change(
        store,
        cert.certificate_id,
        lambda h: domain.credit_training(
            h,
            completed=completed,
            record_id_for=lambda kind: training_record_id(ref, kind),
            today=today,
            rules=rules,
        ),
        session=session,
    )
    return "credited"


async def _keep_uncredited(
    store: EventStore, completed: ContinuingEducationCompleted, reason: str, session: Session
) -> None:
    ref = domain.training_ref(completed)
    event = TrainingNotCredited(
        source_ref=ref,
        applicant_id=completed.applicant_id,
        enterprise_id=completed.enterprise_id,
        institution_id=completed.institution_id,
        plan_id=completed.plan_id,
        plan_name=completed.plan_name,
        id_number=completed.id_number,
        name=completed.name,
        position=completed.position,
        professional_hours=completed.professional_hours,
        general_hours=completed.general_hours,
        completed_on=completed.completed_on,
        reason=reason,
    )
    appended = await execute(
        store,
        f"uncredited-{ref}",
        lambda h: [] if h else [event],
        stream_type="uncredited-training",
        session=session,
    )
    if appended:
        log.warning(
            "training.not_credited",
            source_ref=ref,
            id_number=mask_id(completed.id_number),
            position=completed.position,
            reason=reason,
        )
