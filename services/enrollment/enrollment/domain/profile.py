"""A person's own profile (我的资料) and the head photo the exam uses. Pure rules: no I/O.

A person (account role `person`, identified by the ID number) uploads a head photo and the ID card's sides
on their own stream (`PersonDocumentUploaded`). The head photo of an applicant is the newest of the one the
enterprise sent in the materials zip and the person's own; at the first application for the exam it becomes
the exam's reference photo (`HeadPhotoLocked` on the person's stream) and can no longer be changed, nor can
it once the person holds a certificate (domain.md §9: "the head photo cannot be changed once an exam record
or certificate exists").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from events import DomainEvent, PersonDocumentUploaded
from servicekit.errors import Conflict, DomainError

from enrollment.domain.events import HeadPhotoLocked, MaterialsUploaded

from .applicant import ExamHeadPhoto

HEAD_PHOTO = "head_photo"
ID_CARD_FRONT = "id_card_front"
ID_CARD_BACK = "id_card_back"
DOCUMENTS = {HEAD_PHOTO: "头像", ID_CARD_FRONT: "身份证正面", ID_CARD_BACK: "身份证反面"}
ID_CARD_SIDES = {"front": ID_CARD_FRONT, "back": ID_CARD_BACK}
MATERIALS_HEAD_PHOTO = "头像"  # the document's name in the materials zip

LOCK_REASONS = {
    "exam_applied": "已申请考试，头像已作为考试人脸核验的比对照片",
    "certificate": "已取得证书，证书上的头像不能更改",
}


def person_stream(id_number: str) -> str:
    """The person's stream id: a digest of the ID number, so that no ID number appears in stream ids, Kafka
    keys or logs."""
    return f"person-{person_key(id_number)}"


def person_key(id_number: str) -> str:
    return hashlib.sha256(id_number.strip().upper().encode()).hexdigest()[:32]


def mask_id_number(id_number: str) -> str:
    if len(id_number) < 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


@dataclass(frozen=True)
class StoredPhoto:
    """A head photo as stored, with when it was stored and whether it passed the head-photo rules."""

    bucket: str
    key: str
    at: datetime
    source: str  # "materials" (the enterprise's zip) or "profile" (the person's own)
    ok: bool = True
    problems: tuple[str, ...] = ()

    def exam_photo(self) -> ExamHeadPhoto:
        return ExamHeadPhoto(bucket=self.bucket, key=self.key)


@dataclass(frozen=True)
class PersonDocument:
    bucket: str
    key: str
    content_type: str
    size: int
    at: datetime | None = None


@dataclass
class Person:
    """The person's stream folded: their documents and the lock of the head photo."""

    documents: dict[str, PersonDocument] = field(default_factory=dict)
    locked: HeadPhotoLocked | None = None

    @classmethod
    def from_history(
        cls, history: Sequence[DomainEvent], times: Sequence[datetime | None] | None = None
    ) -> Person:
        person = cls()
        for index, event in enumerate(history):
            at = times[index] if times is not None else None
            match event:
                case PersonDocumentUploaded():
                    person.documents[event.document] = PersonDocument(
                        event.bucket, event.key, event.content_type, event.size, at
                    )
                case HeadPhotoLocked() if person.locked is None:
                    person.locked = event
        return person

    def head_photo(self) -> StoredPhoto | None:
        doc = self.documents.get(HEAD_PHOTO)
        if doc is None or doc.at is None:
            return None
        return StoredPhoto(doc.bucket, doc.key, doc.at, "profile")


def materials_head_photo(
    batch_history: Sequence[tuple[DomainEvent, datetime]], applicant_id: str, bucket: str
) -> StoredPhoto | None:
    """The applicant's latest head photo from the batch's MaterialsUploaded events (each upload replaces)."""
    found: StoredPhoto | None = None
    for event, at in batch_history:
        if not isinstance(event, MaterialsUploaded):
            continue
        for item in event.applicants:
            if item.applicant_id != applicant_id:
                continue
            for doc in item.documents:
                if doc.document == MATERIALS_HEAD_PHOTO:
                    ok = item.photo_ok is not False
                    problems = tuple(p.message for p in item.photo_findings())
                    found = StoredPhoto(bucket, doc.object_key, at, "materials", ok, problems)
    return found


def newest(*photos: StoredPhoto | None) -> StoredPhoto | None:
    present = [p for p in photos if p is not None]
    return max(present, key=lambda p: p.at) if present else None


@dataclass(frozen=True)
class ExamPhotoChoice:
    """The head photo an application for the exam would carry, or why there is none usable."""

    photo: ExamHeadPhoto | None
    code: str = ""
    message: str = ""


def exam_photo(person: Person, materials: StoredPhoto | None) -> ExamPhotoChoice:
    """The locked photo if there is one (a retake, or another application of the same person); else the
    newest of the materials zip's and the person's own. A photo that failed the head-photo rules is refused:
    the exam's face check needs a usable reference (the person uploads a conforming one in 我的资料, or the
    enterprise uploads the zip again)."""
    if person.locked is not None:
        return ExamPhotoChoice(ExamHeadPhoto(bucket=person.locked.bucket, key=person.locked.key))
    chosen = newest(materials, person.head_photo())
    if chosen is None:
        return ExamPhotoChoice(
            None,
            "head_photo_missing",
            "该学员没有头像照片（考试人脸核验需要），请企业上传报名资料中的头像或学员在“我的资料”中上传头像",
        )
    if not chosen.ok:
        problems = "；".join(chosen.problems) or "头像不符合要求"
        return ExamPhotoChoice(
            None,
            "head_photo_invalid",
            f"该学员的头像不符合要求（{problems}），请重新上传符合要求的头像后再申请考试",
        )
    return ExamPhotoChoice(chosen.exam_photo())


def lock_head_photo(
    history: Sequence[DomainEvent], *, id_number: str, applicant_id: str, photo: ExamHeadPhoto
) -> list[DomainEvent]:
    """Decide on the person's stream: the first application for the exam locks the head photo."""
    if Person.from_history(history).locked is not None:
        return []
    return [
        HeadPhotoLocked(id_number=id_number, applicant_id=applicant_id, bucket=photo.bucket, key=photo.key)
    ]


def lock_reason(person: Person, *, holds_certificate: bool) -> str | None:
    if person.locked is not None:
        return LOCK_REASONS["exam_applied"]
    if holds_certificate:
        return LOCK_REASONS["certificate"]
    return None


def ensure_head_photo_changeable(person: Person, *, holds_certificate: bool) -> None:
    reason = lock_reason(person, holds_certificate=holds_certificate)
    if reason is not None:
        raise Conflict(f"头像不能再更改：{reason}", code="head_photo_locked", details={"reason": reason})


def upload_document(
    history: Sequence[DomainEvent],
    *,
    id_number: str,
    document: str,
    bucket: str,
    key: str,
    content_type: str,
    size: int,
    holds_certificate: bool = False,
) -> list[DomainEvent]:
    """Decide on the person's stream: a document of the profile; the head photo only while not locked."""
    if document not in DOCUMENTS:
        raise DomainError("未知的资料类型", code="unknown_document")
    if document == HEAD_PHOTO:
        ensure_head_photo_changeable(Person.from_history(history), holds_certificate=holds_certificate)
    return [
        PersonDocumentUploaded(
            id_number=id_number,
            document=document,
            bucket=bucket,
            key=key,
            content_type=content_type,
            size=size,
        )
    ]
