"""Webhook subscriptions and deliveries (pure): endpoint and secret rules, the retry schedule."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from urllib.parse import urlsplit

from servicekit.errors import DomainError

MIN_SECRET_LENGTH = 32
MAX_SECRET_LENGTH = 256
MAX_URL_LENGTH = 2000
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class InvalidWebhook(DomainError):
    status = 422
    code = "webhook_invalid"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # being tried (attempts so far, next try at)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # given up after the last attempt (can be replayed)
    QUEUED = "queued"  # a replay asked for, not tried yet


STATUS_LABELS = {
    DeliveryStatus.PENDING: "投递中",
    DeliveryStatus.DELIVERED: "已送达",
    DeliveryStatus.FAILED: "失败",
    DeliveryStatus.QUEUED: "等待重新投递",
}


def validate_url(raw: str, *, allow_local_http: bool) -> str:
    """An absolute https:// URL; http:// only to 127.0.0.1 / localhost and only when allowed (outside
    production); where it is not allowed, no loopback, private or link-local address either."""
    url = raw.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook("接收地址不能为空，且不超过 2000 个字符", code="webhook_url_invalid")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidWebhook("接收地址应为完整的 https:// 地址", code="webhook_url_invalid")
    if parts.username or parts.password:
        raise InvalidWebhook("接收地址中不能包含用户名或密码", code="webhook_url_invalid")
    if parts.fragment:
        raise InvalidWebhook("接收地址中不能包含 # 片段", code="webhook_url_invalid")
    if parts.scheme == "http":
        if host not in LOCAL_HOSTS:
            raise InvalidWebhook(
                "接收地址必须使用 HTTPS（仅本机测试地址 127.0.0.1 / localhost 可使用 http）",
                code="webhook_url_not_https",
            )
        if not allow_local_http:
            raise InvalidWebhook("本环境不允许 http:// 接收地址，请使用 HTTPS", code="webhook_url_not_https")
    if not allow_local_http and is_internal_host(host):
        raise InvalidWebhook(
            "接收地址不能指向本机或内网地址，请使用业务系统对外的 HTTPS 地址", code="webhook_url_internal"
        )
    return url


def is_internal_host(host: str) -> bool:
    """`localhost`, or an IP address that is loopback, private, link-local or otherwise not public (a name is
    not resolved here: see docs/feeds-webhooks.md)."""
    name = host.strip("[]").lower()
    if name in LOCAL_HOSTS or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global


def validate_secret(raw: str) -> str:
    secret = raw.strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidWebhook(
            f"签名密钥至少 {MIN_SECRET_LENGTH} 个字符（当前 {len(secret)} 个）；留空则由平台生成",
            code="webhook_secret_too_short",
        )
    if len(secret) > MAX_SECRET_LENGTH or not secret.isascii() or not secret.isprintable():
        raise InvalidWebhook(
            f"签名密钥应为不超过 {MAX_SECRET_LENGTH} 个可打印 ASCII 字符", code="webhook_secret_invalid"
        )
    return secret


def retry_delay(attempt: int, *, first: float, maximum: float) -> float:
    """The wait after failed attempt number `attempt` (1-based): first, 2×first, 4×first… capped."""
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    return min(maximum, first * 2 ** min(attempt - 1, 60))


def schedule(max_attempts: int, *, first: float, maximum: float) -> list[float]:
    """The waits between the attempts of one delivery (max_attempts - 1 of them)."""
    return [retry_delay(n, first=first, maximum=maximum) for n in range(1, max_attempts)]


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def secret_hint(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) >= 8 else "…"
