"""POSTs a signed delivery to a receiver (httpx; redirects are not followed: a 3xx is a failure)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str | None
    duration_ms: float


class HttpSender:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self.client = httpx.AsyncClient(follow_redirects=False, timeout=timeout_seconds, trust_env=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        started = time.monotonic()
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return SendResult(None, f"超时（{self.timeout:g} 秒内无应答）", _ms(started))
        except httpx.HTTPError as exc:
            return SendResult(None, f"连接失败：{type(exc).__name__} {str(exc)[:200]}", _ms(started))
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return SendResult(response.status_code, error, _ms(started))

    async def close(self) -> None:
        await self.client.aclose()


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
