"""`/api/feeds/…`: the pull feed (long-poll, Server-Sent Events) and webhook subscriptions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from servicekit.auth import ROLE_LABELS, Identity, Role, require_roles
from servicekit.mongo import Document

from ..domain.audience import FEED_ROLES, audience_of, format_cursor, parse_cursor
from ..domain.messages import feed_message
from ..domain.webhooks import STATUS_LABELS, DeliveryStatus, secret_hint
from .context import FeedsContext, get_feeds
from .schemas import (
    CurrentDelivery,
    Delivery,
    DeliveryList,
    FeedEvent,
    FeedPage,
    Webhook,
    WebhookCreate,
    WebhookCreated,
)

router = APIRouter(prefix="/api/feeds", tags=["事件订阅与 Webhook"])

Reader = Annotated[Identity, Depends(require_roles(*FEED_ROLES))]
Feeds = Annotated[FeedsContext, Depends(get_feeds)]


@router.get(
    "/events",
    response_model=FeedPage,
    summary="按游标读取本账号范围内的事件（可长轮询）",
    description=(
        "返回 after 之后、本账号范围内的事件（按序号升序，最多 limit 条）。wait>0 时若暂无事件则等待，"
        "直到有新事件或 wait 秒后返回空列表。把返回的 cursor 作为下一次的 after，断线后从该游标继续，"
        "不会丢失也不会重复。管理员看到全省事件，市级审核员看到本市企业及其人员的事件，培训机构看到本机构"
        "学员、订单、考场、证书的事件；个人信息按角色脱敏。"
    ),
)
async def read_events(
    identity: Reader,
    feeds: Feeds,
    response: Response,
    after: Annotated[
        str | None, Query(max_length=20, description="上一次返回的 cursor（为空则从头）")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="最多返回条数")] = 100,
    wait: Annotated[float, Query(ge=0, le=30, description="无事件时最多等待的秒数（长轮询）")] = 0,
) -> FeedPage:
    audience = audience_of(identity)
    limit = min(limit, feeds.settings.max_limit)
    wait = min(wait, feeds.settings.max_wait_seconds)
    page = await feeds.feed.page(audience, parse_cursor(after), limit, wait)
    response.headers["Cache-Control"] = "no-store"
    return FeedPage(
        events=[FeedEvent(**event) for event in page.events],
        cursor=format_cursor(page.cursor),
        scope=audience.scope,
    )


@router.get(
    "/events/stream",
    summary="以 Server-Sent Events 推送本账号范围内的事件",
    description=(
        "text/event-stream：每个事件一条消息（id 为游标，event 为事件类型，data 为与 /events 相同的 JSON），"
        "空闲时定期发送注释行作为心跳。断线重连时浏览器会带上 Last-Event-ID，从其后继续；也可用 after 指定。"
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    identity: Reader,
    feeds: Feeds,
    after: Annotated[str | None, Query(max_length=20, description="从该游标之后开始")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    audience = audience_of(identity)
    start = parse_cursor(last_event_id if last_event_id not in (None, "") else after)
    settings = feeds.settings

    async def events() -> AsyncIterator[bytes]:
        cursor = start
        yield b"retry: 3000\n: connected\n\n"
        loop = asyncio.get_running_loop()
        beat_at = loop.time() + settings.heartbeat_seconds
        while True:
            if await request.is_disconnected():
                return
            head = await feeds.log.head()
            entries = await feeds.log.read(audience.scope, cursor, 100)
            for entry in entries:
                message = feed_message(entry, audience.role)
                data = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
                yield f"id: {message['cursor']}\nevent: {message['type']}\ndata: {data}\n\n".encode()
                cursor = int(entry["_id"])
            if entries:
                beat_at = loop.time() + settings.heartbeat_seconds
                continue
            remaining = beat_at - loop.time()
            if remaining <= 0:
                yield b": heartbeat\n\n"
                beat_at = loop.time() + settings.heartbeat_seconds
                continue
            await feeds.watcher.wait_beyond(head, min(remaining, 5.0))

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------------- webhooks


async def _webhook(feeds: FeedsContext, doc: Document) -> Webhook:
    current = doc.get("current")
    failed = int(doc.get("failed", 0))
    if current:
        state, label = "retrying", f"重试中（第 {int(current.get('attempts', 0))} 次失败）"
    elif failed > 0:
        state, label = "failing", f"有 {failed} 条投递失败"
    else:
        state, label = "ok", "正常"
    return Webhook(
        id=doc["_id"],
        owner_account_id=doc["owner_account_id"],
        owner_username=doc.get("owner_username", ""),
        role=doc["role"],
        role_label=ROLE_LABELS[Role(doc["role"])],
        owner=doc["owner"],
        scope=doc["scope"],
        url=doc["url"],
        description=doc.get("description", ""),
        secret_hint=secret_hint(doc["secret"]),
        created_at=doc["created_at"],
        cursor=format_cursor(int(doc["cursor"])),
        lag=await feeds.subscriptions.lag(doc),
        max_attempts=int(doc.get("max_attempts") or feeds.settings.max_attempts),
        delivered=int(doc.get("delivered", 0)),
        failed=failed,
        last_success_at=doc.get("last_success_at"),
        last_failure_at=doc.get("last_failure_at"),
        last_error=doc.get("last_error"),
        state=state,
        state_label=label,
        current=(
            CurrentDelivery(
                cursor=format_cursor(int(current["seq"])),
                event_id=current["event_id"],
                attempts=int(current.get("attempts", 0)),
                next_at=current.get("next_at"),
            )
            if current
            else None
        ),
    )


def _delivery(doc: Document) -> Delivery:
    status_value = DeliveryStatus(doc.get("status", DeliveryStatus.PENDING.value))
    return Delivery(
        id=format_cursor(int(doc["seq"])),
        cursor=format_cursor(int(doc["seq"])),
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        status=status_value.value,
        status_label=STATUS_LABELS[status_value],
        attempts=int(doc.get("attempts", 0)),
        status_code=doc.get("status_code"),
        error=doc.get("error"),
        duration_ms=doc.get("duration_ms"),
        at=doc.get("at"),
        next_at=doc.get("next_at"),
        replays=int(doc.get("replays", 0)),
    )


WebhookId = Annotated[str, Path(min_length=1, max_length=64, description="接收地址 id")]


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="登记接收地址（Webhook）",
    description=(
        "登记后平台把本账号范围内的每个事件以 POST 投递到该地址，并用签名密钥签名（见文档 feeds-webhooks）。"
        "地址必须为 https://（非生产环境允许 http://127.0.0.1 / localhost）；密钥至少 32 个字符，留空由平台"
        "生成。密钥只在本次响应中返回。"
    ),
)
async def create_webhook(
    body: WebhookCreate, identity: Reader, feeds: Feeds, response: Response
) -> WebhookCreated:
    created = await feeds.subscriptions.create(
        identity,
        url=body.url,
        secret=body.secret,
        description=body.description,
        from_start=body.from_start,
        max_attempts=body.max_attempts,
    )
    response.headers["Cache-Control"] = "no-store"
    return WebhookCreated(
        webhook=await _webhook(feeds, created.subscription),
        secret=created.secret,
        secret_generated=created.generated,
    )


@router.get(
    "/webhooks",
    response_model=list[Webhook],
    summary="接收地址列表（管理员看到全部，其他账号只看到自己登记的）",
)
async def list_webhooks(identity: Reader, feeds: Feeds) -> list[Webhook]:
    return [await _webhook(feeds, doc) for doc in await feeds.subscriptions.list_for(identity)]


@router.get("/webhooks/{webhook_id}", response_model=Webhook, summary="一个接收地址的状态")
async def get_webhook(webhook_id: WebhookId, identity: Reader, feeds: Feeds) -> Webhook:
    return await _webhook(feeds, await feeds.subscriptions.get(identity, webhook_id))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除接收地址（停止投递，投递记录一并删除）",
)
async def delete_webhook(webhook_id: WebhookId, identity: Reader, feeds: Feeds) -> Response:
    await feeds.subscriptions.delete(identity, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryList,
    summary="最近的投递记录（新的在前）",
)
async def list_deliveries(
    webhook_id: WebhookId,
    identity: Reader,
    feeds: Feeds,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    status_filter: Annotated[DeliveryStatus | None, Query(alias="status", description="只看某种状态")] = None,
) -> DeliveryList:
    subscription, deliveries = await feeds.subscriptions.deliveries(
        identity, webhook_id, limit=limit, status=status_filter.value if status_filter else None
    )
    return DeliveryList(
        webhook=await _webhook(feeds, subscription), deliveries=[_delivery(d) for d in deliveries]
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Delivery,
    summary="重新投递一条失败的投递（管理员或登记该地址的账号）",
    description="受理后状态为 queued（等待重新投递），随后由投递任务按重试规则重新发送。",
)
async def replay_delivery(
    webhook_id: WebhookId,
    delivery_id: Annotated[str, Path(pattern=r"^[0-9]{1,18}$", description="投递记录 id（事件序号）")],
    identity: Reader,
    feeds: Feeds,
) -> Delivery:
    return _delivery(await feeds.subscriptions.replay(identity, webhook_id, int(delivery_id)))
