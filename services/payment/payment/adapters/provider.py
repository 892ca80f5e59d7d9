"""The sandbox payment provider: an in-process stand-in that behaves like a real one.

Creating a payment returns a redirect to the sandbox's own cashier page (served by this service under
`/api/payment/sandbox/cashier/{payment_id}`). When the payer presses 支付 the sandbox marks its payment paid
and sends the merchant an asynchronous, signed notification (HTTP POST of a JSON body to the notify URL),
retried with backoff while the merchant does not answer 200, and by default sent a second time (real
providers do that too), so the merchant must treat callbacks idempotently.

Signature: `X-Sandbox-Timestamp: <unix seconds>` and `X-Sandbox-Signature: hex(HMAC-SHA256(secret,
"<timestamp>." + raw body))`; a notification older (or newer) than five minutes is refused. The sandbox keeps
its own records (what a provider would keep on its side) in the `sandbox_payments` collection.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from servicekit.errors import Conflict, NotFound
from servicekit.logging import get_logger
from servicekit.mongo import Database
from servicekit.signing import SignatureError
from servicekit.signing import sign as sign
from servicekit.signing import verify as verify_signature

from ..domain.online import CallbackNotice, InvalidSignature, ProviderPayment

log = get_logger(__name__)

SANDBOX_PAYMENTS = "sandbox_payments"
SIGNATURE_HEADER = "X-Sandbox-Signature"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
TOLERANCE_SECONDS = 300
MIN_SECRET_LENGTH = 32


class SandboxSettings(BaseSettings):
    """The sandbox provider's settings (read from the environment, like every service setting)."""

    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    # Shared secret for callback signatures. Unset: a random one per process (a restarted process cannot
    # verify callbacks signed before the restart); set it (≥ 32 characters) anywhere that matters.
    secret: SecretStr | None = Field(default=None, validation_alias="PAYMENT_SANDBOX_SECRET")
    # Where the sandbox sends its notifications (this service as the provider reaches it). Never taken from
    # a request's headers. Default: PAYMENT_URL, which the launcher sets to this service's own address.
    notify_base_url: str | None = Field(default=None, validation_alias="PAYMENT_NOTIFY_BASE_URL")
    payment_url: str = Field(default="http://127.0.0.1:8003", validation_alias="PAYMENT_URL")
    # Where payers' browsers reach the platform (cashier links). Default: relative links (same origin).
    public_base_url: str | None = Field(default=None, validation_alias="PAYMENT_PUBLIC_BASE_URL")
    callback_attempts: int = Field(
        default=6, ge=1, le=20, validation_alias="PAYMENT_SANDBOX_CALLBACK_ATTEMPTS"
    )
    callback_backoff_seconds: float = Field(
        default=0.5, ge=0, validation_alias="PAYMENT_SANDBOX_CALLBACK_BACKOFF_SECONDS"
    )
    duplicate_callbacks: bool = Field(default=True, validation_alias="PAYMENT_SANDBOX_DUPLICATE_CALLBACKS")

    @property
    def notify_base(self) -> str:
        return (self.notify_base_url or self.payment_url).rstrip("/")


def verify(
    secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None
) -> CallbackNotice:
    """Check the signature and freshness of a notification and parse it (raises `InvalidSignature`)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    try:
        verify_signature(secret, body, raw_timestamp, signature, now=now, tolerance_seconds=TOLERANCE_SECONDS)
    except SignatureError as exc:
        raise InvalidSignature(str(exc)) from exc
    try:
        data = json.loads(body)
        return CallbackNotice(
            payment_id=str(data["payment_id"]),
            order_number=str(data["order_number"]),
            amount_fen=int(data["amount_fen"]),
            status=str(data["status"]),
            paid_at=datetime.fromisoformat(str(data["paid_at"])),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidSignature("通知内容格式不正确") from exc


class SandboxProvider:
    """The `PaymentProvider` of the local stack and of tests: cashier page, signed async callbacks."""

    name = "sandbox"

    def __init__(self, db: Database, settings: SandboxSettings | None = None) -> None:
        self.settings = settings or SandboxSettings()
        configured = self.settings.secret.get_secret_value() if self.settings.secret else ""
        if configured and len(configured) < MIN_SECRET_LENGTH:
            raise ValueError("PAYMENT_SANDBOX_SECRET must be at least 32 characters")
        if not configured:
            configured = secrets.token_urlsafe(48)
            log.warning(
                "payment.sandbox.generated_secret",
                note="PAYMENT_SANDBOX_SECRET is not set: a random secret is used for this process only; "
                "callbacks signed before a restart will fail verification",
            )
        self._secret = configured
        self.db = db
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the port ------------------------------------------------------------------------------------------

    async def create_payment(
        self, order_number: str, amount_fen: int, notify_url: str, return_url: str
    ) -> ProviderPayment:
        payment_id = "sbx_" + secrets.token_hex(12)
        await self.db[SANDBOX_PAYMENTS].insert_one(
            {
                "_id": payment_id,
                "order_number": order_number,
                "amount_fen": amount_fen,
                "notify_url": notify_url,
                "return_url": return_url,
                "status": "created",
                "created_at": datetime.now(UTC),
                "notifications": [],
            }
        )
        # Relative unless PAYMENT_PUBLIC_BASE_URL is set: the browser stays on the origin it came from.
        base = (self.settings.public_base_url or "").rstrip("/")
        return ProviderPayment(payment_id, f"{base}/api/payment/sandbox/cashier/{payment_id}")

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> CallbackNotice:
        return verify(self._secret, body, headers)

    # -- the provider's side: cashier and notifications -----------------------------------------------------

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(self._secret, body, ts),
        }

    async def find(self, payment_id: str) -> dict[str, Any]:
        doc = await self.db[SANDBOX_PAYMENTS].find_one({"_id": payment_id})
        if doc is None:
            raise NotFound("支付单不存在", code="payment_not_found")
        return doc

    async def pay(self, payment_id: str) -> dict[str, Any]:
        """The payer paid at the cashier: mark it paid (once) and notify the merchant in the background."""
        paid_at = datetime.now(UTC)
        doc = await self.db[SANDBOX_PAYMENTS].find_one_and_update(
            {"_id": payment_id, "status": "created"}, {"$set": {"status": "paid", "paid_at": paid_at}}
        )
        if doc is None:
            current = await self.find(payment_id)
            label = {"paid": "已支付", "closed": "已取消"}.get(current["status"], current["status"])
            raise Conflict(f"该支付单{label}，不能再次支付", code="payment_not_payable")
        body = json.dumps(
            {
                "payment_id": payment_id,
                "order_number": doc["order_number"],
                "amount_fen": doc["amount_fen"],
                "status": "SUCCESS",
                "paid_at": paid_at.isoformat(),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        self._spawn(self._deliver(payment_id, doc["notify_url"], body))
        return {**doc, "status": "paid"}

    async def close(self, payment_id: str) -> dict[str, Any]:
        doc = await self.db[SANDBOX_PAYMENTS].find_one_and_update(
            {"_id": payment_id, "status": "created"}, {"$set": {"status": "closed"}}
        )
        if doc is None:
            await self.find(payment_id)  # 404 when unknown
            raise Conflict("该支付单已支付或已取消", code="payment_not_payable")
        return doc

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, payment_id: str, url: str, body: bytes) -> None:
        delivered = await self._send_with_retries(payment_id, url, body)
        if delivered and self.settings.duplicate_callbacks:
            await asyncio.sleep(self.settings.callback_backoff_seconds)
            await self._send_with_retries(payment_id, url, body)

    async def _send_with_retries(self, payment_id: str, url: str, body: bytes) -> bool:
        settings = self.settings
        async with httpx.AsyncClient(timeout=10, trust_env=False, follow_redirects=False) as client:
            for attempt in range(1, settings.callback_attempts + 1):
                headers = self.signed_headers(body)
                status: int | None = None
                try:
                    response = await client.post(url, content=body, headers=headers)
                    status = response.status_code
                except httpx.HTTPError as exc:
                    log.warning("payment.sandbox.callback_failed", payment_id=payment_id, error=repr(exc))
                await self.db[SANDBOX_PAYMENTS].update_one(
                    {"_id": payment_id},
                    {
                        "$push": {
                            "notifications": {
                                "attempt": attempt,
                                "sent_at": datetime.now(UTC),
                                "status_code": status,
                                "body": body.decode(),
                                "headers": {k: v for k, v in headers.items() if k != "Content-Type"},
                            }
                        }
                    },
                )
                if status == 200:
                    return True
                log.warning("payment.sandbox.callback_refused", payment_id=payment_id, status=status)
                if attempt < settings.callback_attempts:
                    await asyncio.sleep(min(settings.callback_backoff_seconds * 2 ** (attempt - 1), 60))
        log.error("payment.sandbox.callback_gave_up", payment_id=payment_id, url=url)
        return False

    async def drain(self) -> None:
        """Wait for the notifications in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
