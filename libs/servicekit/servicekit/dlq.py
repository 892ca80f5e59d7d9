"""Dead letters: list what a `<topic>.dlq` holds and replay it to the original topic.

    python -m servicekit.dlq list   registration.events            # one line per dead letter
    python -m servicekit.dlq replay registration.events [--event-id ID ...] [--group G]
    python -m servicekit.dlq list   --store enrollment             # a service's own events its projections
    python -m servicekit.dlq replay --store enrollment [--event-id ID ...]   # gave up on (in its database)

Replaying re-publishes the original record (same event id, original headers, the `dlq_*` headers dropped).
Consumer groups that already handled it skip it by de-duplication; the one that failed handles it again.
A replay is recorded as a `dlq_replayed` record in the dead-letter topic itself, so `list` shows what is
still waiting and nothing is replayed twice by accident (use --again to force).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass
from typing import Any

from . import kafka
from .kafka import DLQ_SUFFIX, create_producer, headers_dict, read_to_end
from .settings import ServiceSettings

REPLAYED_MARK = "dlq_replayed"


@dataclass
class DeadLetter:
    topic: str
    offset: int
    partition: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def meta(self) -> dict[str, str]:
        return headers_dict(self.headers)

    @property
    def event_id(self) -> str:
        return self.meta.get("ce_id", "")

    def summary(self) -> dict[str, Any]:
        meta = self.meta
        return {
            "event_id": meta.get("ce_id"),
            "type": meta.get("ce_type"),
            "group": meta.get("dlq_group"),
            "attempts": meta.get("dlq_attempts"),
            "failed_at": meta.get("dlq_failed_at"),
            "original": f"{meta.get('dlq_original_topic')}[{meta.get('dlq_original_partition')}]"
            f"@{meta.get('dlq_original_offset')}",
            "error": meta.get("dlq_error"),
        }


async def load(settings: ServiceSettings, topic: str) -> tuple[list[DeadLetter], set[tuple[str, str]]]:
    """Dead letters of `topic` and the (event id, group) pairs already replayed."""
    dlq = topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX
    letters: list[DeadLetter] = []
    replayed: set[tuple[str, str]] = set()
    async for record in read_to_end(settings, [dlq]):
        meta = headers_dict(record.headers)
        if meta.get(REPLAYED_MARK):
            replayed.add((meta.get("ce_id", ""), meta.get("dlq_group", "")))
            continue
        letters.append(
            DeadLetter(
                record.topic,
                record.offset,
                record.partition,
                record.key,
                record.value or b"",
                list(record.headers or []),
            )
        )
    return letters, replayed


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
    return chosen


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
                print(
                    json.dumps(
                        {
                            k: str(doc.get(k))
                            for k in ("event_id", "type", "subscription", "attempts", "failed_at", "error")
                        },
                        ensure_ascii=False,
                    )
                )
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
            print(json.dumps(letter.summary(), ensure_ascii=False))
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
