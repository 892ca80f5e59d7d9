"""A person's own profile (我的资料): documents on the person's stream, the head photo the exam uses and its
lock. See `domain/profile.py` for the rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events import DomainEvent
from servicekit import uploads
from servicekit.commands import execute
from servicekit.eventstore import EVENTS, EventStore, StoredEvent
from servicekit.mongo import Document, Session
from servicekit.objectstore import ObjectStore
from servicekit.streams import Streams

from enrollment.domain.events import HeadPhotoLocked, MaterialsUploaded

from ..domain import applicant as applicant_domain
from ..domain import profile as domain
from ..projections.read_models import HOLDERS, MATERIALS_HEAD_PHOTO
from .handlers import batch_stream

PERSON_STREAM_TYPE = "person"

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


async def load_person(store: EventStore, id_number: str, *, session: Session | None = None) -> domain.Person:
    stored = await store.load(domain.person_stream(id_number), session=session)
    return domain.Person.from_history([s.decode() for s in stored], [s.recorded_at for s in stored])


async def holds_certificate(store: EventStore, id_number: str, *, session: Session | None = None) -> bool:
    """Any certificate of the person but a legacy one, whatever its state: the certificate carries the head
    photo (a legacy 岗位证书 has none; its renewal needs one)."""
    query = {"id_number": id_number, "legacy": {"$ne": True}}
    return await store.db[HOLDERS].find_one(query, {"_id": 1}, session=session) is not None


class ExamPhotos:
    """The head photos applications for the exam carry (write side, in the request's transaction): the
    materials zips' head photos of the applicants (only the batches' MaterialsUploaded events naming them,
    one query per batch) and the persons' streams (one query per 50, kept in the request's `streams`, which
    also collects the head-photo locks)."""

    def __init__(self, store: EventStore, streams: Streams, bucket: str) -> None:
        self.store = store
        self.streams = streams
        self.bucket = bucket
        self._materials: dict[str, domain.StoredPhoto | None] = {}
        self._times: dict[str, list[datetime]] = {}

    async def read(self, states: Sequence[applicant_domain.Applicant]) -> None:
        session = self.streams.session
        by_batch: dict[str, list[str]] = {}
        after: dict[str, int] = {}  # the batch's version after its import: its materials come later
        for state in states:
            batch_id = state.batch.batch_id
            by_batch.setdefault(batch_id, []).append(state.applicant_id)
            after[batch_id] = min(after.get(batch_id, state.batch_version), state.batch_version)
        for batch_id, ids in by_batch.items():
            cursor = self.store.db[EVENTS].find(
                {
                    "stream_id": batch_stream(batch_id),
                    "version": {"$gt": after[batch_id]},  # not the ApplicantsImported chunks (~0.7 MB each)
                    "type": MaterialsUploaded.type_name(),
                    "data.applicants.applicant_id": {"$in": ids},
                },
                session=session,
            )
            stored = sorted([StoredEvent.from_document(d) async for d in cursor], key=lambda s: s.version)
            history = [(s.decode(), s.recorded_at) for s in stored]
            for applicant_id in ids:
                self._materials[applicant_id] = domain.materials_head_photo(
                    history, applicant_id, self.bucket
                )
        persons = {domain.person_stream(s.record.id_number) for s in states}
        found = await self.store.load_stored_many(persons, session=session)
        for stream_id in persons:
            items = found.get(stream_id, [])
            self.streams.known(stream_id, [i.decode() for i in items], items[-1].version if items else 0)
            self._times[stream_id] = [i.recorded_at for i in items]

    def choice(self, state: applicant_domain.Applicant) -> domain.ExamPhotoChoice:
        """The photo an application of this applicant carries now (a lock decided earlier in the same
        request counts)."""
        stream_id = domain.person_stream(state.record.id_number)
        history = self.streams.history(stream_id)
        times: list[datetime | None] = [*self._times.get(stream_id, [])]
        times += [None] * (len(history) - len(times))
        person = domain.Person.from_history(history, times)
        return domain.exam_photo(person, self._materials.get(state.applicant_id))

    def lock(self, state: applicant_domain.Applicant, photo: applicant_domain.ExamHeadPhoto) -> None:
        """The first application of a person locks the head photo (on the person's stream)."""
        id_number = state.record.id_number
        stream_id = domain.person_stream(id_number)
        events = domain.lock_head_photo(
            self.streams.history(stream_id), id_number=id_number, applicant_id=state.applicant_id, photo=photo
        )
        self.streams.add(stream_id, events, stream_type=PERSON_STREAM_TYPE)


async def lock_head_photo(
    store: EventStore,
    *,
    id_number: str,
    applicant_id: str,
    photo: applicant_domain.ExamHeadPhoto,
    session: Session | None = None,
) -> None:
    await execute(
        store,
        domain.person_stream(id_number),
        lambda history: domain.lock_head_photo(
            history, id_number=id_number, applicant_id=applicant_id, photo=photo
        ),
        stream_type=PERSON_STREAM_TYPE,
        session=session,
    )


def current_head_photo(
    applicants: list[Document], person: Document | None, bucket: str
) -> tuple[dict[str, Any] | None, bool]:
    """The head photo the exam uses (or will use): the locked one; else the newest of the person's own and
    the materials zips'. Returns (photo {bucket, key, source, uploaded_at}, locked)."""
    person = person or {}
    if person.get("head_photo_locked") and person.get("locked_head_photo"):
        locked = person["locked_head_photo"]
        return {**locked, "source": "exam", "uploaded_at": person.get("locked_at")}, True
    candidates: list[dict[str, Any]] = []
    own = (person.get("documents") or {}).get(domain.HEAD_PHOTO)
    if own:
        candidates.append(
            {
                "bucket": own["bucket"],
                "key": own["key"],
                "source": "profile",
                "uploaded_at": own["uploaded_at"],
            }
        )
    for doc in applicants:
        item = (doc.get("materials") or {}).get(MATERIALS_HEAD_PHOTO)
        if item and doc.get("head_photo_uploaded_at"):
            # the stored photo's check; the applicant's `photo_ok` may be of a later photo, refused unstored
            ok = item.get("photo_ok", doc.get("photo_ok"))
            candidates.append(
                {
                    "bucket": bucket,
                    "key": item["object_key"],
                    "source": "materials",
                    "uploaded_at": doc["head_photo_uploaded_at"],
                    "photo_ok": ok,
                    "photo_problems": doc.get("photo_problems", []) if ok is False else [],
                }
            )
    if not candidates:
        return None, False
    return max(candidates, key=lambda c: c["uploaded_at"]), False


async def locked_id_numbers(store: EventStore, id_numbers: Iterable[str]) -> set[str]:
    """Which of these persons' head photos are locked (one query over the persons' streams)."""
    by_stream = {domain.person_stream(n): n for n in id_numbers}
    if not by_stream:
        return set()
    cursor = store.db[EVENTS].find(
        {"stream_id": {"$in": list(by_stream)}, "type": HeadPhotoLocked.type_name()}, {"stream_id": 1}
    )
    return {by_stream[doc["stream_id"]] async for doc in cursor}


@dataclass(frozen=True)
class HeadPhotoCheck:
    """What checking that the head photo may change read: whether the person holds a certificate, and the
    person's stream (events, version), which the upload's decision then uses (the stream is read once)."""

    holds_certificate: bool
    person: tuple[list[DomainEvent], int]


async def ensure_head_photo_changeable(store: EventStore, id_number: str) -> HeadPhotoCheck:
    """Raise `head_photo_locked` if the person's head photo can no longer change."""
    certificate = await holds_certificate(store, id_number)
    history, version = await store.load_events(domain.person_stream(id_number))
    domain.ensure_head_photo_changeable(domain.Person.from_history(history), holds_certificate=certificate)
    return HeadPhotoCheck(certificate, (history, version))


async def upload_document(
    store: EventStore,
    objects: ObjectStore,
    *,
    id_number: str,
    document: str,
    data: bytes,
    content_type: str,
    checked: HeadPhotoCheck | None = None,
) -> dict[str, object]:
    """Store the file under a new key (an object the exam or a certificate refers to is never overwritten)
    and record `PersonDocumentUploaded`; the head photo is refused once locked (the file is then removed).
    `checked`: the check of the head photo the request already made (its read of the person's stream)."""
    certificate = False
    loaded: tuple[list[DomainEvent], int] | None = None
    if document == domain.HEAD_PHOTO:  # refused before anything is stored; the decision checks again
        checked = checked or await ensure_head_photo_changeable(store, id_number)
        certificate, loaded = checked.holds_certificate, checked.person
    key = f"persons/{domain.person_key(id_number)}/{document}-{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"
    await objects.put(key, data, content_type)
    try:
        await execute(
            store,
            domain.person_stream(id_number),
            lambda history: domain.upload_document(
                history,
                id_number=id_number,
                document=document,
                bucket=objects.bucket,
                key=key,
                content_type=content_type,
                size=len(data),
                holds_certificate=certificate,
            ),
            stream_type=PERSON_STREAM_TYPE,
            loaded=loaded,
        )
    except BaseException:  # only this upload's object, unless the event naming it was stored after all
        await uploads.discard_unrecorded(store, objects, domain.person_stream(id_number), [key])
        raise
    return {"document": document, "key": key, "content_type": content_type, "size": len(data)}
