"""Registration use cases: register once per credit code with the documents, resubmit after a rejection,
review by the city's authority, documents shown to the reviewer through short-lived links."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from events.registration import ReviewCheck, UploadedDocument
from pymongo.errors import DuplicateKeyError
from servicekit import uploads
from servicekit.commands import execute
from servicekit.errors import Conflict, DomainError
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, in_transaction
from servicekit.objectstore import ObjectStore

from ..adapters.documents import check_decodable
from ..domain import enterprise as domain
from ..domain.credit_code import normalize_credit_code
from ..domain.documents import KINDS, check_file
from ..settings import RegistrationSettings

STREAM_TYPE = "enterprise"
CLAIMS = "credit_code_claims"


def stream_id(enterprise_id: str) -> str:
    return f"enterprise-{enterprise_id}"


async def ensure_indexes(store: EventStore) -> None:
    # `_id` is the credit code: the unique index that makes "one registration per enterprise" atomic
    await store.db[CLAIMS].create_index("enterprise_id")


@dataclass(frozen=True)
class UploadedFile:
    kind: str
    data: bytes
    filename: str = ""


def _choices(settings: RegistrationSettings) -> dict[str, list[str]]:
    return {city: [c.id for c in items] for city, items in settings.city_institutions.items()}


def check_files(files: Sequence[UploadedFile], settings: RegistrationSettings) -> list[dict[str, str]]:
    """Every problem of the uploaded files (unknown kind, size, type sniffed from the bytes, decoding)."""
    problems: list[dict[str, str]] = []
    for item in files:
        if item.kind not in KINDS:
            problems.append(
                {"field": item.kind, "code": "unknown_document", "message": f"未知的资料类型：{item.kind}"}
            )
            continue
        problem, content_type, _ = check_file(item.kind, item.data, max_bytes=settings.max_document_bytes)
        problem = problem or check_decodable(
            item.kind, item.data, content_type, max_pixels=settings.max_image_pixels
        )
        if problem:
            problems.append(problem.as_detail())
    return problems


async def _store_files(
    store: EventStore, objects: ObjectStore, enterprise_id: str, files: Sequence[UploadedFile], version: int
) -> list[UploadedDocument]:
    """Each submission's files under keys of their own (`enterprises/<id>/<upload id>/<kind>.<ext>`): an
    object an earlier event names is never overwritten. If storing fails half-way, what was stored goes."""
    upload_id = uploads.new_upload_id()
    stored: list[UploadedDocument] = []
    try:
        for item in files:
            _, content_type, extension = check_file(item.kind, item.data, max_bytes=len(item.data))
            key = f"enterprises/{enterprise_id}/{upload_id}/{item.kind}.{extension}"
            await objects.put(key, item.data, content_type)
            stored.append(
                UploadedDocument(
                    kind=item.kind, object_key=key, content_type=content_type, size=len(item.data)
                )
            )
    except BaseException:
        await _discard(store, objects, enterprise_id, stored, version)
        raise
    return stored


async def _discard(
    store: EventStore,
    objects: ObjectStore,
    enterprise_id: str,
    documents: Sequence[UploadedDocument],
    version: int,
) -> None:
    """Objects of a command that failed are removed, so that nothing half-written stays behind: only this
    command's, and none an event of the enterprise's stream after `version` names."""
    keys = [document.object_key for document in documents]
    await uploads.discard_unrecorded(store, objects, stream_id(enterprise_id), keys, after_version=version)


def _placeholders(files: Sequence[UploadedFile]) -> tuple[UploadedDocument, ...]:
    return tuple(
        UploadedDocument(kind=f.kind, object_key="", content_type="", size=len(f.data)) for f in files
    )


async def register(
    store: EventStore,
    objects: ObjectStore,
    settings: RegistrationSettings,
    *,
    enterprise_id: str,
    account_id: str | None,
    form: domain.RegistrationForm,
    files: Sequence[UploadedFile],
) -> None:
    """Validate everything first (all problems in one answer), store the files, then claim the credit code and
    append the event in one transaction; on failure the stored files are removed again."""
    choices = _choices(settings)
    problems = check_files(files, settings)
    form_problems = domain.validate_form(replace(form.normalized(), documents=_placeholders(files)), choices)
    if problems or form_problems:
        details = form_problems + problems
        raise DomainError(
            "注册信息不完整或不正确：" + "；".join(p["message"] for p in details[:3]),
            code="invalid_registration",
            details=details,
        )
    credit_code = normalize_credit_code(form.credit_code)
    documents = await _store_files(store, objects, enterprise_id, files, 0)
    complete = replace(form, documents=tuple(documents))

    async def work(session: Session) -> None:
        try:
            await store.db[CLAIMS].insert_one(
                {"_id": credit_code, "enterprise_id": enterprise_id}, session=session
            )
        except DuplicateKeyError as exc:
            raise Conflict(
                "该统一社会信用代码已注册，一个企业只能注册一次；如忘记账号请联系所在市建设主管部门",
                code="credit_code_taken",
            ) from exc
        await execute(
            store,
            stream_id(enterprise_id),
            lambda h: domain.register(
                h,
                enterprise_id=enterprise_id,
                form=complete,
                account_id=account_id,
                institution_choices=choices,
            ),
            stream_type=STREAM_TYPE,
            session=session,
        )

    try:
        await in_transaction(store.client, work)
    except BaseException:
        await _discard(store, objects, enterprise_id, documents, 0)
        raise
    store.notify()


async def resubmit(
    store: EventStore,
    objects: ObjectStore,
    settings: RegistrationSettings,
    *,
    enterprise_id: str,
    changes: Mapping[str, object],
    files: Sequence[UploadedFile],
) -> int:
    """Correct a rejected registration; returns the new submission number."""
    if problems := check_files(files, settings):
        raise DomainError(
            "上传的资料不符合要求：" + "；".join(p["message"] for p in problems[:3]),
            code="invalid_documents",
            details=problems,
        )
    history, version = await store.load_events(stream_id(enterprise_id))
    current = domain.Enterprise.from_history(history)
    # Validate with the documents as they would be, before storing anything.
    domain.resubmit(
        history,
        changes=changes,
        new_documents=_placeholders(files),
        institution_choices=_choices(settings),
    )
    documents = await _store_files(store, objects, enterprise_id, files, version)
    try:
        stored = await execute(
            store,
            stream_id(enterprise_id),
            lambda h: domain.resubmit(
                h, changes=changes, new_documents=documents, institution_choices=_choices(settings)
            ),
            stream_type=STREAM_TYPE,
        )
    except BaseException:
        await _discard(store, objects, enterprise_id, documents, version)
        raise
    return current.submission + len(stored)


async def review(
    store: EventStore,
    enterprise_id: str,
    *,
    reviewer_id: str,
    reviewer_city: str | None,
    checks: Sequence[ReviewCheck],
    approve: bool,
    reason: str = "",
) -> None:
    await execute(
        store,
        stream_id(enterprise_id),
        lambda history: domain.decide_review(
            history,
            reviewer_id=reviewer_id,
            reviewer_city=reviewer_city,
            checks=checks,
            approve=approve,
            reason=reason,
        ),
        stream_type=STREAM_TYPE,
    )


async def load(store: EventStore, enterprise_id: str) -> domain.Enterprise:
    history, _ = await store.load_events(stream_id(enterprise_id))
    return domain.Enterprise.from_history(history)


async def document_links(
    objects: ObjectStore, state: domain.Enterprise, *, expires: timedelta
) -> list[dict[str, object]]:
    """Short-lived links to the current submission's documents (nobody gets the bucket, only these)."""
    assert state.form is not None
    urls = await asyncio.gather(*(objects.presigned_get(d.object_key, expires) for d in state.form.documents))
    return [
        {
            "kind": d.kind,
            "label": KINDS[d.kind].label,
            "content_type": d.content_type,
            "size": d.size,
            "url": url,
            "expires_in": int(expires.total_seconds()),
        }
        for d, url in zip(state.form.documents, urls, strict=True)
    ]
