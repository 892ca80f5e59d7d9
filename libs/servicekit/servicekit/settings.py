"""Settings read from the environment, shared by every service.

The same variables point a service at the embedded local stack or at production servers
(Kafka, a MongoDB replica set, MinIO/S3); nothing else changes.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Connection and behaviour settings of one service process."""

    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    service_name: str = Field(default="service", validation_alias="SERVICE_NAME")
    # `production` refuses development conveniences (a payment sandbox, short demo exams); `make run` and the
    # tests run `development`.
    environment: Literal["development", "production"] = Field(
        default="development", validation_alias="PLATFORM_ENV"
    )
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_partitions: int = Field(default=3, validation_alias="KAFKA_PARTITIONS")
    kafka_replication_factor: int = Field(default=1, validation_alias="KAFKA_REPLICATION_FACTOR")
    # Tansu answers a group join after about half the session timeout: keep it short locally.
    kafka_session_timeout_ms: int = Field(default=6000, validation_alias="KAFKA_SESSION_TIMEOUT_MS")
    # A secured Kafka (deploy/k8s: Strimzi with TLS and one SCRAM user per process); the local stack is
    # PLAINTEXT without a login.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512", validation_alias="KAFKA_SASL_MECHANISM"
    )
    kafka_sasl_username: str = Field(default="", validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr = Field(default=SecretStr(""), validation_alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_cafile: str | None = Field(default=None, validation_alias="KAFKA_SSL_CAFILE")
    mongo_url: str = Field(
        default="mongodb://127.0.0.1:27017/?retryWrites=false", validation_alias="MONGO_URL"
    )
    mongo_database: str | None = Field(default=None, validation_alias="MONGO_DATABASE")
    s3_endpoint: str = Field(default="http://127.0.0.1:8333", validation_alias="S3_ENDPOINT")
    s3_access_key: str = Field(default="", validation_alias="S3_ACCESS_KEY")
    s3_secret_key: SecretStr = Field(default=SecretStr(""), validation_alias="S3_SECRET_KEY")
    s3_region: str = Field(default="us-east-1", validation_alias="S3_REGION")
    s3_bucket: str | None = Field(default=None, validation_alias="S3_BUCKET")
    # Where browsers reach object storage, for the short-lived links (default: S3_ENDPOINT).
    s3_public_endpoint: str | None = Field(default=None, validation_alias="S3_PUBLIC_ENDPOINT")
    jwt_secret: SecretStr = Field(default=SecretStr(""), validation_alias="JWT_SECRET")
    jwt_issuer: str = Field(default="zj-cert-gateway", validation_alias="JWT_ISSUER")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_json: bool = Field(default=True, validation_alias="LOG_JSON")
    consumer_max_attempts: int = Field(default=4, validation_alias="CONSUMER_MAX_ATTEMPTS")
    consumer_backoff_seconds: float = Field(default=0.2, validation_alias="CONSUMER_BACKOFF_SECONDS")
    relay_poll_seconds: float = Field(default=0.5, validation_alias="RELAY_POLL_SECONDS")
    # The lease that makes one replica the relay and the runner of the service's own projections; another
    # replica takes over at most this long after the holder died.
    # A command waits this long at most for its events to reach the service's own read models before it
    # answers (read-your-writes); if they have not, the answer says so (`X-Read-Models: updating`).
    read_your_writes_seconds: float = Field(default=3.0, validation_alias="READ_YOUR_WRITES_SECONDS")
    lease_ttl_seconds: float = Field(default=10.0, validation_alias="LEASE_TTL_SECONDS")
    # Readiness fails when a consumer with work waiting has made no progress for this long, or has stopped.
    consumer_stall_seconds: float = Field(default=120.0, validation_alias="CONSUMER_STALL_SECONDS")
    # A batch slower than this is logged (what it was, how long it took).
    consumer_slow_batch_seconds: float = Field(default=5.0, validation_alias="CONSUMER_SLOW_BATCH_SECONDS")
    # Topics are created with these retentions: the `*.events` topics are replayed by rebuilds, so they keep
    # everything (-1); dead letters are kept 30 days.
    kafka_events_retention_ms: int = Field(default=-1, validation_alias="KAFKA_EVENTS_RETENTION_MS")
    kafka_dlq_retention_ms: int = Field(default=30 * 86_400_000, validation_alias="KAFKA_DLQ_RETENTION_MS")
    # How long a consumer remembers the ids of the events it handled (redeliveries come within minutes).
    processed_marks_days: int = Field(default=30, validation_alias="PROCESSED_MARKS_DAYS")

    # Token revocation (servicekit.revocation): how long a process trusts what it last read of an account's
    # token version or of a token id. A revoked token is refused at most the event's trip (well under a
    # second locally) plus this long after the gateway revoked it.
    revocation_cache_seconds: float = Field(default=1.0, ge=0, validation_alias="REVOCATION_CACHE_SECONDS")
    # Only requests the gateway signed are served (servicekit.origin; /healthz, /readyz, /metrics excepted).
    # Unset: on in production, off otherwise. The gateway signs with GATEWAY_SIGNING_SECRET (≥ 32 characters,
    # the same value everywhere); a proof is valid GATEWAY_PROOF_MAX_AGE_SECONDS.
    require_gateway: bool | None = Field(default=None, validation_alias="REQUIRE_GATEWAY")
    gateway_signing_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="GATEWAY_SIGNING_SECRET"
    )
    gateway_proof_max_age_seconds: float = Field(
        default=30.0, gt=0, validation_alias="GATEWAY_PROOF_MAX_AGE_SECONDS"
    )

    def gateway_required(self) -> bool:
        """Whether this process serves only requests signed by the gateway (never the gateway itself)."""
        if self.require_gateway is None:
            return self.environment == "production"
        return self.require_gateway

    @cached_property
    def database_name(self) -> str:
        """Each service owns its own database; default `<service>`."""
        return self.mongo_database or self.service_name

    @cached_property
    def bucket_name(self) -> str:
        """Each service owns its own bucket; default `<service>`."""
        return self.s3_bucket or self.service_name
