"""The feeds' and webhooks' settings (environment: FEED_* and WEBHOOK_*), apart from GatewaySettings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FeedSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    environment: Literal["development", "production"] = Field(
        default="development", validation_alias="PLATFORM_ENV"
    )
    # Pull feed: the largest page, the longest long-poll, how often waiting readers look at the log's head,
    # and how often a Server-Sent Events stream sends a heartbeat comment.
    max_limit: int = Field(default=500, ge=1, le=5000, validation_alias="FEED_MAX_LIMIT")
    max_wait_seconds: float = Field(default=30.0, ge=0, le=300, validation_alias="FEED_MAX_WAIT_SECONDS")
    poll_seconds: float = Field(default=0.25, gt=0, le=10, validation_alias="FEED_POLL_SECONDS")
    heartbeat_seconds: float = Field(default=15.0, gt=0, validation_alias="FEED_HEARTBEAT_SECONDS")
    # Webhooks: http:// to 127.0.0.1 / localhost (None: allowed outside PLATFORM_ENV=production).
    allow_local_http: bool | None = Field(default=None, validation_alias="WEBHOOK_ALLOW_LOCAL_HTTP")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, validation_alias="WEBHOOK_TIMEOUT_SECONDS")
    first_delay_seconds: float = Field(default=1.0, ge=0, validation_alias="WEBHOOK_FIRST_DELAY_SECONDS")
    max_delay_seconds: float = Field(default=300.0, ge=0, validation_alias="WEBHOOK_MAX_DELAY_SECONDS")
    max_attempts: int = Field(default=8, ge=1, le=50, validation_alias="WEBHOOK_MAX_ATTEMPTS")
    keep_deliveries: int = Field(default=200, ge=10, validation_alias="WEBHOOK_KEEP_DELIVERIES")
    max_per_owner: int = Field(default=5, ge=1, validation_alias="WEBHOOK_MAX_PER_OWNER")
    # How often the dispatcher looks for new or removed subscriptions and replays (the lease holder only).
    scan_seconds: float = Field(default=1.0, gt=0, validation_alias="WEBHOOK_SCAN_SECONDS")

    @property
    def local_http_allowed(self) -> bool:
        if self.allow_local_http is not None:
            return self.allow_local_http
        return self.environment != "production"
