"""Large batches on a real MongoDB: a command on one applicant reads that applicant's stream only, whatever
the size of its batch; streams written before ApplicantRegistered still work (the batch chunk naming the
applicant is read, only it); a paid order's applicants follow it through the idempotent handler in short
transactions, and running it twice changes nothing; trainees go to the exam; the bulk append writes what the
store writes."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import bson
import pytest
from enrollment.application import handlers, imports, institutions, review
from enrollment.application import training as training_app
from enrollment.application.policies import OrderOutcomeRefused, follow_order
from enrollment.domain import applicant as applicant_domain
from enrollment.domain.batch import BatchForm, import_batch
from enrollment.domain.events import (
    ApplicantMaterials,
    ApplicantRegistered,
    HeadPhotoLocked,
    MaterialDocument,
    MaterialsUploaded,
)
from enrollment.domain.identity import id_check_character
from enrollment.domain.institution import OfferForm
from enrollment.domain.sheet import COLUMNS
from enrollment.domain.training import PlanForm
from enrollment.projections.read_models import ENTERPRISES
from events import ApplicantQualified, ExamApplied, OrderPaid, OrderRefunded
from events.enrollment import ImportedApplicant, OfferLine
from servicekit import streams
from servicekit.errors import ConcurrencyConflict, NotFound
from servicekit.eventstore import EVENTS, EventStore
from servicekit.mongo import Document, create_client
from servicekit.testing import unique_name

pytestmark = pytest.mark.integration

TODAY = date(2026, 3, 1)
INSTITUTION = "inst-large"
ENTERPRISE = "ent-large"
REGIONS = ("330106", "330203", "330302", "330402", "330502", "330602", "330702", "330802", "330902")


def id_number(n: int) -> str:
    """A distinct valid ID number for every n < 260,000 (aged 26–51 on TODAY)."""
    birth = date(1975 + n % 26, 1 + (n // 26) % 12, 1 + (n // 312) % 28)
    first17 = f"{REGIONS[(n // 8736) % 9]}{birth:%Y%m%d}{(n // 78624) % 1000:03d}"
    return first17 + id_check_character(first17)


def rows(count: int, first: int = 0) -> list[list[object]]:
    found: list[list[object]] = []
    for n in range(first, first + count):
        number = id_number(n)
        gender = "男" if int(number[16]) % 2 else "女"
        found.append(
            [f"学员{n}", gender, number, f"13{n:09d}", "大专", "杭州建工集团有限公司", "土木工程", None, 3]
        )
    return found


@pytest.fixture
async def store(stack_env: dict[str, str]) -> AsyncIterator[EventStore]:
    client = create_client(stack_env["MONGO_URL"])
    name = unique_name("large-batch")
    store = EventStore(client, client[name], source="/enrollment")
    await store.ensure_indexes()
    await handlers.ensure_indexes(store)
    await training_app.ensure_training_indexes(store)
    await institutions.publish_offer(
        store,
        institution_id=INSTITUTION,
        form=OfferForm(
            name="浙江育人专修学院",
            city="杭州",
            offers=[OfferLine(position="施工员", specialisation="土建施工", fee_online_fen=60000)],
            payment_methods=["offline"],
        ),
    )
    # the enterprise as registration's EnterpriseApproved leaves it: every 工作单位 must be its name
    await store.db[ENTERPRISES].insert_one(
        {"_id": ENTERPRISE, "status": "approved", "name": "杭州建工集团有限公司"}
    )
    try:
        yield store
    finally:
        await client.drop_database(name)
        await client.close()


async def import_rows(store: EventStore, count: int, first: int = 0) -> list[str]:
    result = await imports.validate_and_import(
        store,
        enterprise_id=ENTERPRISE,
        spec=imports.BatchSpec(
            institution_id=INSTITUTION, position="施工员", specialisation="土建施工", training_mode="online"
        ),
        header=list(COLUMNS),
        rows=rows(count, first),
        today=TODAY,
    )
    return list(result["applicant_ids"])


async def qualify(store: EventStore, applicant_ids: list[str]) -> None:
    for start in range(0, len(applicant_ids), 1000):
        await review.review(
            store,
            applicant_ids[start : start + 1000],
            institution_id=INSTITUTION,
            reviewer_id="r",
            approve=True,
        )


async def statuses(store: EventStore, applicant_ids: list[str]) -> set[applicant_domain.Status]:
    return {a.state.status for a in (await handlers.read_applicants(store, applicant_ids)).values()}


# ------------------------------------------------------------------------------ what a command reads


class _Cursor:
    def __init__(self, cursor: Any, name: str, reads: list[tuple[str, Document]]) -> None:
        self._cursor, self._name, self._reads = cursor, name, reads

    def sort(self, *args: Any, **kwargs: Any) -> _Cursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, *args: Any) -> _Cursor:
        self._cursor = self._cursor.limit(*args)
        return self

    def batch_size(self, *args: Any) -> _Cursor:
        self._cursor = self._cursor.batch_size(*args)
        return self

    async def _documents(self) -> AsyncIterator[Document]:
        async for doc in self._cursor:
            self._reads.append((self._name, doc))
            yield doc

    def __aiter__(self) -> AsyncIterator[Document]:
        return self._documents()


class _Collection:
    def __init__(self, collection: Any, name: str, reads: list[tuple[str, Document]]) -> None:
        self._collection, self._name, self._reads = collection, name, reads

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._collection.find(*args, **kwargs), self._name, self._reads)

    async def find_one(self, *args: Any, **kwargs: Any) -> Document | None:
        doc: Document | None = await self._collection.find_one(*args, **kwargs)
        if doc is not None:
            self._reads.append((self._name, doc))
        return doc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


class CountingDatabase:
    """The service's database, recording every document a query returns (collection, document)."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self.reads: list[tuple[str, Document]] = []

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._database[name], name, self.reads)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)

    def events_read(self) -> list[Document]:
        return [doc for collection, doc in self.reads if collection == EVENTS]

    def bytes_read(self) -> int:
        return sum(len(bson.encode(doc)) for _, doc in self.reads)


def counting(store: EventStore) -> tuple[EventStore, CountingDatabase]:
    database = CountingDatabase(store.db)
    return EventStore(store.client, database, source=store.source), database


async def test_a_command_on_one_applicant_of_a_large_batch_reads_its_stream_only(store: EventStore) -> None:
    ids = await import_rows(store, 2000)
    chunks = [d async for d in store.db[EVENTS].find({"stream_id": {"$regex": "^batch-"}}, {"_id": 1})]
    assert len(chunks) == 4, "2,000 rows are 4 public ApplicantsImported chunks on the batch's stream"
    first, version = await store.load_events(handlers.applicant_stream(ids[1234]))
    registration = first[0]
    assert isinstance(registration, ApplicantRegistered) and version == 1

    for applicant_id in (ids[0], ids[1234], ids[-1]):
        observed, database = counting(store)
        await review.review(
            observed, [applicant_id], institution_id=INSTITUTION, reviewer_id="r", approve=True
        )
        streams_read = {doc["stream_id"] for doc in database.events_read()}
        assert streams_read == {handlers.applicant_stream(applicant_id)}, streams_read
        assert len(database.events_read()) == 1, "the applicant's ApplicantRegistered, once"
        assert [c for c, _ in database.reads] == [EVENTS], "no index, no batch"
        assert database.bytes_read() < 4096, database.bytes_read()

        observed, database = counting(store)
        state, version = await handlers.load_applicant(observed, applicant_id)
        assert state.status is applicant_domain.Status.QUALIFIED and version == 2
        assert {doc["stream_id"] for doc in database.events_read()} == {
            handlers.applicant_stream(applicant_id)
        }
        assert len(database.reads) == 2, "the detail page reads the applicant's two events"

    history, _ = await store.load_events(handlers.applicant_stream(ids[1234]))
    assert isinstance(history[1], ApplicantQualified) and history[1].batch_id == registration.batch.batch_id


async def test_legacy_streams_read_the_chunk_naming_the_applicant(store: EventStore) -> None:
    """An applicant imported before ApplicantRegistered existed: batch chunks and index rows only."""
    applicants = [
        ImportedApplicant(
            applicant_id=f"old-{n}", name=f"老学员{n}", gender="男", id_number=id_number(90_000 + n)
        )
        for n in range(7)
    ]
    form = BatchForm(
        batch_id="legacy",
        enterprise_id=ENTERPRISE,
        institution_id=INSTITUTION,
        position="施工员",
        specialisation="土建施工",
        training_mode="online",
        applicants=applicants,
    )
    chunks = import_batch([], form, chunk=3)
    await store.append(handlers.batch_stream("legacy"), chunks, expected_version=0, stream_type="batch")
    await store.db[handlers.APPLICANT_INDEX].insert_many(
        [
            {
                "_id": a.applicant_id,
                "batch_id": "legacy",
                "enterprise_id": ENTERPRISE,
                "institution_id": INSTITUTION,
                "id_number": a.id_number,
                "position": "施工员",
                "continuing_education": False,
            }
            for a in applicants
        ]
    )

    observed, database = counting(store)
    await review.review(observed, ["old-4"], institution_id=INSTITUTION, reviewer_id="r", approve=True)
    batch_docs = [d for d in database.events_read() if d["stream_id"] == "batch-legacy"]
    assert [d["version"] for d in batch_docs] == [2], "only the chunk naming old-4 (of 3 chunks)"
    state, version = await handlers.load_applicant(store, "old-4")
    assert state.status is applicant_domain.Status.QUALIFIED and version == 1
    assert state.record.name == "老学员4" and state.batch.batch_id == "legacy"

    with pytest.raises(NotFound):
        await handlers.load_applicant(store, "nobody")

    # the bulk paths (a review of many, a paid order) know legacy applicants too
    others = [f"old-{n}" for n in range(7) if n != 4]
    await qualify(store, others)
    paid = OrderPaid(
        order_id="o-legacy",
        order_number="DD1",
        enterprise_id=ENTERPRISE,
        institution_id=INSTITUTION,
        applicant_ids=[f"old-{n}" for n in range(7)],
        amount_fen=7 * 60000,
    )
    await follow_order(store, paid)
    assert await statuses(store, paid.applicant_ids) == {applicant_domain.Status.ENROLLED}


async def test_a_paid_order_enrolls_in_short_transactions_and_twice_changes_nothing(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await import_rows(store, 300, first=20_000)
    await qualify(store, ids)
    transactions: list[int] = []
    original = streams.in_transaction

    async def recorded(client: Any, work: Callable[[Any], Awaitable[Any]], **kwargs: Any) -> Any:
        result = await original(client, work, **kwargs)
        transactions.append(result)
        return result

    monkeypatch.setattr(streams, "in_transaction", recorded)

    async def events_stored() -> int:
        return await store.db[EVENTS].count_documents({})

    paid = OrderPaid(
        order_id="o-1",
        order_number="DD2",
        enterprise_id=ENTERPRISE,
        institution_id=INSTITUTION,
        applicant_ids=ids,
        amount_fen=len(ids) * 60000,
    )
    await follow_order(store, paid)
    assert await statuses(store, ids) == {applicant_domain.Status.ENROLLED}
    assert len(transactions) == math.ceil(len(ids) / 50) and max(transactions) == 50, transactions
    stored = await events_stored()

    transactions.clear()
    await follow_order(store, paid)  # the handler runs again (a crash before the position was recorded)
    assert await events_stored() == stored and transactions == [], "twice changes nothing"

    refunded = OrderRefunded(
        order_id="o-1",
        enterprise_id=ENTERPRISE,
        institution_id=INSTITUTION,
        applicant_ids=ids,
        amount_fen=paid.amount_fen,
        reason="企业取消培训",
        refunded_by="r",
    )
    await follow_order(store, refunded)
    assert await statuses(store, ids) == {applicant_domain.Status.QUALIFIED}
    stored = await events_stored()
    await follow_order(store, refunded)
    await follow_order(store, paid)  # a redelivered payment of the refunded order enrolls nobody again
    assert await events_stored() == stored
    assert await statuses(store, ids) == {applicant_domain.Status.QUALIFIED}

    # an applicant rejected after the order was made: the others are enrolled, the event fails loudly
    await review.review(
        store, [ids[7]], institution_id=INSTITUTION, reviewer_id="r", approve=False, reason="资料不全"
    )
    second = paid.model_copy(update={"order_id": "o-2"})
    with pytest.raises(OrderOutcomeRefused, match=ids[7]):
        await follow_order(store, second)
    assert await statuses(store, [a for a in ids if a != ids[7]]) == {applicant_domain.Status.ENROLLED}
    assert await statuses(store, [ids[7]]) == {applicant_domain.Status.REJECTED}


async def test_trainees_of_a_large_batch_go_to_the_exam(store: EventStore) -> None:
    ids = await import_rows(store, 1200, first=40_000)
    trainees = ids[600:660]
    await qualify(store, trainees)
    paid = OrderPaid(
        order_id="o-t",
        order_number="DD3",
        enterprise_id=ENTERPRISE,
        institution_id=INSTITUTION,
        applicant_ids=trainees,
        amount_fen=len(trainees) * 60000,
    )
    await follow_order(store, paid)
    loaded = await handlers.read_applicants(store, trainees)
    batch_id = loaded[trainees[0]].state.batch.batch_id
    materials = MaterialsUploaded(
        batch_id=batch_id,
        enterprise_id=ENTERPRISE,
        institution_id=INSTITUTION,
        applicants=[
            ApplicantMaterials(
                applicant_id=a,
                id_number=loaded[a].state.record.id_number,
                documents=[
                    MaterialDocument(
                        document="头像",
                        object_key=f"batches/{batch_id}/{a}/头像.jpg",
                        content_type="image/jpeg",
                        size=9,
                    )
                ],
                photo_ok=True,
            )
            for a in trainees[:-1]  # the last one has no head photo
        ],
    )
    stream = handlers.batch_stream(batch_id)
    await store.append(
        stream, [materials], expected_version=await store.version_of(stream), stream_type="batch"
    )
    plan = await training_app.create_plan(
        store,
        institution_id=INSTITUTION,
        form=PlanForm(
            name="线上班",
            training_mode="online",
            position="施工员",
            starts_on=date.today() + timedelta(days=1),
            ends_on=date.today() + timedelta(days=20),
            platform="浙江省建设人才网络学院",
        ),
    )
    added = await training_app.add_trainees(
        store, plan_id=plan.plan_id, institution_id=INSTITUTION, applicant_ids=trainees
    )
    assert len(added.done) == len(trainees)
    again = await training_app.add_trainees(
        store, plan_id=plan.plan_id, institution_id=INSTITUTION, applicant_ids=trainees
    )
    assert len(again.unchanged) == len(trainees) and not again.done
    done = await training_app.record_completion(
        store, plan_id=plan.plan_id, institution_id=INSTITUTION, applicant_ids=trainees
    )
    assert len(done.done) == len(trainees)

    observed, database = counting(store)
    applied = await training_app.apply_for_exam(
        observed,
        plan_id=plan.plan_id,
        institution_id=INSTITUTION,
        applicant_ids=trainees,
        bucket="enrollment",
    )
    assert applied.done == trainees[:-1]
    assert [r.code for r in applied.refused] == ["head_photo_missing"]
    chunks = [d for d in database.events_read() if d["type"] != MaterialsUploaded.type_name()]
    assert all(not d["stream_id"].startswith("batch-") for d in chunks), "no ApplicantsImported chunk is read"
    assert len(database.events_read()) < 12 * len(trainees), "a few events per trainee, not the batch"

    history, _ = await store.load_events(handlers.applicant_stream(trainees[3]))
    exam = history[-1]
    assert isinstance(exam, ExamApplied) and exam.head_photo_key.endswith(f"{trainees[3]}/头像.jpg")
    locks = await store.db[EVENTS].count_documents({"type": HeadPhotoLocked.type_name()})
    assert locks == len(trainees) - 1, "each person's head photo is locked once"
    again = await training_app.apply_for_exam(
        store, plan_id=plan.plan_id, institution_id=INSTITUTION, applicant_ids=trainees, bucket="enrollment"
    )
    assert again.unchanged == trainees[:-1] and not again.done


async def test_the_bulk_append_writes_what_the_store_writes(store: EventStore) -> None:
    record = ImportedApplicant(applicant_id="x", name="张三", gender="男", id_number=id_number(7))
    registration = applicant_domain.registrations(
        import_batch(
            [],
            BatchForm(
                batch_id="b",
                enterprise_id=ENTERPRISE,
                institution_id=INSTITUTION,
                position="施工员",
                training_mode="online",
                applicants=[record],
            ),
        )
    )[0]
    await store.append("applicant-by-store", [registration], expected_version=0, stream_type="applicant")
    bulk = streams.Streams(store)
    bulk.add("applicant-by-streams", [registration], stream_type="applicant")
    await streams.commit(store, bulk)
    by_store = await store.db[EVENTS].find_one({"stream_id": "applicant-by-store"})
    by_streams = await store.db[EVENTS].find_one({"stream_id": "applicant-by-streams"})
    assert by_store is not None and by_streams is not None
    assert set(by_store) == set(by_streams)
    different = {"_id", "stream_id", "recorded_at"}
    assert {k: v for k, v in by_store.items() if k not in different} == {
        k: v for k, v in by_streams.items() if k not in different
    }
    assert (await store.load_events("applicant-by-streams"))[0] == [registration]

    # appended after what was read; a stream that moved since is a concurrency conflict
    later = streams.Streams(store)
    await later.read(["applicant-by-streams"])
    await store.append(
        "applicant-by-streams",
        applicant_domain.qualify(applicant_domain.Applicant.from_history([registration]), reviewer_id="r"),
        expected_version=1,
    )
    later.add("applicant-by-streams", [registration], stream_type="applicant")
    with pytest.raises(ConcurrencyConflict):
        await streams.commit(store, later)
