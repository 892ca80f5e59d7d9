"""`/api/notifications/inbox…`: the caller's own messages (its principal's: its enterprise, institution or ID
number). A message of another principal is "not found" (404), never "forbidden": its existence is not told."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from servicekit.errors import NotFound

from ...api.deps import CurrentSession
from ..adapters.store import MessageStore
from ..domain.rules import CHINA, principal_of

router = APIRouter(prefix="/api/notifications/inbox", tags=["站内消息"])

PAGE_SIZE = 20


class InboxMessage(BaseModel):
    id: str
    kind: str = Field(description="消息类型，如 registration_approved、exam_scheduled")
    title: str
    body: str
    read: bool
    occurred_at: datetime = Field(description="事件发生时间（北京时间）")
    created_at: datetime = Field(description="消息生成时间（北京时间）")
    read_at: datetime | None = None


class InboxPage(BaseModel):
    items: list[InboxMessage]
    total: int
    page: int
    page_size: int
    unread: int


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


def store_of(request: Request) -> MessageStore:
    store: MessageStore | None = getattr(request.app.state, "notification_store", None)
    if store is None:
        raise RuntimeError("notifications are not started")
    return store


def _china(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(CHINA)


def to_message(doc: dict[str, Any]) -> InboxMessage:
    created = _china(doc.get("created_at")) or datetime.now(CHINA)
    return InboxMessage(
        id=str(doc["_id"]),
        kind=str(doc.get("kind", "")),
        title=str(doc.get("title", "")),
        body=str(doc.get("body", "")),
        read=bool(doc.get("read")),
        occurred_at=_china(doc.get("occurred_at")) or created,
        created_at=created,
        read_at=_china(doc.get("read_at")),
    )


@router.get("", response_model=InboxPage, summary="我的站内消息（最新在前，可只看未读）")
async def inbox(
    request: Request,
    session: CurrentSession,
    unread: Annotated[bool, Query(description="true：只看未读消息")] = False,
    page: Annotated[int, Query(ge=1, le=10_000, description="页码，从 1 开始，每页 20 条")] = 1,
) -> InboxPage:
    store = store_of(request)
    recipient = principal_of(session.identity)
    docs, total = await store.inbox(recipient, unread_only=unread, page=page, page_size=PAGE_SIZE)
    unread_count = total if unread else await store.unread_count(recipient)
    return InboxPage(
        items=[to_message(d) for d in docs], total=total, page=page, page_size=PAGE_SIZE, unread=unread_count
    )


@router.get("/unread-count", response_model=UnreadCount, summary="我的未读消息数（页头铃铛轮询）")
async def unread_count(request: Request, session: CurrentSession) -> UnreadCount:
    return UnreadCount(unread=await store_of(request).unread_count(principal_of(session.identity)))


@router.post("/read-all", response_model=MarkedRead, summary="全部标为已读")
async def read_all(request: Request, session: CurrentSession) -> MarkedRead:
    marked = await store_of(request).mark_all_read(principal_of(session.identity), datetime.now(UTC))
    return MarkedRead(marked=marked)


@router.post("/{message_id}/read", response_model=MarkedRead, summary="把一条消息标为已读")
async def read_one(
    request: Request,
    session: CurrentSession,
    message_id: Annotated[str, Path(min_length=1, max_length=64, description="消息编号")],
) -> MarkedRead:
    found = await store_of(request).mark_read(principal_of(session.identity), message_id, datetime.now(UTC))
    if not found:
        raise NotFound("没有这条消息（或它不属于当前账号）", code="notification_not_found")
    return MarkedRead(marked=1)
