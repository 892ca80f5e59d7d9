"""Uploading a batch's materials: one zip, checked for safety as a whole, every entry named
`<ID number>$<document>.<ext>`, every head photo checked against the photo rules, documents stored per
applicant (a later upload replaces single documents), and one MaterialsUploaded record of what was stored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from events import DomainEvent
from servicekit import uploads
from servicekit.commands import execute
from servicekit.errors import DomainError, NotFound
from servicekit.eventstore import EventStore
from servicekit.objectstore import ObjectStore

from enrollment.domain.events import ApplicantMaterials, MaterialDocument, MaterialsUploaded

from ..adapters.archive import ArchiveLimits, ArchiveRefused, Member, read_zip
from ..adapters.photos import HeadPhotoRules, check_head_photo
from ..domain.materials import ParsedName, base_name, materials_report, parse_entry_name
from ..projections.read_models import APPLICANTS
from . import profile as profile_app
from .handlers import APPLICANT_INDEX, batch_stream

HEAD_PHOTO = "头像"
EVENT_CHUNK = 200  # applicants per MaterialsUploaded event

Progress = Callable[..., None]


async def batch_applicants(store: EventStore, batch_id: str, enterprise_id: str | None) -> dict[str, str]:
    """ID number → applicant id of a batch the enterprise owns (None: any owner)."""
    query: dict[str, Any] = {"batch_id": batch_id}
    if enterprise_id is not None:
        query["enterprise_id"] = enterprise_id
    found = {d["id_number"]: d["_id"] async for d in store.db[APPLICANT_INDEX].find(query, {"id_number": 1})}
    if not found:
        raise NotFound("未找到该报名批次", code="batch_not_found")
    return found


async def upload_materials(
    store: EventStore,
    objects: ObjectStore,
    *,
    enterprise_id: str,
    batch_id: str,
    data: bytes,
    limits: ArchiveLimits,
    photo_rules: HeadPhotoRules,
    progress: Progress,
) -> dict[str, Any]:
    applicants = await batch_applicants(store, batch_id, enterprise_id)
    try:
        members = await asyncio.to_thread(
            read_zip, data, limits, progress=lambda done, total: progress(done, total, "检查压缩包")
        )
    except ArchiveRefused as exc:
        raise DomainError(exc.message, code=exc.code, details={"entry": exc.entry}) from exc
    report = materials_report([m.name for m in members], list(applicants))
    usable: list[tuple[str, str, Member]] = []  # (id number, document, member)
    duplicated = {(d.id_number, d.document) for d in report.duplicates}
    for member in members:
        parsed = parse_entry_name(base_name(member.name))
        if not isinstance(parsed, ParsedName) or parsed.id_number not in applicants:
            continue
        if (parsed.id_number, parsed.document) in duplicated:
            continue
        usable.append((parsed.id_number, parsed.document, member))
    # a head photo the exam already uses (or a certificate carries) is never replaced by a later zip
    locked = await profile_app.locked_id_numbers(store, {n for n, d, _ in usable if d == HEAD_PHOTO})
    kept_locked = sorted(n for n, d, _ in usable if d == HEAD_PHOTO and n in locked)
    usable = [(n, d, m) for n, d, m in usable if not (d == HEAD_PHOTO and n in locked)]
    if not usable and kept_locked:
        raise DomainError(
            "压缩包中只有头像，而这些学员已申请考试，头像已用于考试人脸核验，不能更换",
            code="head_photo_locked",
            status=409,
            details={"id_numbers": kept_locked},
        )
    if not usable:
        raise DomainError(
            "压缩包中没有可用的报名资料：" + "；".join(report.messages()[:5]),
            code="no_usable_materials",
            details={"problems": report.messages()},
        )

    stored: dict[str, list[MaterialDocument]] = {}
    photos: dict[str, list[str]] = {}
    keys: list[str] = []
    # every upload under keys of its own: an object an earlier MaterialsUploaded names is never overwritten
    upload_id = uploads.new_upload_id()
    version_before = await store.version_of(batch_stream(batch_id))
    try:
        for done, (id_number, document, member) in enumerate(usable, start=1):
            if document == HEAD_PHOTO:
                check = await asyncio.to_thread(check_head_photo, member.data, photo_rules)
                photos[id_number] = [p.message for p in check]
            extension = member.name.rsplit(".", 1)[-1].lower()
            key = f"batches/{batch_id}/{applicants[id_number]}/{upload_id}/{document}.{extension}"
            await objects.put(key, member.data, member.content_type)
            keys.append(key)
            stored.setdefault(id_number, []).append(
                MaterialDocument(
                    document=document, object_key=key, content_type=member.content_type, size=len(member.data)
                )
            )
            progress(done, len(usable), "检查照片并保存资料")
        records = [
            ApplicantMaterials(
                applicant_id=applicants[number],
                id_number=number,
                documents=documents,
                photo_ok=(not photos[number]) if number in photos else None,
                photo_problems=photos.get(number, []),
            )
            for number, documents in stored.items()
        ]
        index = await store.db[APPLICANT_INDEX].find_one({"batch_id": batch_id})
        assert index is not None

        def decide(_: list[DomainEvent]) -> list[DomainEvent]:
            return [
                MaterialsUploaded(
                    batch_id=batch_id,
                    enterprise_id=index["enterprise_id"],
                    institution_id=index["institution_id"],
                    applicants=records[i : i + EVENT_CHUNK],
                )
                for i in range(0, len(records), EVENT_CHUNK)
            ]

        # the decision needs none of the batch's events: only its version is read, not its ~1.4 MB per
        # 1,000 applicants (a concurrent upload makes execute read the history and decide again)
        stream = batch_stream(batch_id)
        await execute(store, stream, decide, stream_type="batch", loaded=([], await store.version_of(stream)))
    except BaseException:
        # nothing half-written: this upload's objects are removed (only these, and none an event names)
        await uploads.discard_unrecorded(
            store, objects, batch_stream(batch_id), keys, after_version=version_before
        )
        raise

    previous = {
        d["_id"]: set((d.get("materials") or {}).keys())
        async for d in store.db[APPLICANTS].find({"batch_id": batch_id}, {"materials": 1})
    }
    applicants_report = []
    for number, item in report.applicants.items():
        have = set(item.found) | previous.get(applicants[number], set())
        missing = [d for d in item.missing if d not in have]
        applicants_report.append(
            {
                "id_number": number,
                "applicant_id": applicants[number],
                "stored": sorted(d.document for d in stored.get(number, [])),
                "missing": missing,
                "photo_problems": photos.get(number, []),
            }
        )
    return {
        "batch_id": batch_id,
        "documents_stored": sum(len(v) for v in stored.values()),
        "applicants": applicants_report,
        "unknown_entries": [{"entry": u.entry, "code": u.code, "message": u.message} for u in report.unknown],
        "not_in_batch": [
            {"entry": f.entry, "id_number": f.id_number, "message": f.message} for f in report.not_in_batch
        ],
        "duplicates": [
            {"id_number": d.id_number, "document": d.document, "message": d.message}
            for d in report.duplicates
        ],
        "photo_failures": sum(1 for v in photos.values() if v),
        "head_photos_kept": [
            {
                "id_number": number,
                "code": "head_photo_locked",
                "message": "该学员已申请考试，头像已用于考试人脸核验，不能更换；压缩包中的头像未保存",
            }
            for number in kept_locked
        ],
    }


async def document_links(
    objects: ObjectStore, materials: dict[str, Any], expires_seconds: int
) -> list[dict[str, Any]]:
    out = []
    for document, info in sorted(materials.items()):
        url = await objects.presigned_get(info["object_key"], timedelta(seconds=expires_seconds))
        out.append(
            {
                "document": document,
                "content_type": info["content_type"],
                "size": info["size"],
                "url": url,
                "expires_in": expires_seconds,
            }
        )
    return out
