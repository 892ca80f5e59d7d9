"""HMAC-SHA256 signatures with a timestamp, for bodies sent over HTTP to another party.

The signer sends `<timestamp>` (unix seconds) and `hex(HMAC-SHA256(secret, "<timestamp>." + raw body))` in
two headers; the receiver recomputes the signature over the raw bytes it received, compares in constant
time and refuses a timestamp too far from its own clock (a replayed or delayed message). Used by payment's
sandbox provider (its callbacks) and by the gateway's webhooks (their deliveries).
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A signature or timestamp that does not verify; the message (zh-CN) says why."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """hex(HMAC-SHA256(secret, "<timestamp>." + body))."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, *, timestamp_header: str, signature_header: str, timestamp: int | None = None
) -> dict[str, str]:
    """The two headers of a signed body (timestamp: now unless given)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {timestamp_header: str(ts), signature_header: sign(secret, body, ts)}


def verify(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Check `signature` of `body` at `timestamp` (the header values as received); the timestamp when good,
    `SignatureError` otherwise (missing, malformed, not matching, or older/newer than the tolerance)."""
    if not signature or not timestamp:
        raise SignatureError("缺少签名或时间戳")
    try:
        ts = int(timestamp.strip())
    except ValueError as exc:
        raise SignatureError("时间戳格式不正确") from exc
    if not hmac.compare_digest(sign(secret, body, ts), signature.strip().lower()):
        raise SignatureError("签名不匹配")
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_seconds:
        minutes = tolerance_seconds // 60
        raise SignatureError(f"通知已过期（时间戳相差超过 {minutes} 分钟）")
    return ts
