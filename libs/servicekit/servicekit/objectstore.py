"""Object storage (S3 API: SeaweedFS locally, MinIO in production), one bucket per service."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from urllib.parse import urlparse

from minio import Minio
from minio.error import S3Error

from .settings import ServiceSettings


class ObjectStore:
    """A thin async wrapper over the blocking `minio` client (calls run in a worker thread)."""

    def __init__(self, settings: ServiceSettings, bucket: str | None = None) -> None:
        self.bucket = bucket or settings.bucket_name
        self.client = self._client(settings, settings.s3_endpoint)
        # Presigning is local computation; with the region given, the public client never connects.
        public = settings.s3_public_endpoint
        self.public_client = self._client(settings, public) if public else self.client

    @staticmethod
    def _client(settings: ServiceSettings, endpoint: str) -> Minio:
        url = urlparse(endpoint)
        return Minio(
            url.netloc,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=url.scheme == "https",
            region=settings.s3_region,
        )

    async def ensure_bucket(self) -> None:
        def work() -> None:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise

        await asyncio.to_thread(work)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object, self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
        )

    async def get(self, key: str) -> bytes:
        def work() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(work)

    async def remove(self, key: str) -> None:
        await asyncio.to_thread(self.client.remove_object, self.bucket, key)

    async def presigned_get(self, key: str, expires: timedelta = timedelta(minutes=5)) -> str:
        return await asyncio.to_thread(self.public_client.presigned_get_object, self.bucket, key, expires)

    async def ping(self) -> None:
        await asyncio.to_thread(self.client.bucket_exists, self.bucket)
