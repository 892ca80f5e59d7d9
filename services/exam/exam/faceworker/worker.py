"""The face worker's loop: FaceCheckRequested (face.requests) in, FaceChecked (face.events) out, nothing kept.

- Consumer group `exam.faceworker`: every worker process joins it, Kafka spreads the partitions of
  face.requests over them, so adding workers adds throughput (up to the number of partitions).
- At least once: a request's offset is committed only after its answer was acknowledged by the broker. A
  worker killed in the middle of a check never commits it; after the group notices (the session timeout)
  another worker gets the partition and answers the request again. The answer's event id is derived from
  the request's event id, so an answer sent twice is one event for the consumers' de-duplication (and the
  exam service keeps the first FaceChecked of a check anyway).
- Bad input is an answer, never a crash loop: a missing object or an undecodable image comes back as
  `FaceChecked(match=False, quality_flags=[...])`. Only a request that cannot be read at all (no check id)
  goes to `face.requests.dlq`. Object storage or Kafka being away is retried without answering.
- The dlib models are loaded once at start; each check runs in a thread so the consumer keeps heartbeating.
- The head photos are prepared once and kept (references.py: keyed by bucket + key, LRU by count,
  FACE_REFERENCE_CACHE_SIZE): a check with a known head photo reads its ETag (HEAD) instead of the object
  and embeds only the live frame. The module's docstring explains why a cached photo never answers for an
  object that is gone or changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import KafkaError
from events import Envelope, FaceChecked, FaceCheckRequested
from minio.error import S3Error
from servicekit import faces, kafka
from servicekit.logging import get_logger
from servicekit.objectstore import ObjectStore

from .analysis import (
    FLAG_IMAGE_UNREADABLE,
    FaceCheckResult,
    FaceRules,
    Reference,
    check_frame,
    prepare_reference,
)
from .references import ReferenceCache
from .settings import GROUP_ID, FaceWorkerSettings

log = get_logger("exam.faceworker")

REQUEST_TYPE = FaceCheckRequested.type_name()
REQUEST_TOPIC = FaceCheckRequested.topic()
ANSWER_TOPIC = FaceChecked.topic()
SOURCE = "/faceworker"
_ANSWER_NAMESPACE = uuid.UUID("6f1f4c52-3b0e-4d8e-9a51-2f0c8f3c9e11")
_MISSING_CODES = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "InvalidObjectName", "InvalidBucketName"}


def _etag(value: str | None) -> str:
    return (value or "").strip('"')


def _get_with_etag(store: ObjectStore, key: str) -> tuple[bytes, str]:
    """The object's bytes and the ETag they came with (one GET; blocking, run in a thread)."""
    response = store.client.get_object(store.bucket, key)
    try:
        return response.read(), _etag(response.headers.get("ETag"))
    finally:
        response.close()
        response.release_conn()


def _head_etag(store: ObjectStore, key: str) -> str:
    """The object's current ETag (a HEAD request, no body; blocking, run in a thread)."""
    return _etag(store.client.stat_object(store.bucket, key).etag)


def answer_id(request_id: str) -> str:
    """The answer's event id: the same for every answer to one request (redelivery de-duplicates)."""
    return uuid.uuid5(_ANSWER_NAMESPACE, request_id).hex


def answer_event(
    request: FaceCheckRequested, result: FaceCheckResult, worker: str, elapsed_ms: float
) -> FaceChecked:
    return FaceChecked(
        check_id=request.check_id,
        candidate_id=request.candidate_id,
        session_id=request.session_id,
        match=result.match,
        distance=result.distance,
        threshold=result.threshold,
        replay_suspected=result.replay_suspected,
        quality_flags=list(result.quality_flags),
        worker=worker,
        elapsed_ms=round(elapsed_ms, 1),
    )


class _AssignmentLog(ConsumerRebalanceListener):
    def __init__(self, worker: FaceWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Any) -> None:
        log.info(
            "faceworker.revoked", worker=self.worker.name, partitions=sorted(tp.partition for tp in revoked)
        )

    async def on_partitions_assigned(self, assigned: Any) -> None:
        partitions = sorted(tp.partition for tp in assigned)
        self.worker.partitions = partitions
        log.info("faceworker.assigned", worker=self.worker.name, partitions=partitions)
        if partitions:
            self.worker.assigned.set()


class FaceWorker:
    def __init__(self, settings: FaceWorkerSettings, *, rules: FaceRules | None = None) -> None:
        self.settings = settings
        self.rules = rules or settings.rules()
        self.name = settings.worker_name()
        self.answered = 0
        self.partitions: list[int] = []
        self.started = asyncio.Event()  # models loaded, consumer started
        self.assigned = asyncio.Event()  # holds at least one partition
        self._stores: dict[str, ObjectStore] = {}
        self.references = ReferenceCache(settings.face_reference_cache_size)
        self.last_measurements: dict[str, Any] = {}  # of the last check: for the log line and the tests

    # ---- reading the images ----

    def _store(self, bucket: str) -> ObjectStore:
        if bucket not in self._stores:
            self._stores[bucket] = ObjectStore(self.settings, bucket=bucket)
        return self._stores[bucket]

    async def _read(self, bucket: str, key: str, stop: asyncio.Event) -> bytes | None:
        """The object's bytes; None when it does not exist. Storage being away is retried (until `stop`)."""
        return await self._storage(bucket, lambda store: store.get(key), stop)

    async def _storage(
        self, bucket: str, call: Callable[[ObjectStore], Any], stop: asyncio.Event
    ) -> Any | None:
        """`await call(store)`; None when the object does not exist. Storage being away is retried (until
        `stop`)."""
        pause = 0.5
        while True:
            try:
                return await call(self._store(bucket))
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    return None
                error: Exception = exc
            except ValueError:  # an empty or invalid bucket/key name
                return None
            except Exception as exc:  # connection refused, timeouts …
                error = exc
            if stop.is_set():
                raise RuntimeError(f"stopping while object storage fails: {error!r}")
            log.warning("faceworker.storage_failed", bucket=bucket, error=repr(error), retry_in=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            pause = min(pause * 2, 10.0)

    async def _reference_object(
        self, bucket: str, key: str, stop: asyncio.Event
    ) -> tuple[Reference | None, bytes | None, str, str]:
        """The head photo as cached, or its bytes to prepare: (cached reference, bytes, ETag, how), how being
        "hit" (cached and its ETag unchanged), "miss" (read now) or "missing" (no such object; a cached
        entry for it is dropped)."""
        if self.references.peek(bucket, key) is not None:
            etag = await self._storage(bucket, lambda store: asyncio.to_thread(_head_etag, store, key), stop)
            if etag is None:
                self.references.drop(bucket, key)
                return None, None, "", "missing"
            cached = self.references.get(bucket, key, etag)
            if cached is not None:
                return cached, None, etag, "hit"
        else:
            self.references.misses += 1
        read = await self._storage(bucket, lambda store: asyncio.to_thread(_get_with_etag, store, key), stop)
        if read is None:
            return None, None, "", "missing"
        data, etag = read
        return None, data, etag, "miss"

    def _analyse(
        self, frame: bytes | None, reference: Reference | None, data: bytes | None
    ) -> tuple[FaceCheckResult, Reference]:
        """In a thread: prepare the head photo unless it came from the cache, then check the frame. Adds
        the CPU time this thread spent (`cpu_ms`: decoding, face search, embeddings) to the measurements."""
        cpu = time.thread_time()
        if reference is None:
            reference = prepare_reference(data, self.rules)
        result = check_frame(frame, reference, self.rules)
        result.measurements["cpu_ms"] = round((time.thread_time() - cpu) * 1000, 1)
        return result, reference

    # ---- one request ----

    async def check(self, request: FaceCheckRequested, stop: asyncio.Event) -> FaceChecked:
        """Read both images, analyse them in a thread, build the answer."""
        delay = self.settings.test_delay_seconds()
        if delay:
            log.info("faceworker.test_delay", worker=self.name, check_id=request.check_id, seconds=delay)
            await asyncio.sleep(delay)
        started = time.perf_counter()
        frame, (reference, data, etag, how) = await asyncio.gather(
            self._read(request.frame_bucket, request.frame_key, stop),
            self._reference_object(request.reference_bucket, request.reference_key, stop),
        )
        try:
            result, prepared = await asyncio.to_thread(self._analyse, frame, reference, data)
            result.measurements["reference"] = how
            if data is not None:  # read now (a miss): kept for the next checks against this photo
                self.references.put(request.reference_bucket, request.reference_key, etag, prepared)
        except Exception:  # a bug or a pathological image: an answer with a flag, never a crash loop
            log.exception("faceworker.analysis_failed", worker=self.name, check_id=request.check_id)
            result = FaceCheckResult(
                match=False,
                distance=None,
                threshold=self.rules.match_threshold,
                quality_flags=[FLAG_IMAGE_UNREADABLE],
            )
        elapsed = (time.perf_counter() - started) * 1000
        self.last_measurements = result.measurements
        return answer_event(request, result, self.name, elapsed)

    async def handle(
        self, record: ConsumerRecord[bytes, bytes], producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> FaceChecked | None:
        """Answer a face-check request (None for other records); returns once the answer is acknowledged."""
        headers = kafka.headers_dict(record.headers)
        if headers.get("ce_type") != REQUEST_TYPE:
            return None
        try:
            envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or []))
            request = envelope.decode()
            if not isinstance(request, FaceCheckRequested):
                raise ValueError(f"decoded as {type(request).__name__}")
        except Exception as exc:
            await self._dead_letter(record, producer, exc)
            return None
        log.info(
            "faceworker.check_started",
            worker=self.name,
            check_id=request.check_id,
            candidate_id=request.candidate_id,
            partition=record.partition,
            offset=record.offset,
        )
        answer = await self.check(request, stop)
        reply = Envelope.for_event(
            answer,
            id=answer_id(envelope.id),
            subject=envelope.subject,
            source=SOURCE,
            correlation_id=envelope.correlation_id or envelope.id,
            causation_id=envelope.id,
        )
        key, value, reply_headers = reply.to_kafka()
        await (await producer.send(ANSWER_TOPIC, value=value, key=key, headers=reply_headers))
        self.answered += 1
        log.info(
            "faceworker.check_answered",
            worker=self.name,
            check_id=request.check_id,
            match=answer.match,
            distance=answer.distance,
            replay_suspected=answer.replay_suspected,
            quality_flags=answer.quality_flags,
            elapsed_ms=answer.elapsed_ms,
            cpu_ms=self.last_measurements.get("cpu_ms"),
            reference=self.last_measurements.get("reference"),
            cached_references=len(self.references),
        )
        return answer

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], producer: AIOKafkaProducer, exc: BaseException
    ) -> None:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        headers = [(k, v) for k, v in (record.headers or []) if not k.startswith("dlq_")]
        headers += [
            ("dlq_error", error[:4000].encode()),
            ("dlq_group", GROUP_ID.encode()),
            ("dlq_attempts", b"1"),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        topic = record.topic + kafka.DLQ_SUFFIX
        await (await producer.send(topic, value=record.value, key=record.key, headers=headers))
        log.error("faceworker.dead_lettered", worker=self.name, topic=topic, error=error)

    # ---- the loop ----

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until `stop` is set; the broker being away restarts the consumer after a pause."""
        stop = stop or asyncio.Event()
        await asyncio.to_thread(faces.load_models)
        pause = 1.0
        while not stop.is_set():
            try:
                await self._serve(stop)
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("faceworker.restarting", worker=self.name, error=repr(exc), pause=pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, 30.0)
        log.info("faceworker.stopped", worker=self.name, answered=self.answered)

    async def _serve(self, stop: asyncio.Event) -> None:
        await kafka.ensure_topics(self.settings, [REQUEST_TOPIC, ANSWER_TOPIC])
        producer = kafka.create_producer(self.settings)
        consumer: AIOKafkaConsumer = kafka.create_consumer(self.settings, group_id=GROUP_ID)
        consumer.subscribe([REQUEST_TOPIC], listener=_AssignmentLog(self))
        await producer.start()
        try:
            await consumer.start()
            try:
                self._mark_started()
                while not stop.is_set():
                    batch = await consumer.getmany(timeout_ms=500, max_records=20)
                    for tp, records in batch.items():
                        await self._handle_partition(consumer, producer, tp, records, stop)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _handle_partition(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
        stop: asyncio.Event,
    ) -> None:
        last: int | None = None
        for record in records:
            if stop.is_set() or tp not in consumer.assignment():
                break  # stopping, or the partition went to another worker: it resumes from our last commit
            answered = await self.handle(record, producer, stop)
            last = record.offset
            if answered is not None:
                await self._commit(consumer, tp, last)
                last = None
        if last is not None:
            await self._commit(consumer, tp, last)

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({tp: offset + 1})
        except KafkaError as exc:  # rebalanced away meanwhile: the new owner answers again (same event id)
            log.warning("faceworker.commit_failed", worker=self.name, partition=tp.partition, error=repr(exc))

    def _mark_started(self) -> None:
        self.started.set()
        path = self.settings.face_worker_ready_file
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.name)
        log.info("faceworker.started", worker=self.name, group=GROUP_ID, topic=REQUEST_TOPIC)
