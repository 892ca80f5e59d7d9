"""Settings read from the environment, shared by every service.

The same variables point a service at the embedded local stack or at production servers
(Kafka, a MongoDB replica set, MinIO/S3); nothing else changes.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Connection and behaviour settings of one service process."""

    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    service_name: str = Field(default="service", validation_alias="SERVICE_NAME")
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_partitions: int = Field(default=3, validation_alias="KAFKA_PARTITIONS")
    kafka_replication_factor: int = Field(default=1, validation_alias="KAFKA_REPLICATION_FACTOR")
    # Tansu answers a group join after about half the session timeout: keep it short locally.
    kafka_session_timeout_ms: int = Field(default=6000, validation_alias="KAFKA_SESSION_TIMEOUT_MS")
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

    @cached_property
    def database_name(self) -> str:
        """Each service owns its own database; default `<service>`."""
        return self.mongo_database or self.service_name

    @cached_property
    def bucket_name(self) -> str:
        """Each service owns its own bucket; default `<service>`."""
        return self.s3_bucket or self.service_name
