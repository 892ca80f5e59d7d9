"""A person's own profile (我的资料): documents on the person's stream, the head photo the exam uses and its
lock. See `domain/profile.py` for the rules."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from events import DomainEvent
from servicekit.commands import execute
from servicekit.eventstore import EVENTS, EventStore
from servicekit.mongo import Document, Session
from servicekit.objectstore import ObjectStore

from enrollment.domain.events import HeadPhotoLocked

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


async def exam_photo_of(
    store: EventStore,
    state: applicant_domain.Applicant,
    bucket: str,
    batches: dict[str, list[tuple[DomainEvent, datetime]]],
    *,
    session: Session | None = None,
) -> domain.ExamPhotoChoice:
    """The head photo an application for the exam of this applicant carries (write side, in `session`).
    `batches` caches the batches' histories over one request."""
    batch_id = state.batch.batch_id
    if batch_id not in batches:
        stored = await store.load(batch_stream(batch_id), session=session)
        batches[batch_id] = [(s.decode(), s.recorded_at) for s in stored]
    materials = domain.materials_head_photo(batches[batch_id], state.applicant_id, bucket)
    person = await load_person(store, state.record.id_number, session=session)
    return domain.exam_photo(person, materials)


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
            candidates.append(
                {
                    "bucket": bucket,
                    "key": item["object_key"],
                    "source": "materials",
                    "uploaded_at": doc["head_photo_uploaded_at"],
                    "photo_ok": doc.get("photo_ok"),
                    "photo_problems": doc.get("photo_problems", []),
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


async def ensure_head_photo_changeable(store: EventStore, id_number: str) -> bool:
    """Raise `head_photo_locked` if the person's head photo can no longer change; returns whether the person
    holds a certificate (for the decision)."""
    certificate = await holds_certificate(store, id_number)
    domain.ensure_head_photo_changeable(await load_person(store, id_number), holds_certificate=certificate)
    return certificate


async def upload_document(
    store: EventStore,
    objects: ObjectStore,
    *,
    id_number: str,
    document: str,
    data: bytes,
    content_type: str,
) -> dict[str, object]:
    """Store the file under a new key (an object the exam or a certificate refers to is never overwritten)
    and record `PersonDocumentUploaded`; the head photo is refused once locked (the file is then removed)."""
    certificate = False
    if document == domain.HEAD_PHOTO:  # refused before anything is stored; the decision checks again
        certificate = await ensure_head_photo_changeable(store, id_number)
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
        )
    except BaseException:
        with contextlib.suppress(Exception):
            await objects.remove(key)
        raise
    return {"document": document, "key": key, "content_type": content_type, "size": len(data)}
