"""The feeds' request and answer models (zh-CN descriptions: they appear in the merged API docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class FeedEvent(BaseModel):
    cursor: str = Field(description="该事件在事件日志中的序号；作为下一次请求的 after 即从其后继续")
    id: str = Field(description="事件 id（接收方据此去重）")
    type: str = Field(description="事件类型，如 enrollment.ApplicantQualified.v1")
    source: str
    time: str = Field(description="事件发生时间（RFC 3339，UTC）")
    subject: str
    specversion: str = "1.0"
    data: dict[str, Any] = Field(description="事件内容（已按接收方角色脱敏，不含对象存储位置）")


class FeedPage(BaseModel):
    events: list[FeedEvent]
    cursor: str = Field(description="下一次请求的 after（没有新事件时不变或前移，不会跳过您范围内的事件）")
    scope: str = Field(description="本账号可见的范围：province、city:<城市>、institution:<机构 id>")


class WebhookCreate(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="接收地址（https://）")
    secret: str | None = Field(
        default=None, max_length=256, description="签名密钥（至少 32 个字符）；留空则由平台生成并只显示一次"
    )
    description: str = Field(default="", max_length=200, description="备注")
    from_start: bool = Field(default=False, description="是否从事件日志开头投递（默认只投递登记之后的事件）")
    max_attempts: int | None = Field(
        default=None, ge=1, le=50, description="每个事件最多尝试次数（不超过平台上限 WEBHOOK_MAX_ATTEMPTS）"
    )


class CurrentDelivery(BaseModel):
    cursor: str
    event_id: str
    attempts: int
    next_at: datetime | None = None


class Webhook(BaseModel):
    id: str
    owner_account_id: str
    owner_username: str
    role: str
    role_label: str
    owner: str = Field(description="订阅范围的所有者：province、城市或机构 id")
    scope: str
    url: str
    description: str
    secret_hint: str = Field(description="签名密钥末 4 位（密钥只在登记时显示一次）")
    created_at: datetime
    cursor: str = Field(description="已处理（送达或放弃）的最后一个事件序号")
    lag: int = Field(description="尚未投递的本范围事件数（最多统计 10000）")
    max_attempts: int = Field(description="每个事件最多尝试次数，之后标记失败并继续下一个事件")
    delivered: int
    failed: int = Field(description="投递失败且尚未重新投递成功的事件数")
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    state: str = Field(description="ok | retrying | failing")
    state_label: str
    current: CurrentDelivery | None = None


class WebhookCreated(BaseModel):
    webhook: Webhook
    secret: str = Field(description="签名密钥：只在此次响应中返回，请妥善保存")
    secret_generated: bool


class Delivery(BaseModel):
    id: str = Field(description="投递记录 id（即事件序号 cursor）")
    cursor: str
    event_id: str
    event_type: str
    status: str = Field(description="pending | delivered | failed | queued")
    status_label: str
    attempts: int
    status_code: int | None = None
    error: str | None = None
    duration_ms: float | None = None
    at: datetime | None = None
    next_at: datetime | None = None
    replays: int = 0


class DeliveryList(BaseModel):
    webhook: Webhook
    deliveries: list[Delivery]
