"""`/api/<service>/admin/dead-letters`: the administrator's view of a service's dead letters, and replay.

Every service mounts it (`servicekit.app.create_app`). It lists what `python -m servicekit.dlq list` shows,
from the service's own database, so a page answers at once:

- **Kafka letters** (other contexts' events this service's consumer groups gave up on): the marks in
  `dead_letter_marks` (one per group and original record, written when the record went to `<topic>.dlq`);
- **store letters** (the service's own events its projections gave up on): `dead_letters`.

Nothing of the event's payload is shown, and the error text is masked as log lines are
(`servicekit.logging.mask_personal_data`): an error may quote an ID number, a mobile or a name.

Replaying is idempotent. A Kafka letter is published again to its original topic once (the mark records
`replayed_at`; a second request answers with the same state); if it fails again it becomes a new letter
(a new offset). A store letter is flagged for replay; the service's leader applies it again soon
(`StoreSubscription.replay_dead_letters`), then it shows as replayed.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from . import dlq
from .auth import Identity, Role, require_roles
from .errors import NotFound
from .logging import mask_personal_data
from .mongo import Database
from .paging import Paging
from .runtime import ServiceRuntime
from .subscription import STORE_DEAD_LETTERS

Source = Literal["kafka", "store"]
LetterState = Literal["pending", "replay_requested", "replayed"]

STATE_LABELS: dict[str, str] = {"pending": "待处理", "replay_requested": "已请求重放", "replayed": "已重放"}
SOURCE_LABELS: dict[str, str] = {"kafka": "其他服务的事件（Kafka）", "store": "本服务自身的事件（事件存储）"}
_KAFKA, _STORE = "k", "s"


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]
RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]


class DeadLetterView(BaseModel):
    id: str = Field(description="死信编号（用于重放）")
    source: Source = Field(description="kafka：其他服务的事件；store：本服务自身事件的投影")
    source_label: str
    topic: str = Field(description="原主题（store 来源为本服务的事件存储）")
    consumer: str = Field(description="放弃处理的消费组或订阅")
    event_id: str
    event_type: str
    attempts: int
    seen: int = Field(description="再次遇到的次数（含首次）")
    failed_at: datetime | None
    last_seen_at: datetime | None
    error: str = Field(description="错误信息（个人信息已脱敏）")
    state: LetterState
    state_label: str
    replayed_at: datetime | None = None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterView]
    total: int
    topics: list[str] = Field(description="本服务死信涉及的全部主题（筛选用）")


class ReplayAnswer(BaseModel):
    id: str
    state: LetterState
    state_label: str
    replayed_now: bool = Field(description="本次请求是否执行了重放（重复请求为 false）")
    message: str


def _encode(kind: str, key: str) -> str:
    return kind + "." + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode(letter_id: str) -> tuple[str, str]:
    kind, _, encoded = letter_id.partition(".")
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if kind not in (_KAFKA, _STORE) or not key:
        raise NotFound("没有该死信", code="dead_letter_not_found")
    return kind, key


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _kafka_view(mark: dict[str, Any]) -> DeadLetterView:
    if mark.get("replayed_at"):
        state = "replayed"
    elif mark.get("replay_started_at"):
        state = "replay_requested"
    else:
        state = "pending"
    return DeadLetterView(
        id=_encode(_KAFKA, str(mark["_id"])),
        source="kafka",
        source_label=SOURCE_LABELS["kafka"],
        topic=str(mark.get("topic") or ""),
        consumer=str(mark.get("group") or ""),
        event_id=str(mark.get("event_id") or ""),
        event_type=str(mark.get("type") or ""),
        attempts=int(mark.get("attempts") or 0),
        seen=int(mark.get("seen") or 1),
        failed_at=_time(mark.get("first_failed_at")),
        last_seen_at=_time(mark.get("last_seen_at")),
        error=mask_personal_data(str(mark.get("last_error") or "")),
        state=state,
        state_label=STATE_LABELS[state],
        replayed_at=_time(mark.get("replayed_at")),
    )


def _store_view(letter: dict[str, Any], own_topic: str) -> DeadLetterView:
    if letter.get("replayed"):
        state = "replayed"
    elif letter.get("replay"):
        state = "replay_requested"
    else:
        state = "pending"
    return DeadLetterView(
        id=_encode(_STORE, str(letter["_id"])),
        source="store",
        source_label=SOURCE_LABELS["store"],
        topic=own_topic,
        consumer=str(letter.get("subscription") or ""),
        event_id=str(letter.get("event_id") or ""),
        event_type=str(letter.get("type") or ""),
        attempts=int(letter.get("attempts") or 0),
        seen=int(letter.get("seen") or 1),
        failed_at=_time(letter.get("failed_at")),
        last_seen_at=_time(letter.get("last_seen_at")),
        error=mask_personal_data(str(letter.get("last_error") or letter.get("error") or "")),
        state=state,
        state_label=STATE_LABELS[state],
        replayed_at=_time(letter.get("replayed_at")),
    )


def _state_query(source: Source, state: LetterState | None) -> dict[str, Any]:
    if state is None:
        return {}
    queries: dict[str, dict[str, Any]]
    if source == "kafka":
        queries = {
            "pending": {"replayed_at": None, "replay_started_at": None},
            "replay_requested": {"replayed_at": None, "replay_started_at": {"$ne": None}},
            "replayed": {"replayed_at": {"$ne": None}},
        }
    else:
        queries = {
            "pending": {"replayed": {"$ne": True}, "replay": {"$ne": True}},
            "replay_requested": {"replayed": {"$ne": True}, "replay": True},
            "replayed": {"replayed": True},
        }
    return queries[state]


def dead_letters_router(service: str) -> APIRouter:
    """The admin-only dead-letter endpoints of `service` (under `/api/<service>/admin`)."""
    router = APIRouter(prefix=f"/api/{service}/admin", tags=["运维：死信"])
    own_topic = f"{service}（事件存储）"

    @router.get(
        "/dead-letters",
        response_model=DeadLetterPage,
        summary="死信列表（仅管理员；按主题、来源、状态筛选，最新的在前）",
        operation_id=f"{service}_admin_dead_letters",
    )
    async def list_dead_letters(
        _: Admin,
        runtime: RuntimeDep,
        page: Paging,
        topic: Annotated[str | None, Query(max_length=200, description="原主题")] = None,
        source: Annotated[Source | None, Query(description="kafka 或 store")] = None,
        state: Annotated[LetterState | None, Query(description="待处理、已请求重放或已重放")] = None,
    ) -> DeadLetterPage:
        db = runtime.db
        wanted = page.skip + page.limit
        kafka_query: dict[str, Any] = {"published": True, **_state_query("kafka", state)}
        if topic:
            kafka_query["topic"] = topic
        views: list[DeadLetterView] = []
        total = 0
        if source in (None, "kafka"):
            marks = db[dlq.DEAD_LETTER_MARKS]
            total += await marks.count_documents(kafka_query)
            cursor = marks.find(kafka_query).sort([("first_failed_at", -1), ("_id", 1)]).limit(wanted)
            views += [_kafka_view(m) async for m in cursor]
        if source in (None, "store") and (not topic or topic == own_topic):
            store_query = _state_query("store", state)
            letters = db[STORE_DEAD_LETTERS]
            total += await letters.count_documents(store_query)
            cursor = letters.find(store_query).sort([("failed_at", -1), ("_id", 1)]).limit(wanted)
            views += [_store_view(d, own_topic) async for d in cursor]
        oldest = datetime.min.replace(tzinfo=UTC)
        views.sort(key=lambda v: (v.failed_at or oldest, v.id), reverse=True)
        topics = sorted(str(t) for t in await db[dlq.DEAD_LETTER_MARKS].distinct("topic") if t)
        if await db[STORE_DEAD_LETTERS].count_documents({}, limit=1):
            topics.append(own_topic)
        return DeadLetterPage(items=views[page.skip : wanted], total=total, topics=topics)

    @router.post(
        "/dead-letters/{letter_id}/replay",
        response_model=ReplayAnswer,
        summary="重放一条死信（仅管理员；重复请求不会再次重放）",
        operation_id=f"{service}_admin_replay_dead_letter",
    )
    async def replay_dead_letter(
        letter_id: str,
        _: Admin,
        runtime: RuntimeDep,
    ) -> ReplayAnswer:
        kind, key = _decode(letter_id)
        if kind == _STORE:
            return await _replay_store(runtime.db, letter_id, key)
        return await _replay_kafka(runtime, letter_id, key)

    return router


async def _replay_store(db: Database, letter_id: str, key: str) -> ReplayAnswer:
    letters = db[STORE_DEAD_LETTERS]
    flagged = await letters.update_one(
        {"_id": key, "replayed": {"$ne": True}, "replay": {"$ne": True}}, {"$set": {"replay": True}}
    )
    letter = await letters.find_one({"_id": key})
    if letter is None:
        raise NotFound("没有该死信", code="dead_letter_not_found")
    view = _store_view(letter, "")
    message = (
        "已请求重放：本服务的投影稍后重新处理该事件" if view.state == "replay_requested" else "该死信已重放"
    )
    return ReplayAnswer(
        id=letter_id,
        state=view.state,
        state_label=view.state_label,
        replayed_now=flagged.modified_count == 1,
        message=message,
    )


async def _replay_kafka(runtime: ServiceRuntime, letter_id: str, key: str) -> ReplayAnswer:
    marks = runtime.db[dlq.DEAD_LETTER_MARKS]
    now = datetime.now(UTC)
    claimed = await marks.update_one(
        {"_id": key, "published": True, "replayed_at": None, "replay_started_at": None},
        {"$set": {"replay_started_at": now}},
    )
    mark = await marks.find_one({"_id": key, "published": True})
    if mark is None:
        raise NotFound("没有该死信", code="dead_letter_not_found")
    if claimed.modified_count == 1:
        try:
            await dlq.replay_letter(runtime.settings, dlq.dlq_topic_of(str(mark["topic"])), key)
        except Exception:
            await marks.update_one({"_id": key}, {"$set": {"replay_started_at": None}})
            raise
        # published again (or the dead-letter topic no longer holds it): either way nothing is left to replay
        await marks.update_one({"_id": key}, {"$set": {"replayed_at": datetime.now(UTC)}})
        mark = await marks.find_one({"_id": key}) or mark
    view = _kafka_view(mark)
    done = "已重新发布到原主题，失败的消费组将再次处理" if claimed.modified_count else "该死信已重放"
    message = {
        "replayed": done,
        "replay_requested": "重放正在进行，请稍后刷新",
        "pending": "尚未重放",
    }[view.state]
    return ReplayAnswer(
        id=letter_id,
        state=view.state,
        state_label=view.state_label,
        replayed_now=claimed.modified_count == 1,
        message=message,
    )
