"""Dead letters: list what a `<topic>.dlq` holds and replay it to the original topic.

    python -m servicekit.dlq list   registration.events            # one line per dead letter
    python -m servicekit.dlq replay registration.events [--event-id ID ...] [--group G]
    python -m servicekit.dlq list   --store enrollment             # a service's own events its projections
    python -m servicekit.dlq replay --store enrollment [--event-id ID ...]   # gave up on (in its database)

Replaying re-publishes the original record (same event id, original headers, the `dlq_*` headers dropped).
Consumer groups that already handled it skip it by de-duplication; the one that failed handles it again.
A replay is recorded as a `dlq_replayed` record in the dead-letter topic itself, so `list` shows what is
still waiting and nothing is replayed twice by accident (use --again to force).

A record is dead-lettered once per consumer group (`KafkaDeadLetters`): meeting it again — a consumer that
was fenced by a rebuild's pause and reads the batch again, a rebuild replaying the topic — counts it in the
service's `dead_letter_marks` (`seen`, `last_seen_at`) instead of adding a copy; `list` shows copies that
older versions left behind as one letter (`copies`). Personal data (ID numbers, mobiles, names) is masked in
everything printed here (`servicekit.logging.mask_personal_data`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from pymongo.errors import DuplicateKeyError

from . import kafka
from .kafka import DLQ_SUFFIX, create_producer, headers_dict, read_to_end
from .logging import get_logger, mask_personal_data, mask_value
from .mongo import Database
from .settings import ServiceSettings

log = get_logger(__name__)

REPLAYED_MARK = "dlq_replayed"
DEAD_LETTER_MARKS = "dead_letter_marks"


def letter_key(group: str, topic: str, partition: int | str, offset: int | str) -> str:
    """What makes a Kafka dead letter the same one: the group that gave up and the original record."""
    return f"{group}|{topic}|{partition}|{offset}"


def dlq_topic_of(topic: str) -> str:
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


class KafkaDeadLetters:
    """Dead-letters the Kafka records one consumer group gives up on, each record once.

    The mark `(group, topic, partition, offset)` in the service's `dead_letter_marks` is written before the
    record goes to `<topic>.dlq` and flagged `published` after; a record met again (the same offset) only
    counts (`seen`, `last_seen_at`, `last_error`). Letters published before the marks existed are found in the
    dead-letter topic itself (read once per topic, the first time this group gives something up there).
    A record republished by `replay` has a new offset: if it fails again it is a new dead letter.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        database: Database,
        group: str,
        producer: AIOKafkaProducer | None = None,
    ) -> None:
        self.settings = settings
        self.db = database
        self.group = group
        self._producer = producer
        self._own_producer = False
        self._known: dict[str, set[str]] = {}  # dead-letter topic -> keys of the letters it holds

    async def _producer_ready(self) -> AIOKafkaProducer:
        if self._producer is None:
            self._producer = create_producer(self.settings)
            await self._producer.start()
            self._own_producer = True
        return self._producer

    async def close(self) -> None:
        if self._own_producer and self._producer is not None:
            await self._producer.stop()
            self._producer = None
            self._own_producer = False

    async def _letters_in(self, dlq: str) -> set[str]:
        if dlq not in self._known:
            keys: set[str] = set()
            with contextlib.suppress(Exception):  # an unreadable dead-letter topic: rely on the marks
                async for record in read_to_end(self.settings, [dlq], idle_timeout_s=1.0, max_seconds=60):
                    meta = headers_dict(record.headers)
                    if meta.get(REPLAYED_MARK):
                        continue
                    keys.add(
                        letter_key(
                            meta.get("dlq_group", ""),
                            meta.get("dlq_original_topic", ""),
                            meta.get("dlq_original_partition", ""),
                            meta.get("dlq_original_offset", ""),
                        )
                    )
            self._known[dlq] = keys
        return self._known[dlq]

    async def send(self, record: ConsumerRecord[bytes, bytes], error: str, attempts: int) -> bool:
        """Dead-letter `record` (True), or count it as met again if this group dead-lettered it before."""
        key = letter_key(self.group, record.topic, record.partition, record.offset)
        dlq = dlq_topic_of(record.topic)
        meta = headers_dict(record.headers)
        now = datetime.now(UTC)
        marks = self.db[DEAD_LETTER_MARKS]
        mark = await marks.find_one({"_id": key})
        if (mark is not None and mark.get("published")) or key in await self._letters_in(dlq):
            await marks.update_one(
                {"_id": key},
                {
                    "$inc": {"seen": 1},
                    "$set": {"last_seen_at": now, "last_error": error[:4000], "published": True},
                    "$setOnInsert": self._mark(record, meta, now, attempts, seen=False),
                },
                upsert=True,
            )
            seen = int((mark or {}).get("seen", 1)) + 1
            log.warning(
                "dead_letter.seen_again",
                group=self.group,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                event_id=meta.get("ce_id"),
                event_type=meta.get("ce_type"),
                seen=seen,
                error=error[:300],
            )
            return False
        if mark is None:
            with contextlib.suppress(DuplicateKeyError):
                await marks.insert_one(
                    {"_id": key, **self._mark(record, meta, now, attempts, seen=True), "published": False}
                )
        headers = [(k, v) for k, v in (record.headers or []) if not k.startswith("dlq_")]
        headers += [
            ("dlq_error", error[:4000].encode()),
            ("dlq_group", self.group.encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_failed_at", now.isoformat().encode()),
        ]
        producer = await self._producer_ready()
        await (await producer.send(dlq, value=record.value, key=record.key, headers=headers))
        await marks.update_one(
            {"_id": key}, {"$set": {"published": True, "last_seen_at": now, "last_error": error[:4000]}}
        )
        self._known.setdefault(dlq, set()).add(key)
        log.error(
            "consumer.dead_lettered",
            group=self.group,
            topic=dlq,
            original=f"{record.topic}[{record.partition}]@{record.offset}",
            event_id=meta.get("ce_id"),
            event_type=meta.get("ce_type"),
            error=error[:500],
        )
        return True

    def _mark(
        self,
        record: ConsumerRecord[bytes, bytes],
        meta: dict[str, str],
        now: datetime,
        attempts: int,
        *,
        seen: bool,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "group": self.group,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "event_id": meta.get("ce_id"),
            "type": meta.get("ce_type"),
            "attempts": attempts,
            "first_failed_at": now,
        }
        if seen:
            doc.update(seen=1, last_seen_at=now)
        return doc


@dataclass
class DeadLetter:
    topic: str
    offset: int
    partition: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    copies: int = field(default=1)  # the same record dead-lettered again by the same group (older versions)

    @property
    def meta(self) -> dict[str, str]:
        return headers_dict(self.headers)

    @property
    def event_id(self) -> str:
        return self.meta.get("ce_id", "")

    @property
    def identity(self) -> str:
        """The group and the original record (`letter_key`)."""
        meta = self.meta
        return letter_key(
            meta.get("dlq_group", ""),
            meta.get("dlq_original_topic", ""),
            meta.get("dlq_original_partition", ""),
            meta.get("dlq_original_offset", ""),
        )

    def summary(self) -> dict[str, Any]:
        """What `list` prints: personal data masked."""
        meta = self.meta
        return {
            "event_id": meta.get("ce_id"),
            "type": meta.get("ce_type"),
            "group": meta.get("dlq_group"),
            "attempts": meta.get("dlq_attempts"),
            "failed_at": meta.get("dlq_failed_at"),
            "original": f"{meta.get('dlq_original_topic')}[{meta.get('dlq_original_partition')}]"
            f"@{meta.get('dlq_original_offset')}",
            "error": mask_personal_data(meta.get("dlq_error") or ""),
            "copies": self.copies,
        }


async def load(settings: ServiceSettings, topic: str) -> tuple[list[DeadLetter], set[tuple[str, str]]]:
    """Dead letters of `topic` (copies of the same record by the same group counted as one letter) and the
    (event id, group) pairs already replayed."""
    dlq = dlq_topic_of(topic)
    letters: dict[str, DeadLetter] = {}
    replayed: set[tuple[str, str]] = set()
    async for record in read_to_end(settings, [dlq]):
        meta = headers_dict(record.headers)
        if meta.get(REPLAYED_MARK):
            replayed.add((meta.get("ce_id", ""), meta.get("dlq_group", "")))
            continue
        letter = DeadLetter(
            record.topic,
            record.offset,
            record.partition,
            record.key,
            record.value or b"",
            list(record.headers or []),
        )
        if letter.identity in letters:
            letters[letter.identity].copies += 1
        else:
            letters[letter.identity] = letter
    return list(letters.values()), replayed


async def pending(settings: ServiceSettings, topic: str) -> list[DeadLetter]:
    letters, replayed = await load(settings, topic)
    return [d for d in letters if (d.event_id, d.meta.get("dlq_group", "")) not in replayed]


async def replay(
    settings: ServiceSettings,
    topic: str,
    *,
    event_ids: set[str] | None = None,
    group: str | None = None,
    again: bool = False,
) -> list[DeadLetter]:
    letters, replayed = await load(settings, topic)
    chosen = [
        d
        for d in letters
        if (event_ids is None or d.event_id in event_ids)
        and (group is None or d.meta.get("dlq_group") == group)
        and (again or (d.event_id, d.meta.get("dlq_group", "")) not in replayed)
    ]
    if not chosen:
        return []
    await republish(settings, topic, chosen)
    return chosen


async def replay_letter(settings: ServiceSettings, topic: str, identity: str) -> list[DeadLetter]:
    """Replay the one letter whose `identity` (`letter_key`) is given, even if its event id was replayed
    before for the same group (a record that failed again after a replay is a new letter with a new offset).
    Nothing is published when the dead-letter topic does not hold it."""
    letters, _ = await load(settings, topic)
    chosen = [d for d in letters if d.identity == identity]
    if chosen:
        await republish(settings, topic, chosen)
    return chosen


async def republish(settings: ServiceSettings, topic: str, chosen: list[DeadLetter]) -> None:
    """Publish `chosen` again to their original topics and mark them replayed in the dead-letter topic."""
    producer = create_producer(settings)
    await producer.start()
    try:
        for letter in chosen:
            original = letter.meta.get("dlq_original_topic") or topic.removesuffix(DLQ_SUFFIX)
            headers = [(k, v) for k, v in letter.headers if not k.startswith("dlq_")]
            await (await producer.send(original, value=letter.value, key=letter.key, headers=headers))
            mark = [(k, v) for k, v in letter.headers if k in {"ce_id", "ce_type", "dlq_group"}]
            mark.append((REPLAYED_MARK, b"1"))
            await (await producer.send(letter.topic, value=b"{}", key=letter.key, headers=mark))
    finally:
        await producer.stop()


async def store_letters(settings: ServiceSettings, database: str, *, pending_only: bool = True) -> list[Any]:
    from .mongo import create_client
    from .subscription import STORE_DEAD_LETTERS

    client = create_client(settings.mongo_url)
    try:
        query: dict[str, Any] = {"replayed": False} if pending_only else {}
        return [doc async for doc in client[database][STORE_DEAD_LETTERS].find(query).sort("failed_at", 1)]
    finally:
        await client.close()


async def replay_store(settings: ServiceSettings, database: str, event_ids: set[str] | None) -> int:
    """Ask the service's subscriptions to apply these dead letters again (its leader does it soon)."""
    from .mongo import create_client
    from .subscription import STORE_DEAD_LETTERS

    client = create_client(settings.mongo_url)
    try:
        query: dict[str, Any] = {"replayed": False}
        if event_ids:
            query["event_id"] = {"$in": sorted(event_ids)}
        result = await client[database][STORE_DEAD_LETTERS].update_many(query, {"$set": {"replay": True}})
        return result.modified_count
    finally:
        await client.close()


async def _main(args: argparse.Namespace) -> None:
    settings = ServiceSettings()
    if args.store:
        if args.command == "list":
            letters = await store_letters(settings, args.store, pending_only=not args.all)
            for doc in letters:
                fields = ("event_id", "type", "subscription", "attempts", "failed_at", "seen", "last_seen_at")
                shown = {k: str(doc.get(k)) for k in fields} | {"error": str(doc.get("error"))}
                print(json.dumps(mask_value(shown), ensure_ascii=False))
            print(f"{len(letters)} dead letter(s) in {args.store}")
        else:
            ids = set(args.event_id) if args.event_id else None
            print(f"{await replay_store(settings, args.store, ids)} marked for replay")
        return
    if not args.topic:
        raise SystemExit("name a topic, or --store DATABASE")
    await kafka.ensure_topics(settings, [args.topic.removesuffix(DLQ_SUFFIX)])
    if args.command == "list":
        if args.all:
            letters, _ = await load(settings, args.topic)
        else:
            letters = await pending(settings, args.topic)
        for letter in letters:
            print(json.dumps(mask_value(letter.summary()), ensure_ascii=False))
        print(f"{len(letters)} dead letter(s)")
    else:
        ids = set(args.event_id) if args.event_id else None
        done = await replay(settings, args.topic, event_ids=ids, group=args.group, again=args.again)
        for letter in done:
            meta = letter.meta
            print(f"replayed {letter.event_id} ({meta.get('ce_type')}) for {meta.get('dlq_group')}")
        print(f"{len(done)} replayed")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.dlq",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("topic", nargs="?", help="the topic (e.g. registration.events) or its .dlq")
    parser.add_argument("--store", metavar="DATABASE", help="a service's own dead letters (its database)")
    parser.add_argument("--event-id", action="append", help="replay only these event ids")
    parser.add_argument("--group", help="replay only letters of this consumer group")
    parser.add_argument("--again", action="store_true", help="replay letters that were replayed before")
    parser.add_argument("--all", action="store_true", help="list replayed letters too")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
