"""A client of the face workers for the integration tests and the bench (the exam service never uses it: it
appends `FaceCheckRequested` to its event store and its relay publishes it).

`FaceCheckProbe` publishes requests exactly as the relay does (the CloudEvents envelope on face.requests,
keyed by the candidate) and reads every `FaceChecked` on face.events from the beginning, without a consumer
group, keeping all answers per check id (a redelivered request may be answered more than once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from events import Envelope, FaceChecked, FaceCheckRequested
from servicekit import kafka
from servicekit.settings import ServiceSettings


class FaceCheckProbe:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.producer: AIOKafkaProducer = kafka.create_producer(settings, linger_ms=0)
        self.consumer: AIOKafkaConsumer = kafka.create_consumer(settings, group_id=None)
        self.answers: dict[str, list[tuple[Envelope, FaceChecked]]] = {}
        self.arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> Self:
        await kafka.ensure_topics(self.settings, [FaceCheckRequested.topic(), FaceChecked.topic()])
        await self.producer.start()
        await self.consumer.start()
        await self.consumer._client.force_metadata_update()
        parts = self.consumer.partitions_for_topic(FaceChecked.topic()) or set()
        if not parts:
            raise RuntimeError(f"{FaceChecked.topic()} has no partitions")
        partitions = [TopicPartition(FaceChecked.topic(), p) for p in sorted(parts)]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_beginning(*partitions)
        self._reader = asyncio.create_task(self._read())
        return self

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.consumer.stop()
        await self.producer.stop()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            for records in batch.values():
                for record in records:
                    envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or []))
                    answer = envelope.decode()
                    if isinstance(answer, FaceChecked):
                        self.answers.setdefault(answer.check_id, []).append((envelope, answer))
                        self.arrived.set()

    async def publish(
        self,
        request: FaceCheckRequested,
        *,
        source: str = "/exam",
        correlation_id: str | None = None,
        partition: int | None = None,
    ) -> Envelope:
        """Publish `request` as the exam service's relay would (subject and key: the candidate)."""
        envelope = Envelope.for_event(
            request, subject=request.candidate_id, source=source, correlation_id=correlation_id
        )
        await self.send(envelope, partition=partition)
        return envelope

    async def send(self, envelope: Envelope, *, partition: int | None = None) -> None:
        """Put any envelope on face.requests (e.g. a malformed request) and wait for the broker's ack."""
        key, value, headers = envelope.to_kafka()
        await (
            await self.producer.send(
                FaceCheckRequested.topic(), value=value, key=key, headers=headers, partition=partition
            )
        )

    def first(self, check_id: str) -> tuple[Envelope, FaceChecked] | None:
        found = self.answers.get(check_id)
        return found[0] if found else None

    async def wait(self, check_ids: list[str], timeout: float = 600) -> None:
        """Until every check has at least one answer."""
        deadline = time.monotonic() + timeout
        while not all(c in self.answers for c in check_ids):
            if time.monotonic() > deadline:
                missing = sum(c not in self.answers for c in check_ids)
                raise TimeoutError(f"{missing} face checks unanswered after {timeout:.0f}s")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 1.0)


def log_events(path: Path | None, event: str) -> list[dict[str, Any]]:
    """The JSON log lines of one kind (`event`) in a worker's log file, oldest first."""
    if path is None or not path.exists():
        return []
    found = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("event") == event:
                found.append(entry)
    return found
