"""HTTP API of the person's own profile (我的资料): the applications they appear in, the head photo the exam
uses, and uploading the head photo and the ID card's sides. Only the person (role `person`, whose
`Identity.org_id` is their ID number) sees and changes their own profile."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, UploadFile
from servicekit import documents
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import DomainError, Forbidden
from servicekit.objectstore import ObjectStore

from ..adapters.photos import check_head_photo
from ..application import profile as profile_app
from ..domain import applicant as applicant_domain
from ..domain import profile as domain
from ..domain.reference import TRAINING_MODES
from ..projections.institutions import INSTITUTIONS
from ..projections.read_models import APPLICANTS, HOLDERS, PERSON_PROFILES
from .routes import Settings

router = APIRouter(prefix="/api/enrollment/me", tags=["我的资料"])

CERTIFICATE_STATES = {"valid": "有效", "lapsed": "已失效", "revoked": "已注销", "superseded": "已更新"}


def _person(identity: Annotated[Identity, Depends(require_roles(Role.PERSON))]) -> str:
    if not identity.org_id:
        raise Forbidden("账号未关联身份证号", code="no_id_number")
    return identity.org_id


Person = Annotated[str, Depends(_person)]


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise DomainError(f"文件过大，不能超过 {limit / 1048576:.0f} MB", code="file_too_large", status=413)
    if not data:
        raise DomainError("文件为空", code="empty_file")
    return data


async def _link(objects: ObjectStore, bucket: str | None, key: str | None, seconds: int) -> str | None:
    if not key or (bucket and bucket != objects.bucket):
        return None
    return await objects.presigned_get(key, timedelta(seconds=seconds))


@router.get("/profile", summary="我的资料：姓名、身份证号（脱敏）、报名记录与状态、头像和身份证照片")
async def my_profile(id_number: Person, rt: RuntimeDep, settings: Settings) -> dict[str, Any]:
    assert rt.objects is not None
    objects, seconds = rt.objects, settings.document_url_seconds
    applicants = [d async for d in rt.db[APPLICANTS].find({"id_number": id_number}).sort("imported_at", 1)]
    person = await rt.db[PERSON_PROFILES].find_one({"_id": id_number})
    institution_names = {
        d["_id"]: d.get("name", "")
        async for d in rt.db[INSTITUTIONS].find(
            {"_id": {"$in": list({a.get("institution_id") for a in applicants})}}, {"name": 1}
        )
    }
    certificates = [
        {
            "certificate_number": d.get("certificate_number", ""),
            "position": d.get("position", ""),
            "state": d.get("state", ""),
            "state_label": CERTIFICATE_STATES.get(d.get("state", ""), d.get("state", "")),
            "legacy": bool(d.get("legacy")),
        }
        async for d in rt.db[HOLDERS].find({"id_number": id_number})
    ]
    latest = applicants[-1] if applicants else {}
    photo, locked = profile_app.current_head_photo(applicants, person, objects.bucket)
    holds = any(not c["legacy"] for c in certificates)
    reason = (
        domain.LOCK_REASONS["exam_applied"]
        if locked
        else domain.LOCK_REASONS["certificate"]
        if holds
        else None
    )
    documents = (person or {}).get("documents") or {}
    id_cards: dict[str, Any] = {}
    for side, document in domain.ID_CARD_SIDES.items():
        own = documents.get(document)
        if own:
            id_cards[side] = {
                "source": "profile",
                "uploaded_at": own.get("uploaded_at"),
                "url": await _link(objects, own.get("bucket"), own.get("key"), seconds),
            }
            continue
        name = domain.DOCUMENTS[document]
        from_zip = next(
            (a["materials"][name] for a in reversed(applicants) if (a.get("materials") or {}).get(name)), None
        )
        id_cards[side] = (
            {"source": "materials", "url": await _link(objects, None, from_zip["object_key"], seconds)}
            if from_zip
            else None
        )
    head_photo = None
    if photo is not None:
        head_photo = {
            **{k: v for k, v in photo.items() if k not in ("bucket", "key")},
            "url": await _link(objects, photo.get("bucket"), photo.get("key"), seconds),
        }
    return {
        "name": latest.get("name", ""),
        "gender": latest.get("gender", ""),
        "id_number": domain.mask_id_number(id_number),
        "applications": [
            {
                "applicant_id": a["_id"],
                "batch_id": a.get("batch_id"),
                "position": a.get("position", ""),
                "specialisation": a.get("specialisation"),
                "training_mode": a.get("training_mode", ""),
                "training_mode_label": TRAINING_MODES.get(a.get("training_mode", ""), ""),
                "continuing_education": bool(a.get("continuing_education")),
                "institution_id": a.get("institution_id"),
                "institution_name": institution_names.get(a.get("institution_id"), ""),
                "employer": a.get("employer", ""),
                "status": a.get("status", ""),
                "status_label": applicant_domain.STATUS_LABELS.get(
                    applicant_domain.Status(a.get("status", "pending")), ""
                ),
                "exam_score": a.get("exam_score"),
                "imported_at": a.get("imported_at"),
            }
            for a in applicants
        ],
        "head_photo": head_photo,
        "head_photo_locked": reason is not None,
        "head_photo_lock_reason": reason,
        "id_card": id_cards,
        "certificates": certificates,
        "links_expire_in": seconds,
    }


@router.put(
    "/head-photo",
    summary="上传或更换我的头像（一寸白底免冠正面照，JPEG；已申请考试或已取得证书后不能更换）",
)
async def upload_head_photo(
    id_number: Person,
    rt: RuntimeDep,
    settings: Settings,
    file: Annotated[UploadFile, File(description="头像照片（JPEG）")],
) -> dict[str, Any]:
    assert rt.objects is not None
    data = await _read_limited(file, settings.person_upload_max_bytes)
    # refused at once when locked, before the (slow) photo check
    checked = await profile_app.ensure_head_photo_changeable(rt.store, id_number)
    check = await asyncio.to_thread(check_head_photo, data, settings.photo_rules())
    if not check.ok:
        raise DomainError(
            "头像不符合要求：" + "；".join(p.message for p in check),
            code="head_photo_rejected",
            details=[{"rule": p.rule, "code": p.code, "message": p.message} for p in check],
        )
    stored = await profile_app.upload_document(
        rt.store,
        rt.objects,
        id_number=id_number,
        document=domain.HEAD_PHOTO,
        data=data,
        content_type="image/jpeg",
        checked=checked,
    )
    return {"document": domain.HEAD_PHOTO, "size": stored["size"], "measurements": check.measurements}


@router.put("/id-card/{side}", summary="上传我的身份证照片（front 正面 / back 反面；JPEG 或 PNG）")
async def upload_id_card(
    side: Literal["front", "back"],
    id_number: Person,
    rt: RuntimeDep,
    settings: Settings,
    file: Annotated[UploadFile, File(description="身份证照片（JPEG 或 PNG）")],
) -> dict[str, Any]:
    assert rt.objects is not None
    data = await _read_limited(file, settings.person_upload_max_bytes)
    document = domain.ID_CARD_SIDES[side]
    # the whole image decoded (a corrupt or truncated file, or one over the pixel bound, is refused) before
    # anything is stored
    checked = await asyncio.to_thread(
        documents.check_document,
        data,
        label=f"{domain.DOCUMENTS[document]}照片",
        allowed=documents.IMAGES,
        max_pixels=settings.max_image_pixels,
    )
    stored = await profile_app.upload_document(
        rt.store,
        rt.objects,
        id_number=id_number,
        document=document,
        data=data,
        content_type=checked.content_type,
    )
    return {"document": document, "content_type": stored["content_type"], "size": stored["size"]}
