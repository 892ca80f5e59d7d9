"""HTTP API of candidates: lists and schedules, check-in (face check, proctor override) and the timed exam
(start, paper, autosave, submit, result)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles, scope_filter
from servicekit.errors import Conflict, NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.paging import BoundedModel, Paging

from ..application import answers as answer_sheets
from ..application import attempts, checkin
from ..application.context import ExamRules
from ..domain.candidate import Result, result_view
from ..projections.candidates import CANDIDATES
from .deps import Now, Objects, Rules, Settings, candidate_view, visible_candidate
from .live import live_check_settings

router = APIRouter(prefix="/api/exam", tags=["考生与考试"])

Person = Annotated[Identity, Depends(require_roles(Role.PERSON))]
Enterprise = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]
Institution = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
Manager = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.ADMIN))]
CheckInOperator = Annotated[Identity, Depends(require_roles(Role.INSTITUTION, Role.PERSON))]
Viewer = Annotated[
    Identity, Depends(require_roles(Role.PERSON, Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN))
]


class Answers(BoundedModel):
    answers: dict[str, list[int]] = Field(description="全部已作答的题：试题编号 → 所选选项序号（从 0 开始）")
    save_no: int | None = Field(
        default=None,
        ge=0,
        description=(
            "可选：上一次保存返回的 save_no；若其后已有别的保存（如另一页面），"
            "本次不写入，返回 409 stale_save"
        ),
    )


class Submission(BoundedModel):
    answers: dict[str, list[int]] | None = Field(default=None, description="交卷时一并提交的全部答案（可选）")


class Override(BoundedModel):
    reason: str = Field(
        max_length=500, description="人工放行原因（至少 5 个字，如“已核对身份证原件，本人无误”）"
    )


def _timing(view: dict[str, Any], rules: ExamRules) -> dict[str, Any]:
    """Every answer about the exam's time says whether demo timing (EXAM_DEMO_TIMING) is on: a 10-minute
    exam must never pass for the real rule."""
    view["demo_timing"] = rules.demo_timing
    if rules.demo_timing:
        view["demo_timing_label"] = (
            f"演示计时：考试 {rules.duration_minutes} 分钟，开考 "
            f"{int(rules.timing.earliest_submit.total_seconds() // 60)} 分钟后可交卷（非正式考试规则）"
        )
    return view


def _result(result: Result, rules: ExamRules) -> dict[str, Any]:
    return _timing(result_view(result), rules)


def _schedule_item(doc: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "applicant_id",
        "enterprise_id",
        "institution_id",
        "name",
        "position",
        "specialisation",
        "retake",
        "status",
        "status_label",
        "session",
        "attempt_id",
        "started_at",
        "deadline",
        "result",
        "score",
        "pass_mark",
        "full_marks",
        "submitted_at",
        "automatic",
        "applied_at",
    )
    return {"candidate_id": doc["_id"], **{k: doc.get(k) for k in keep}}


@router.get("/candidates", summary="考生列表：培训机构看本机构的，管理员看全部（可按状态、考场、岗位筛选）")
async def list_candidates(
    identity: Manager,
    rt: RuntimeDep,
    page: Paging,
    status: str | None = Query(
        default=None, description="schedulable / scheduled / verified / in_exam / passed / failed"
    ),
    session_id: str | None = Query(default=None, max_length=64),
    position: str | None = Query(default=None, max_length=20),
    applicant_id: str | None = Query(default=None, max_length=64),
    id_number: str | None = Query(default=None, max_length=18),
) -> dict[str, Any]:
    query: dict[str, Any] = {**scope_filter(identity, enterprise=None), "applied_at": {"$exists": True}}
    for name, value in (
        ("status", status),
        ("session_id", session_id),
        ("position", position),
        ("applicant_id", applicant_id),
        ("id_number", id_number),
    ):
        if value:
            query[name] = value
    cursor = page.apply(rt.db[CANDIDATES].find(query).sort("applied_at", -1))
    items = await _with_progress(rt, [candidate_view(d) async for d in cursor])
    return {"items": items, "total": await rt.db[CANDIDATES].count_documents(query)}


async def _with_progress(rt: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attempts' answered count and last save, from their answer sheets (autosaves are no events)."""
    found = await answer_sheets.progress(rt.db, (i["candidate_id"] for i in items if i.get("attempt_id")))
    for item in items:
        item.update(found.get(item["candidate_id"], {}))
    return items


@router.get("/candidates/{candidate_id}", summary="考生详情（本人、所在企业、培训机构、管理员）")
async def get_candidate(candidate_id: str, identity: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    [item] = await _with_progress(rt, [candidate_view(await visible_candidate(rt, candidate_id, identity))])
    return item


@router.get("/me/schedule", summary="我的考试安排与成绩（学员本人；含补考历史）")
async def my_schedule(identity: Person, rt: RuntimeDep) -> dict[str, Any]:
    query = {"id_number": identity.org_id or "-", "applied_at": {"$exists": True}}
    items = [_schedule_item(d) async for d in rt.db[CANDIDATES].find(query).sort("applied_at", -1)]
    return {"items": items}


@router.get("/schedules", summary="本企业人员的考试安排与成绩（企业）")
async def enterprise_schedules(
    identity: Enterprise,
    rt: RuntimeDep,
    page: Paging,
    status: str | None = Query(default=None, max_length=20),
    applicant_id: str | None = Query(default=None, max_length=64),
) -> dict[str, Any]:
    query: dict[str, Any] = {"enterprise_id": identity.org_id or "-", "applied_at": {"$exists": True}}
    if status:
        query["status"] = status
    if applicant_id:
        query["applicant_id"] = applicant_id
    cursor = page.apply(rt.db[CANDIDATES].find(query).sort("applied_at", -1))
    items = [{**_schedule_item(d), "id_number": d.get("id_number")} async for d in cursor]
    return {"items": items, "total": await rt.db[CANDIDATES].count_documents(query)}


@router.post(
    "/candidates/{candidate_id}/check-in",
    status_code=202,
    summary="入场核验：上传摄像头实时照片（JPEG），与报名头像进行人脸比对（结果异步返回）",
)
async def check_in(
    candidate_id: str,
    identity: CheckInOperator,
    rt: RuntimeDep,
    objects: Objects,
    settings: Settings,
    rules: Rules,
    now: Now,
    idem: IdempotencyDep,
    frame: Annotated[UploadFile, File(description="摄像头拍摄的实时照片（JPEG）")],
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    data = await frame.read(settings.exam_frame_max_bytes + 1)

    async def work() -> dict[str, Any]:
        accepted = await checkin.request_check(
            rt.store,
            objects,
            candidate_id,
            frame=data,
            max_bytes=settings.exam_frame_max_bytes,
            rules=rules,
            now=now,
        )
        return {**accepted, "status_url": f"/api/exam/candidates/{candidate_id}/check-in"}

    return await idem.run({"frame": data}, work)


@router.get("/candidates/{candidate_id}/check-in", summary="入场核验状态（比对结果、剩余次数）")
async def check_in_status(
    candidate_id: str, identity: Viewer, rt: RuntimeDep, rules: Rules
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    return {
        "candidate_id": candidate_id,
        **checkin.status_view(await attempts.load(rt.store, candidate_id), rules),
    }


@router.post(
    "/candidates/{candidate_id}/override",
    summary="监考人工放行（人脸核验失败次数用完或无报名头像时；须填写原因，留痕）",
)
async def proctor_override(
    candidate_id: str, body: Override, identity: Institution, rt: RuntimeDep, rules: Rules, now: Now
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    state = await checkin.override(
        rt.store,
        candidate_id,
        institution_id=identity.org_id or "",
        proctor_id=identity.account_id,
        reason=body.reason,
        rules=rules,
        now=now,
    )
    return {"candidate_id": candidate_id, **checkin.status_view(state, rules)}


@router.post(
    "/candidates/{candidate_id}/start", status_code=201, summary="开始考试（通过入场核验后；抽取试卷）"
)
async def start_exam(
    candidate_id: str, identity: Person, rt: RuntimeDep, rules: Rules, now: Now
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    state, sheet = await attempts.start(rt.store, candidate_id, rules=rules, now=now)
    view = attempts.paper_view(state, now, sheet)
    view["live_check"] = live_check_settings(rules, state.consented_at is not None)
    if state.result is not None:
        view["result"] = _result(state.result, rules)
    return _timing(view, rules)


@router.get("/candidates/{candidate_id}/paper", summary="我的试卷（不含答案）、已保存的答案与剩余时间")
async def get_paper(
    candidate_id: str, identity: Person, rt: RuntimeDep, rules: Rules, now: Now
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    state = await attempts.current(rt.store, candidate_id, rules=rules, now=now)
    if state.started is None:
        raise Conflict("考试尚未开始", code="exam_not_started")
    view = attempts.paper_view(state, now, await attempts.sheet(rt.store, state, candidate_id))
    view["live_check"] = live_check_settings(rules, state.consented_at is not None)
    if state.result is not None:
        view["result"] = _result(state.result, rules)
    return _timing(view, rules)


@router.put(
    "/candidates/{candidate_id}/answers", summary="自动保存答案（全部已作答的题；考试结束后不再接受）"
)
async def save_answers(
    candidate_id: str, body: Answers, identity: Person, rt: RuntimeDep, rules: Rules, now: Now
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    sheet = await attempts.save(
        rt.store, candidate_id, answers=body.answers, rules=rules, now=now, save_no=body.save_no
    )
    return {
        "attempt_id": sheet.attempt_id,
        "saved_at": sheet.saved_at.isoformat() if sheet.saved_at else None,
        "save_no": sheet.save_no,
        "answered": sheet.answered,
        "seconds_left": max(0, int((sheet.deadline - now).total_seconds())),
    }


@router.post(
    "/candidates/{candidate_id}/submit",
    summary="交卷（开考 30 分钟后；立即评分并返回成绩；重复交卷返回同一成绩）",
)
async def submit(
    candidate_id: str,
    identity: Person,
    rt: RuntimeDep,
    rules: Rules,
    now: Now,
    body: Submission | None = None,
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    result = await attempts.submit(
        rt.store, candidate_id, rules=rules, now=now, answers=body.answers if body else None
    )
    assert result is not None
    return _result(result, rules)


@router.get("/candidates/{candidate_id}/result", summary="考试成绩（本人、所在企业、培训机构、管理员）")
async def get_result(
    candidate_id: str, identity: Viewer, rt: RuntimeDep, rules: Rules, now: Now
) -> dict[str, Any]:
    await visible_candidate(rt, candidate_id, identity)
    state = await attempts.current(rt.store, candidate_id, rules=rules, now=now)
    if state.result is None:
        raise NotFound("尚无考试成绩", code="no_result")
    return _result(state.result, rules)
