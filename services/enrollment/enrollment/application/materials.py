"""Uploading a batch's materials: one zip, checked for safety as a whole (and for its number of files against
the batch), every entry named `<ID number>$<document>.<ext>`, every head photo checked against the photo rules
(one that fails is reported with its codes and not stored), documents stored per applicant (a later upload
replaces single documents), and one MaterialsUploaded record of what was stored and of the photo checks. The
job's result is small whatever the archive: problems grouped by code with counts and a few examples, most
important first."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from events import DomainEvent
from servicekit import documents, uploads
from servicekit.commands import execute
from servicekit.errors import DomainError, NotFound
from servicekit.eventstore import EventStore
from servicekit.objectstore import ObjectStore

from enrollment.domain.events import (
    ApplicantMaterials,
    HeadPhotoProblem,
    MaterialDocument,
    MaterialsUploaded,
)

from ..adapters.archive import ArchiveLimits, ArchiveRefused, Entry, ZipArchive
from ..adapters.photos import HeadPhotoRules, PhotoProblem, check_head_photo
from ..domain.materials import (
    DUPLICATE_DOCUMENT,
    HEAD_PHOTO_LOCKED,
    MISSING_DOCUMENTS,
    ParsedName,
    Problem,
    base_name,
    grouped,
    materials_report,
    missing_problem,
    parse_entry_name,
    rank,
    summary,
)
from ..domain.reference import MATERIAL_DOCUMENTS
from ..projections.read_models import APPLICANTS
from . import profile as profile_app
from .handlers import APPLICANT_INDEX, batch_stream

HEAD_PHOTO = "头像"
EVENT_CHUNK = 200  # applicants per MaterialsUploaded event
MAX_EXAMPLES = 10  # problems listed in full per code in a job's result (the rest are counted)
MAX_LISTED_APPLICANTS = 100  # applicants listed in a job's result (the rest are counted)
LOCKED_MESSAGE = "该学员已申请考试，头像已用于考试人脸核验，不能更换；压缩包中的头像未保存"

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


async def _documents_on_file(store: EventStore, batch_id: str) -> dict[str, set[str]]:
    """Applicant id → the documents earlier uploads stored (from the read model): not missing any more."""
    return {
        d["_id"]: set((d.get("materials") or {}).keys())
        async for d in store.db[APPLICANTS].find({"batch_id": batch_id}, {"materials": 1})
    }


def _decode_problem(archive: ZipArchive, member: Entry, max_pixels: int) -> documents.DocumentProblem | None:
    """Whether one file of the archive decodes completely (read in a worker thread: one file in memory)."""
    return documents.document_problem(
        archive.read(member), label=f"压缩包中的“{member.name}”", max_pixels=max_pixels
    )


def _photo_problem(id_number: str, found: PhotoProblem) -> Problem:
    return Problem(found.code, f"{id_number}：{found.message}", id_number=id_number)


async def upload_materials(
    store: EventStore,
    objects: ObjectStore,
    *,
    enterprise_id: str,
    batch_id: str,
    data: bytes | str | os.PathLike[str],
    limits: ArchiveLimits,
    photo_rules: HeadPhotoRules,
    progress: Progress,
    max_pixels: int = documents.DEFAULT_MAX_PIXELS,
) -> dict[str, Any]:
    """Read the zip (refused whole, before anything is extracted, above six files per applicant of the batch
    plus the margin), check every head photo with 我的资料's rules (one that fails is not stored: it never
    replaces a usable photo), store the rest and record one MaterialsUploaded; the result groups the problems,
    most important first. Nothing usable: `no_usable_materials` (or `head_photo_locked`), nothing stored."""
    applicants = await batch_applicants(store, batch_id, enterprise_id)
    limits = limits.for_batch(len(applicants), len(MATERIAL_DOCUMENTS))
    try:
        # `data`: the spooled file's path (an upload) or bytes; the archive is read one file at a time
        archive = await asyncio.to_thread(ZipArchive, data, limits)
    except ArchiveRefused as exc:
        raise DomainError(exc.message, code=exc.code, details={"entry": exc.entry}) from exc
    try:
        return await _upload(
            store,
            objects,
            archive,
            applicants=applicants,
            batch_id=batch_id,
            photo_rules=photo_rules,
            progress=progress,
            max_pixels=max_pixels,
        )
    finally:
        archive.close()


async def _upload(
    store: EventStore,
    objects: ObjectStore,
    archive: ZipArchive,
    *,
    applicants: dict[str, str],
    batch_id: str,
    photo_rules: HeadPhotoRules,
    progress: Progress,
    max_pixels: int,
) -> dict[str, Any]:
    try:
        members = await asyncio.to_thread(
            archive.check, lambda done, total: progress(done, total, "检查压缩包")
        )
    except ArchiveRefused as exc:
        raise DomainError(exc.message, code=exc.code, details={"entry": exc.entry}) from exc
    report = materials_report([m.name for m in members], list(applicants))
    usable: list[tuple[str, str, Entry]] = []  # (id number, document, member)
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

    # every head photo checked before anything is stored: the same rules as 我的资料's upload
    heads = [(n, m) for n, d, m in usable if d == HEAD_PHOTO]
    photos: dict[str, list[PhotoProblem]] = {}
    for done, (number, member) in enumerate(heads, start=1):
        content = await asyncio.to_thread(archive.read, member)
        photos[number] = list(await asyncio.to_thread(check_head_photo, content, photo_rules))
        progress(done, len(heads), "检查头像")
    usable = [(n, d, m) for n, d, m in usable if not (d == HEAD_PHOTO and photos.get(n))]

    # every other document must decode completely (images: pixel bound first; PDF: structure), one at a time
    undecodable: list[Problem] = []
    others = [(n, d, m) for n, d, m in usable if d != HEAD_PHOTO]
    for done, (number, _, member) in enumerate(others, start=1):
        problem = await asyncio.to_thread(_decode_problem, archive, member, max_pixels)
        if problem is not None:
            undecodable.append(Problem(problem.code, problem.message, entry=member.name, id_number=number))
        progress(done, len(others), "检查文件")
    refused = {p.entry for p in undecodable}
    usable = [(n, d, m) for n, d, m in usable if m.name not in refused]

    on_file = await _documents_on_file(store, batch_id)
    found = [p for p in report.problems() if p.code != MISSING_DOCUMENTS] + undecodable
    found += [_photo_problem(n, p) for n in applicants if n in photos for p in photos[n]]
    found += [
        Problem(HEAD_PHOTO_LOCKED, f"{n}：{LOCKED_MESSAGE}", id_number=n, entry=None) for n in kept_locked
    ]
    if not usable:
        incomplete: list[Problem] = []
        for number, item in report.applicants.items():
            lacking = [d for d in item.missing if d not in on_file.get(applicants[number], set())]
            if lacking:
                incomplete.append(missing_problem(number, lacking))
        groups = grouped([*found, *incomplete], max_examples=MAX_EXAMPLES)
        locked_only = bool(groups) and groups[0]["code"] == HEAD_PHOTO_LOCKED
        raise DomainError(
            summary(groups, head="压缩包中没有可用的报名资料，未保存任何资料"),
            code=HEAD_PHOTO_LOCKED if locked_only else "no_usable_materials",
            status=409 if locked_only else None,
            details=groups,
        )

    stored: dict[str, list[MaterialDocument]] = {}
    keys: list[str] = []
    # every upload under keys of its own: an object an earlier MaterialsUploaded names is never overwritten
    upload_id = uploads.new_upload_id()
    version_before = await store.version_of(batch_stream(batch_id))
    try:
        for done, (id_number, document, member) in enumerate(usable, start=1):
            extension = member.name.rsplit(".", 1)[-1].lower()
            key = f"batches/{batch_id}/{applicants[id_number]}/{upload_id}/{document}.{extension}"
            content = await asyncio.to_thread(archive.read, member)
            await objects.put(key, content, member.content_type)
            keys.append(key)
            stored.setdefault(id_number, []).append(
                MaterialDocument(
                    document=document, object_key=key, content_type=member.content_type, size=len(content)
                )
            )
            del content
            progress(done, len(usable), "保存资料")
        records = [
            ApplicantMaterials(
                applicant_id=applicants[number],
                id_number=number,
                documents=stored.get(number, []),
                photo_ok=(not photos[number]) if number in photos else None,
                head_photo_problems=[
                    HeadPhotoProblem(rule=p.rule, code=p.code, message=p.message)
                    for p in photos.get(number, [])
                ],
            )
            for number in applicants
            if number in stored or number in photos
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

    # per applicant: what this upload stored, what is still missing (earlier uploads count), the photo check
    listed: list[tuple[int, dict[str, Any]]] = []
    kept = set(kept_locked)
    for number, item in report.applicants.items():
        have = {d.document for d in stored.get(number, [])} | on_file.get(applicants[number], set())
        missing = [d for d in MATERIAL_DOCUMENTS if d not in have]
        if missing:
            found.append(missing_problem(number, missing))
        problems = [p.code for p in photos.get(number, [])]
        problems += [HEAD_PHOTO_LOCKED] * (number in kept)
        problems += [DUPLICATE_DOCUMENT] * bool(item.duplicated) + [MISSING_DOCUMENTS] * bool(missing)
        if not problems:
            continue
        listed.append(
            (
                min(rank(code) for code in problems),
                {
                    "id_number": number,
                    "applicant_id": applicants[number],
                    "stored": sorted(d.document for d in stored.get(number, [])),
                    "missing": missing,
                    "duplicated": list(item.duplicated),
                    "photo_ok": (not photos[number]) if number in photos else None,
                    "photo_problems": [
                        {"rule": p.rule, "code": p.code, "message": p.message} for p in photos.get(number, [])
                    ],
                },
            )
        )
    listed.sort(key=lambda pair: pair[0])
    groups = grouped(found, max_examples=MAX_EXAMPLES)
    return {
        "batch_id": batch_id,
        "documents_stored": sum(len(v) for v in stored.values()),
        "applicants_in_batch": len(applicants),
        "applicants_with_all_documents": len(applicants)
        - sum(1 for p in found if p.code == MISSING_DOCUMENTS),
        "photos_checked": len(photos),
        "photo_failures": sum(1 for v in photos.values() if v),
        "message": summary(groups, head="报名资料已保存") if groups else "报名资料已保存，没有发现问题",
        "problems": groups,
        # the applicants with something to fix, most important first (the whole batch: GET /applicants)
        "applicants_with_problems": len(listed),
        "applicants": [entry for _, entry in listed[:MAX_LISTED_APPLICANTS]],
        "head_photos_kept": [
            {"id_number": number, "code": HEAD_PHOTO_LOCKED, "message": LOCKED_MESSAGE}
            for number in kept_locked[:MAX_LISTED_APPLICANTS]
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
