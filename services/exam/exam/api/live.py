"""HTTP API of in-exam (dynamic) face verification (docs/live-face-checks.md): the candidate's consent and
frames, the candidate's checks, and the proctor's alerts (the institution of the session; the administrator
reads them too). Violations based on the checks go through the violation endpoint (`api.discipline`,
`live_check_id`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import DomainError, NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.mongo import Document
from servicekit.objectstore import ObjectStore
from servicekit.paging import BoundedModel

from ..application import live as handlers
from ..application.context import ExamRules, candidate_doc
from ..domain import live
from ..domain.timing import local_iso
from ..projections.candidates import CANDIDATES
from ..projections.live import LIVE_ALERTS, LIVE_STATUS
from ..projections.sessions import SESSIONS
from .deps import Now, Objects, Rules, Settings, visible_candidate

router = APIRouter(prefix="/api/exam", tags=["考试中的动态人脸核验"])

Person = Annotated[Identity, Depends(require_roles(Role.PERSON))]
Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
Manager = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]
Reader = Annotated[Identity, Depends(require_roles(Role.PERSON, Role.INSTITUTION, Role.ADMIN))]

FRAME_LINK = timedelta(minutes=5)
REASON_LABELS = {
    live.MISMATCH: "人脸与报名头像不一致",
    live.NO_FACE: "画面中未检测到人脸",
    live.SEVERAL_FACES: "画面中有多张人脸",
}
ALERT_STATE_LABELS = {"open": "待处理", "dismissed": "已忽略", "violation_recorded": "已记录违纪"}


class Consent(BoundedModel):
    consented: bool = Field(description="是否同意考试期间定时拍摄并比对人脸（须为 true）")


class Dismiss(BoundedModel):
    reason: str | None = Field(default=None, max_length=500, description="忽略原因（可选）")


def live_check_settings(rules: ExamRules, consented: bool) -> dict[str, Any]:
    """The paper's `live_check`: how often the page sends a frame, and whether the candidate consented."""
    return {
        "interval_seconds": int(rules.live.interval.total_seconds()),
        "jitter_seconds": int(rules.live.jitter.total_seconds()),
        "consented": consented,
    }


@router.post(
    "/candidates/{candidate_id}/face-consent",
    summary="同意考试中的动态人脸核验（考生本人；考试期间定时拍摄并与报名头像比对）",
)
async def face_consent(
    candidate_id: str, body: Consent, identity: Person, rt: RuntimeDep, now: Now
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    if not body.consented:
        raise DomainError(
            "须同意考试中的人脸核验后方可参加考试（照片仅用于核对考生身份，按规定期限保存后删除）",
            code="consent_required",
        )
    return await handlers.consent(rt.store, candidate_id, now=now)


@router.post(
    "/candidates/{candidate_id}/live-checks",
    status_code=202,
    summary="考试中上传摄像头实时照片（JPEG，考生本人；与报名头像比对，结果异步返回）",
)
async def send_frame(
    candidate_id: str,
    identity: Person,
    rt: RuntimeDep,
    objects: Objects,
    settings: Settings,
    rules: Rules,
    now: Now,
    idem: IdempotencyDep,
    frame: Annotated[UploadFile, File(description="考试中摄像头拍摄的实时照片（JPEG）")],
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    data = await frame.read(settings.exam_frame_max_bytes + 1)

    async def work() -> dict[str, Any]:
        return await handlers.request_check(
            rt.store,
            objects,
            candidate_id,
            frame=data,
            max_bytes=settings.exam_frame_max_bytes,
            rules=rules,
            now=now,
        )

    return await idem.run({"frame": data}, work)


@router.get(
    "/candidates/{candidate_id}/live-checks",
    summary="考试中的人脸核验记录与连续不一致次数（考生本人、本场考试的培训机构、管理员）",
)
async def list_checks(candidate_id: str, identity: Reader, rt: RuntimeDep, rules: Rules) -> dict[str, Any]:
    if identity.role is Role.INSTITUTION:  # the institution of the session (its proctor)
        await candidate_doc(rt.db, candidate_id)
        await handlers.require_session_institution(rt.store, candidate_id, identity.org_id or "")
    else:
        await visible_candidate(rt, candidate_id, identity)
    state = await handlers.load(rt.store, candidate_id)
    return {"candidate_id": candidate_id, **handlers.checks_view(state, rules)}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _visible_session(rt: Any, session_id: str, identity: Identity) -> Document:
    doc = await rt.db[SESSIONS].find_one({"_id": session_id})
    if doc is None or (identity.role is not Role.ADMIN and doc.get("institution_id") != identity.org_id):
        raise NotFound("未找到该考场", code="session_not_found")
    return dict(doc)


async def _alert_views(
    rt: Any, objects: ObjectStore, docs: list[Document], rules: ExamRules, now: datetime
) -> list[dict[str, Any]]:
    candidate_ids = sorted({d["candidate_id"] for d in docs})
    people = {
        c["_id"]: c
        async for c in rt.db[CANDIDATES].find({"_id": {"$in": candidate_ids}}, {"name": 1, "schedules": 1})
    }
    counts = {
        s["_id"]: int(s.get("consecutive_mismatches", 0))
        async for s in rt.db[LIVE_STATUS].find({"_id": {"$in": candidate_ids}})
    }
    cutoff = now - rules.live.retention
    views = []
    for doc in docs:
        person = people.get(doc["candidate_id"], {})
        seat = ((person.get("schedules") or {}).get(doc["session_id"]) or {}).get("seat")
        kept = bool(doc.get("violation_id")) or _aware(doc["at"]) >= cutoff
        count = counts.get(doc["candidate_id"], 0)
        views.append(
            {
                "alert_id": doc["_id"],
                "candidate_id": doc["candidate_id"],
                "session_id": doc["session_id"],
                "name": person.get("name"),
                "seat_no": seat,
                "check_id": doc["check_id"],
                "reason": doc["reason"],
                "reason_label": REASON_LABELS.get(doc["reason"], doc["reason"]),
                "distance": doc.get("distance"),
                "at": local_iso(doc["at"]),
                "answered_at": local_iso(doc["answered_at"]) if doc.get("answered_at") else None,
                "frame_url": await objects.presigned_get(doc["frame_key"], FRAME_LINK) if kept else None,
                "consecutive_mismatches": count,
                "violation_threshold": rules.live.violation_threshold,
                "violation_allowed": count >= rules.live.violation_threshold,
                "state": doc["state"],
                "state_label": ALERT_STATE_LABELS.get(doc["state"], doc["state"]),
                "violation_id": doc.get("violation_id"),
                "dismiss_reason": doc.get("dismiss_reason"),
            }
        )
    return views


@router.get(
    "/sessions/{session_id}/live-alerts",
    summary="考场的动态人脸核验提醒（本场考试的培训机构、管理员；最新在前，照片链接 5 分钟有效）",
)
async def live_alerts(
    session_id: str,
    identity: Manager,
    rt: RuntimeDep,
    objects: Objects,
    rules: Rules,
    now: Now,
    open_only: bool = Query(default=False, description="只看待处理的提醒"),
    limit: int = Query(default=200, ge=1, le=1000),
) -> dict[str, Any]:
    await _visible_session(rt, session_id, identity)
    query: dict[str, Any] = {"session_id": session_id}
    if open_only:
        query["state"] = "open"
    cursor = rt.db[LIVE_ALERTS].find(query).sort("at", -1).limit(limit)
    docs = [d async for d in cursor]
    return {
        "items": await _alert_views(rt, objects, docs, rules, now),
        "total": await rt.db[LIVE_ALERTS].count_documents(query),
    }


@router.post("/live-alerts/{alert_id}/dismiss", summary="忽略一条动态人脸核验提醒（本场考试的培训机构监考）")
async def dismiss_alert(
    alert_id: str,
    identity: Institution,
    rt: RuntimeDep,
    objects: Objects,
    rules: Rules,
    now: Now,
    body: Dismiss | None = None,
) -> dict[str, Any]:
    doc = await rt.db[LIVE_ALERTS].find_one({"_id": alert_id})
    if doc is None or "session_id" not in doc:
        raise NotFound("未找到该人脸核验提醒", code="live_alert_not_found")
    try:
        await _visible_session(rt, doc["session_id"], identity)
    except NotFound:
        raise NotFound("未找到该人脸核验提醒", code="live_alert_not_found") from None
    if doc.get("violation_id"):
        [view] = await _alert_views(rt, objects, [doc], rules, now)
        return view
    state = await handlers.dismiss(
        rt.store,
        doc["candidate_id"],
        alert_id,
        dismissed_by=identity.account_id,
        reason=body.reason if body else None,
        now=now,
    )
    dismissed = state.dismissed[alert_id]
    doc.update(dismissed=True, dismiss_reason=dismissed.reason, state="dismissed")
    [view] = await _alert_views(rt, objects, [doc], rules, now)
    return view
