"""Kafka adapter: producers, consumers and topics, configured for real Kafka and for Tansu alike.

Tansu quirks handled here (see architecture.md): the idempotent producer fails on Tansu, so it is off and the
consumers de-duplicate; `ListOffsets(latest)` is wrong there, so "the end" of a topic is the high watermark
that a fetch reports (`read_to_end`); group joins take half the session timeout, so it is short locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from .settings import ServiceSettings

DLQ_SUFFIX = ".dlq"


def connection_options(settings: ServiceSettings) -> dict[str, Any]:
    """How every client of this process reaches the brokers: the bootstrap servers and, on a secured Kafka,
    TLS (with the cluster's CA) and the process's SASL login."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers}
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return options
    options["security_protocol"] = protocol
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    if protocol.startswith("SASL_"):
        if not settings.kafka_sasl_username:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def create_producer(settings: ServiceSettings, **overrides: Any) -> AIOKafkaProducer:
    options: dict[str, Any] = {
        **connection_options(settings),
        "enable_idempotence": False,
        "acks": "all",
        "linger_ms": 5,
        "request_timeout_ms": 30_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def create_consumer(
    settings: ServiceSettings, *topics: str, group_id: str | None, **overrides: Any
) -> AIOKafkaConsumer:
    options: dict[str, Any] = {
        **connection_options(settings),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": max(500, settings.kafka_session_timeout_ms // 6),
        "max_poll_interval_ms": 300_000,
        "metadata_max_age_ms": 5_000,
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


def topic_config(settings: ServiceSettings, topic: str) -> dict[str, str]:
    """A topic's settings: the event topics keep everything (rebuilds replay them from the beginning); dead
    letters are kept `KAFKA_DLQ_RETENTION_MS`."""
    if topic.endswith(DLQ_SUFFIX):
        return {"retention.ms": str(settings.kafka_dlq_retention_ms)}
    return {"retention.ms": str(settings.kafka_events_retention_ms), "retention.bytes": "-1"}


async def ensure_topics(settings: ServiceSettings, topics: Iterable[str], *, with_dlq: bool = True) -> None:
    """Create the topics (and their `.dlq` companions) that do not exist yet, with their retention."""
    wanted = set(topics)
    if with_dlq:
        wanted |= {t + DLQ_SUFFIX for t in list(wanted) if not t.endswith(DLQ_SUFFIX)}
    admin = AIOKafkaAdminClient(**connection_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(wanted - existing)
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            t,
                            settings.kafka_partitions,
                            settings.kafka_replication_factor,
                            topic_configs=topic_config(settings, t),
                        )
                        for t in missing
                    ]
                )
    finally:
        await admin.close()


async def ping(settings: ServiceSettings) -> None:
    admin = AIOKafkaAdminClient(**connection_options(settings), request_timeout_ms=5_000)
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()


async def read_to_end(
    settings: ServiceSettings,
    topics: Iterable[str],
    *,
    idle_timeout_s: float = 2.0,
    max_seconds: float = 600.0,
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of `topics` from the beginning to the end, without a consumer group.

    The end is the high watermark that each fetch response reports (not ListOffsets, which Tansu gets
    wrong): a partition is done when its position reaches the watermark seen in a fetch.
    """
    consumer = create_consumer(settings, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions: list[TopicPartition] = []
        for topic in topics:
            parts = consumer.partitions_for_topic(topic)
            if parts is None:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            partitions.extend(TopicPartition(topic, p) for p in sorted(parts))
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        pending = set(partitions)
        deadline = time.monotonic() + max_seconds
        last_progress = time.monotonic()
        while pending and time.monotonic() < deadline:
            batch = await consumer.getmany(*pending, timeout_ms=200, max_records=2000)
            for records in batch.values():
                for record in records:
                    yield record
                last_progress = time.monotonic()
            for tp in list(pending):
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue
                if await consumer.position(tp) >= highwater:
                    pending.discard(tp)
            if pending and not batch and time.monotonic() - last_progress > idle_timeout_s:
                # Empty partitions never report a watermark on some brokers: nothing more to read there.
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()


async def _assigned(
    settings: ServiceSettings, topics: Iterable[str]
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    consumer = create_consumer(settings, group_id=None, enable_auto_commit=False)
    await consumer.start()
    partitions: list[TopicPartition] = []
    for topic in topics:
        parts = consumer.partitions_for_topic(topic)
        if parts is None:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic) or set()
        partitions.extend(TopicPartition(topic, p) for p in sorted(parts))
    if partitions:
        consumer.assign(partitions)
    return consumer, partitions


async def watermarks(
    settings: ServiceSettings, topics: Iterable[str], *, timeout_s: float = 3.0
) -> dict[TopicPartition, int]:
    """The high watermark of every partition of `topics`, as fetches report it (0 for a partition that never
    answers with one: an empty partition on some brokers)."""
    consumer, partitions = await _assigned(settings, topics)
    try:
        if not partitions:
            return {}
        await consumer.seek_to_beginning(*partitions)
        found: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + timeout_s
        while len(found) < len(partitions) and time.monotonic() < deadline:
            await consumer.getmany(*partitions, timeout_ms=200, max_records=1)
            for tp in partitions:
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    found[tp] = highwater
        return {tp: found.get(tp, 0) for tp in partitions}
    finally:
        await consumer.stop()


async def read_ranges(
    settings: ServiceSettings, ranges: dict[TopicPartition, tuple[int, int]], *, idle_timeout_s: float = 5.0
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """The records of each partition from `start` (inclusive) to `end` (exclusive), without a group."""
    if not ranges:
        return
    consumer, _ = await _assigned(settings, sorted({tp.topic for tp in ranges}))
    try:
        wanted = [tp for tp, (start, end) in ranges.items() if end > start]
        if not wanted:
            return
        consumer.assign(wanted)
        for tp in wanted:
            consumer.seek(tp, ranges[tp][0])
        pending = set(wanted)
        last_progress = time.monotonic()
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=200, max_records=2000)
            for tp, records in batch.items():
                end = ranges[tp][1]
                for record in records:
                    if record.offset < end:
                        yield record
                last_progress = time.monotonic()
            for tp in list(pending):
                if await consumer.position(tp) >= ranges[tp][1]:
                    pending.discard(tp)
            if pending and not batch and time.monotonic() - last_progress > idle_timeout_s:
                raise RuntimeError(f"could not read to the end of {sorted(map(str, pending))}")
            await asyncio.sleep(0)
    finally:
        await consumer.stop()


def headers_dict(headers: Iterable[tuple[str, bytes]] | None) -> dict[str, str]:
    return {k: (v.decode("utf-8", "replace") if v is not None else "") for k, v in (headers or [])}
