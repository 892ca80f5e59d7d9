"""Webhook subscriptions: register, list, remove, deliveries, replay — each owner its own, the admin all."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from servicekit.auth import Identity, Role
from servicekit.errors import Conflict, Forbidden, NotFound
from servicekit.mongo import Document

from ..domain.audience import audience_of
from ..domain.webhooks import DeliveryStatus, InvalidWebhook, validate_secret, validate_url
from ..settings import FeedSettings
from .ports import FeedReader, Webhooks


@dataclass(frozen=True)
class Created:
    subscription: Document
    secret: str
    generated: bool


class SubscriptionService:
    def __init__(
        self, settings: FeedSettings, webhooks: Webhooks, reader: FeedReader, wake: Any = None
    ) -> None:
        self.settings = settings
        self.webhooks = webhooks
        self.reader = reader
        self.wake = wake or (lambda subscription_id=None: None)

    async def create(
        self,
        identity: Identity,
        *,
        url: str,
        secret: str | None,
        description: str,
        from_start: bool,
        max_attempts: int | None = None,
    ) -> Created:
        audience = audience_of(identity)
        checked_url = validate_url(url, allow_local_http=self.settings.local_http_allowed)
        if max_attempts is not None and not 1 <= max_attempts <= self.settings.max_attempts:
            raise InvalidWebhook(
                f"最多尝试次数应在 1 到 {self.settings.max_attempts} 之间", code="webhook_attempts_invalid"
            )
        generated = not (secret or "").strip()
        checked_secret = secrets.token_urlsafe(32) if generated else validate_secret(secret or "")
        if await self.webhooks.count_of(identity.account_id) >= self.settings.max_per_owner:
            raise Conflict(
                f"每个账号最多登记 {self.settings.max_per_owner} 个接收地址，请先删除不再使用的",
                code="webhook_limit",
            )
        document: dict[str, Any] = {
            "_id": uuid4().hex,
            "owner_account_id": identity.account_id,
            "owner_username": identity.username,
            "role": audience.role.value,
            "owner": audience.owner,
            "scope": audience.scope,
            "url": checked_url,
            "secret": checked_secret,
            "description": description.strip()[:200],
            "created_at": datetime.now(UTC),
            "max_attempts": max_attempts,
            "cursor": 0 if from_start else await self.reader.head(),
            "delivered": 0,
            "failed": 0,
            "last_success_at": None,
            "last_failure_at": None,
            "last_error": None,
            "current": None,
        }
        await self.webhooks.insert(document)
        self.wake(document["_id"])
        return Created(document, checked_secret, generated)

    async def list_for(self, identity: Identity) -> list[Document]:
        audience_of(identity)
        owner = None if identity.role is Role.ADMIN else identity.account_id
        return await self.webhooks.list_all(owner)

    async def get(self, identity: Identity, subscription_id: str) -> Document:
        audience_of(identity)
        found = await self.webhooks.get(subscription_id)
        if found is None:
            raise NotFound("接收地址不存在或已删除", code="webhook_not_found")
        if identity.role is not Role.ADMIN and found["owner_account_id"] != identity.account_id:
            raise Forbidden("无权查看或管理其他账号登记的接收地址", code="not_owner")
        return found

    async def delete(self, identity: Identity, subscription_id: str) -> None:
        await self.get(identity, subscription_id)
        await self.webhooks.delete(subscription_id)
        self.wake(subscription_id)

    async def lag(self, subscription: Document) -> int:
        return await self.reader.count_after(subscription["scope"], int(subscription["cursor"]), cap=10_000)

    async def deliveries(
        self, identity: Identity, subscription_id: str, *, limit: int, status: str | None
    ) -> tuple[Document, list[Document]]:
        subscription = await self.get(identity, subscription_id)
        return subscription, await self.webhooks.deliveries(subscription_id, limit, status)

    async def replay(self, identity: Identity, subscription_id: str, seq: int) -> Document:
        await self.get(identity, subscription_id)
        queued = await self.webhooks.queue_replay(subscription_id, seq)
        if queued is None:
            existing = await self.webhooks.delivery(subscription_id, seq)
            if existing is None:
                raise NotFound("该投递记录不存在（可能已超出保留的最近记录）", code="delivery_not_found")
            if existing.get("status") == DeliveryStatus.QUEUED.value:
                return existing  # asked twice: the first request stands
            raise Conflict("只有投递失败的记录可以重新投递", code="delivery_not_failed")
        self.wake(subscription_id)
        return queued
