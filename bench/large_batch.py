"""A 10,000-row batch from import to the exam application (enrollment, payment), on the real local stack.

Each service's application layer runs in process against the stack's MongoDB and S3 (no HTTP, no Kafka: the
events a service needs from another one are handed to its projection or policy directly, as its consumer
would). In one run, side by side, a large batch (`BENCH_LARGE_BATCH_ROWS`, default 10,000 rows) and a 10-row
batch of the same enterprise, institution, position and mode go through:

- import (one transaction: the public chunks, every applicant's own stream, the applicant index);
- one-applicant commands on 10 applicants of each batch, interleaved: read the applicant (the detail page),
  qualify one, reject one, qualify again — the figure is the median per command, and the ratio is large batch
  against small batch (goal ≤ 1.5: an applicant command does not grow with its batch);
- qualify all the others (bulk review, 1,000 per request);
- an order of 500 applicants (10 for the small batch): create, voucher, confirm (payment), then the paid
  order's applicants become 已报名 through enrollment's idempotent OrderPaid handler (run twice: the second
  run changes nothing); a second order of 500 is paid and refunded (OrderRefunded reverts its applicants);
- a training plan: its 500 trainees added, their completion, their application for the exam (head photos
  from a materials upload recorded for them);
- every MongoDB transaction is timed (pymongo's session instrumented): the longest one of each step, and of
  the whole run (goal: none over 5 s).
Bulk steps are printed per applicant too (their small-batch figure carries a request's fixed cost over 10).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from enrollment.application import handlers as enrollment_handlers
from enrollment.application import imports, institutions, review
from enrollment.application import training as training_app
from enrollment.application.policies import follow_order
from enrollment.domain import applicant as applicant_domain
from enrollment.domain.events import ApplicantMaterials, MaterialDocument, MaterialsUploaded
from enrollment.domain.institution import OfferForm
from enrollment.domain.reference import EDUCATION_LEVELS
from enrollment.domain.sheet import COLUMNS
from enrollment.domain.training import PlanForm
from enrollment.projections import read_models as enrollment_read_models
from events import (
    ApplicantQualified,
    DomainEvent,
    EnterpriseApproved,
    Envelope,
    OfferPublished,
    OrderPaid,
    OrderRefunded,
)
from events.enrollment import OfferLine
from events.payment import InvoiceDetails
from payment.application import handlers as payment_handlers
from payment.domain.order import VoucherForm
from payment.projections import offers as payment_offers
from payment.projections import read_models as payment_read_models
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from servicekit.consumer import ReceivedEvent
from servicekit.eventstore import EventStore
from servicekit.localstack import LocalStack, StackConfig, uses_external_servers
from servicekit.mongo import Document, Session, create_client, in_transaction
from servicekit.objectstore import ObjectStore
from servicekit.projections import Projection
from servicekit.settings import ServiceSettings

from bench.enrollment_import import EMPLOYER, TODAY, valid_id

SMALL = 10  # rows of the small batch
SAMPLE = 10  # applicants of each batch measured one by one
REVIEW_REQUEST = 1000  # applicants per bulk review (the API's limit)
GOAL_RATIO = 1.5
GOAL_TRANSACTION = 5.0
POSITION, SPECIALISATION, MODE = "施工员", "土建施工", "online"
CREDIT_CODE = "91350100M000100Y43"
ENTERPRISE_NAME = EMPLOYER  # the name the sheet's 工作单位 column holds


# ------------------------------------------------------------------------------------- transactions timed

step_var: contextvars.ContextVar[str] = contextvars.ContextVar("bench_step", default="setup")


class TransactionClock:
    """Times every transaction of the process: from `start_transaction` to its commit or abort."""

    def __init__(self) -> None:
        self.longest: dict[str, tuple[float, int]] = {}  # step -> (seconds, count)
        self._started: dict[int, tuple[float, str]] = {}
        self._originals: dict[str, Any] = {}

    def _finished(self, session: AsyncClientSession) -> None:
        started = self._started.pop(id(session), None)
        if started is None:
            return
        seconds = time.perf_counter() - started[0]
        longest, count = self.longest.get(started[1], (0.0, 0))
        self.longest[started[1]] = (max(longest, seconds), count + 1)

    @contextlib.contextmanager
    def installed(self) -> Iterator[TransactionClock]:
        clock = self
        start = AsyncClientSession.start_transaction
        commit = AsyncClientSession.commit_transaction
        abort = AsyncClientSession.abort_transaction

        async def start_transaction(self: AsyncClientSession, *args: Any, **kwargs: Any) -> Any:
            result = await start(self, *args, **kwargs)
            clock._started[id(self)] = (time.perf_counter(), step_var.get())
            return result

        async def commit_transaction(self: AsyncClientSession) -> None:
            try:
                await commit(self)
            finally:
                clock._finished(self)

        async def abort_transaction(self: AsyncClientSession) -> None:
            try:
                await abort(self)
            finally:
                clock._finished(self)

        AsyncClientSession.start_transaction = start_transaction  # type: ignore[method-assign]
        AsyncClientSession.commit_transaction = commit_transaction  # type: ignore[method-assign]
        AsyncClientSession.abort_transaction = abort_transaction  # type: ignore[method-assign]
        try:
            yield self
        finally:
            AsyncClientSession.start_transaction = start  # type: ignore[method-assign]
            AsyncClientSession.commit_transaction = commit  # type: ignore[method-assign]
            AsyncClientSession.abort_transaction = abort  # type: ignore[method-assign]

    def of(self, step: str) -> float:
        return self.longest.get(step, (0.0, 0))[0]

    def overall(self) -> tuple[float, str]:
        if not self.longest:
            return 0.0, "-"
        step = max(self.longest, key=lambda s: self.longest[s][0])
        return self.longest[step][0], step


# ------------------------------------------------------------------------------------------ the services


@dataclass
class Platform:
    client: AsyncMongoClient[Document]
    enrollment: EventStore
    payment: EventStore
    objects: ObjectStore  # payment's bucket (vouchers)
    bucket: str  # enrollment's bucket (the head photos' references)
    institution_id: str
    enterprise_id: str
    payment_projections: list[Projection] = field(default_factory=list)


def _settings(env: dict[str, str], name: str) -> ServiceSettings:
    return ServiceSettings(
        service_name=name,
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        mongo_url=env["MONGO_URL"],
        s3_endpoint=env["S3_ENDPOINT"],
        s3_access_key=env.get("S3_ACCESS_KEY", ""),
        s3_secret_key=env.get("S3_SECRET_KEY", ""),
    )


def rows(count: int, first: int, seen: set[str]) -> list[list[object]]:
    """`count` valid summary-sheet rows (附件4), from `valid_id(first)` on, with ID numbers not in `seen`
    (which gets them): the rows `enrollment_import.build_sheet` writes, without the .xlsx."""
    educations = list(EDUCATION_LEVELS)
    found: list[list[object]] = []
    n = first
    while len(found) < count:
        number = valid_id(n)
        n += 1
        if number in seen:
            continue
        seen.add(number)
        i = len(found) + first
        gender = "男" if int(number[16]) % 2 else "女"
        found.append(
            [
                f"学员{i:05d}",
                gender,
                number,
                f"13{i:09d}",
                educations[i % len(educations)],
                ENTERPRISE_NAME,
                "土木工程",
                "2010-06-30",
                3,
            ]
        )
    return found


async def deliver(client: AsyncMongoClient[Document], projection: Projection, items: Sequence[Any]) -> None:
    """Events to another service's projection, as its consumer would apply them (100 per transaction)."""
    for start in range(0, len(items), 100):

        async def work(session: Session, chunk: Sequence[Any] = items[start : start + 100]) -> None:
            for event, subject in chunk:
                envelope = Envelope.for_event(event, subject=subject, source="/bench")
                await projection.handlers.dispatch(
                    ReceivedEvent(envelope, event, event.topic(), 0, 0), session
                )

        await in_transaction(client, work)


async def setup(env: dict[str, str]) -> Platform:
    suffix = uuid.uuid4().hex[:6]
    enrollment_settings = _settings(env, f"bench-enrollment-{suffix}")
    payment_settings = _settings(env, f"bench-payment-{suffix}")
    client = create_client(env["MONGO_URL"])
    enrollment = EventStore(client, client[enrollment_settings.database_name], source="/enrollment")
    payment = EventStore(client, client[payment_settings.database_name], source="/payment")
    for store in (enrollment, payment):
        await store.ensure_indexes()
    await enrollment_handlers.ensure_indexes(enrollment)
    await training_app.ensure_training_indexes(enrollment)
    objects = ObjectStore(payment_settings)
    await objects.ensure_bucket()
    platform = Platform(
        client=client,
        enrollment=enrollment,
        payment=payment,
        objects=objects,
        bucket=enrollment_settings.bucket_name,
        institution_id=f"inst-{suffix}",
        enterprise_id=f"ent-{suffix}",
        payment_projections=[
            payment_read_models.qualified_applicants(payment_settings.database_name),
            payment_offers.offers(payment_settings.database_name),
            payment_offers.enterprises(payment_settings.database_name),
        ],
    )
    for projection in platform.payment_projections:
        await projection.ensure_indexes(payment.db)
    await institutions.publish_offer(
        enrollment,
        institution_id=platform.institution_id,
        form=OfferForm(
            name="浙江育人专修学院",
            city="杭州",
            offers=[OfferLine(position=POSITION, specialisation=SPECIALISATION, fee_online_fen=60000)],
            payment_methods=["offline"],
        ),
    )
    offer_stream = institutions.stream_id(platform.institution_id)
    offer = await last_event(enrollment, offer_stream, OfferPublished)
    approved = EnterpriseApproved(
        enterprise_id=platform.enterprise_id,
        credit_code=CREDIT_CODE,
        name=ENTERPRISE_NAME,
        city="杭州",
        reviewer_id="bench",
    )
    await deliver(client, platform.payment_projections[1], [(offer, offer_stream)])
    await deliver(
        client, platform.payment_projections[2], [(approved, f"enterprise-{platform.enterprise_id}")]
    )
    # enrollment knows the enterprise's registered name too (the sheet's 工作单位 must be it)
    await deliver(
        client,
        enrollment_read_models.enterprise_status(enrollment_settings.database_name),
        [(approved, f"enterprise-{platform.enterprise_id}")],
    )
    return platform


async def teardown(platform: Platform) -> None:
    for store in (platform.enrollment, platform.payment):
        await platform.client.drop_database(store.db.name)
    await platform.client.close()


# ------------------------------------------------------------------------------------------------ steps


@dataclass
class Batch:
    label: str
    batch_id: str
    applicant_ids: list[str]


@dataclass
class Figures:
    rows: list[tuple[str, float, float, str]] = field(default_factory=list)  # label, large, small, step

    def add(self, label: str, large: float, small: float, step: str) -> None:
        self.rows.append((label, large, small, step))


@contextlib.asynccontextmanager
async def step(name: str) -> AsyncIterator[None]:
    token = step_var.set(name)
    try:
        yield
    finally:
        step_var.reset(token)


async def timed(name: str, work: Callable[[], Awaitable[object]]) -> float:
    async with step(name):
        started = time.perf_counter()
        await work()
        return time.perf_counter() - started


async def import_batch(platform: Platform, label: str, sheet: list[list[object]]) -> tuple[Batch, float]:
    spec = imports.BatchSpec(
        institution_id=platform.institution_id,
        position=POSITION,
        specialisation=SPECIALISATION,
        training_mode=MODE,
    )
    result: dict[str, Any] = {}

    async def work() -> None:
        result.update(
            await imports.validate_and_import(
                platform.enrollment,
                enterprise_id=platform.enterprise_id,
                spec=spec,
                header=list(COLUMNS),
                rows=sheet,
                today=TODAY,
            )
        )

    seconds = await timed(f"import {label}", work)
    return Batch(label, result["batch_id"], list(result["applicant_ids"])), seconds


async def one_by_one(
    platform: Platform, large: Batch, small: Batch, figures: Figures, clock: TransactionClock
) -> None:
    """Each command on SAMPLE applicants of each batch, the two batches interleaved; medians."""
    store, institution = platform.enrollment, platform.institution_id

    async def read(applicant_id: str) -> None:
        await enrollment_handlers.load_applicant(store, applicant_id)

    def reviewing(approve: bool) -> Callable[[str], Awaitable[None]]:
        async def command(applicant_id: str) -> None:
            await review.review(
                store,
                [applicant_id],
                institution_id=institution,
                reviewer_id="bench",
                approve=approve,
                reason="" if approve else "学历证书不清晰",
            )

        return command

    commands: list[tuple[str, Callable[[str], Awaitable[None]], int]] = [
        ("read one applicant", read, 3),
        ("qualify one applicant", reviewing(True), 1),
        ("reject one applicant", reviewing(False), 1),
        ("qualify it again", reviewing(True), 1),
    ]

    async def one(name: str, command: Callable[[str], Awaitable[None]], applicant_id: str) -> float:
        async with step(name):
            started = time.perf_counter()
            await command(applicant_id)
            return time.perf_counter() - started

    for label, command, repeat in commands:
        times: dict[str, list[float]] = {large.label: [], small.label: []}
        for _ in range(repeat):
            for a, b in zip(large.applicant_ids[:SAMPLE], small.applicant_ids[:SAMPLE], strict=False):
                for batch, applicant_id in ((large, a), (small, b)):
                    seconds = await one(f"{label} ({batch.label})", command, applicant_id)
                    times[batch.label].append(seconds)
        figures.add(
            label,
            statistics.median(times[large.label]),
            statistics.median(times[small.label]),
            f"{label} ({large.label})",
        )


async def qualify_all(platform: Platform, batch: Batch) -> float:
    async def work() -> None:
        rest = batch.applicant_ids[SAMPLE:]
        for start in range(0, len(rest), REVIEW_REQUEST):
            await review.review(
                platform.enrollment,
                rest[start : start + REVIEW_REQUEST],
                institution_id=platform.institution_id,
                reviewer_id="bench",
                approve=True,
            )

    return await timed(f"qualify all ({batch.label})", work)


async def payment_learns(platform: Platform, applicant_ids: Sequence[str]) -> None:
    """Payment's `qualified_applicants` read model, fed with the applicants' ApplicantQualified events."""
    loaded = await enrollment_handlers.read_applicants(platform.enrollment, applicant_ids)
    items = []
    for applicant_id, current in loaded.items():
        qualified = [e for e in current.history if isinstance(e, ApplicantQualified)]
        items.append((qualified[-1], enrollment_handlers.applicant_stream(applicant_id)))
    await deliver(platform.client, platform.payment_projections[0], items)


async def last_event(store: EventStore, stream_id: str, kind: type[DomainEvent]) -> Any:
    history, _ = await store.load_events(stream_id)
    return next(e for e in reversed(history) if isinstance(e, kind))


async def paid_order(
    platform: Platform, label: str, applicant_ids: Sequence[str]
) -> tuple[str, dict[str, float]]:
    """Payment: the order, its voucher and the confirmation; then enrollment follows OrderPaid (twice)."""
    payment, seconds = platform.payment, {}
    order_id = ""

    async def create() -> None:
        nonlocal order_id
        order_id, _ = await payment_handlers.create_order(
            payment,
            enterprise_id=platform.enterprise_id,
            institution_id=platform.institution_id,
            applicant_ids=applicant_ids,
        )

    seconds["create order"] = await timed(f"create order ({label})", create)
    amount = 60000 * len(applicant_ids)
    form = VoucherForm(
        payer_name=ENTERPRISE_NAME,
        amount_fen=amount,
        paid_on=TODAY,
        bank_serial=f"ICBC{uuid.uuid4().hex[:10]}",
        invoice=InvoiceDetails(invoice_type="ordinary", company_name=ENTERPRISE_NAME, tax_number=CREDIT_CODE),
    )
    jpeg = b"\xff\xd8\xff\xe0" + bytes(2048)
    seconds["upload voucher"] = await timed(
        f"upload voucher ({label})",
        lambda: payment_handlers.upload_voucher(
            payment, platform.objects, order_id, enterprise_id=platform.enterprise_id, form=form, data=jpeg
        ),
    )
    seconds["confirm payment"] = await timed(
        f"confirm payment ({label})",
        lambda: payment_handlers.confirm_payment(
            payment, order_id, institution_id=platform.institution_id, confirmed_by="bench"
        ),
    )
    paid = await last_event(payment, payment_handlers.stream_id(order_id), OrderPaid)
    seconds["enroll (OrderPaid)"] = await timed(
        f"enroll (OrderPaid, {label})", lambda: follow_order(platform.enrollment, paid)
    )
    seconds["OrderPaid again"] = await timed(
        f"OrderPaid again ({label})", lambda: follow_order(platform.enrollment, paid)
    )
    return order_id, seconds


async def refunded_order(platform: Platform, label: str, applicant_ids: Sequence[str]) -> dict[str, float]:
    order_id, _ = await paid_order(platform, f"{label}, refunded", applicant_ids)
    seconds = {}
    seconds["refund order"] = await timed(
        f"refund order ({label})",
        lambda: payment_handlers.refund_order(
            platform.payment,
            order_id,
            institution_id=platform.institution_id,
            reason="企业取消培训",
            refunded_by="bench",
        ),
    )
    refunded = await last_event(platform.payment, payment_handlers.stream_id(order_id), OrderRefunded)
    seconds["revert (OrderRefunded)"] = await timed(
        f"revert (OrderRefunded, {label})", lambda: follow_order(platform.enrollment, refunded)
    )
    return seconds


async def head_photos(platform: Platform, batch: Batch, applicant_ids: Sequence[str]) -> None:
    """A materials upload's record for these applicants (their head photos), as `upload_materials` writes it
    (the files themselves are not needed: an application for the exam carries the photo's key)."""
    numbers = {
        a: current.state.record.id_number
        for a, current in (
            await enrollment_handlers.read_applicants(platform.enrollment, applicant_ids)
        ).items()
    }
    items = [
        ApplicantMaterials(
            applicant_id=a,
            id_number=numbers[a],
            documents=[
                MaterialDocument(
                    document="头像",
                    object_key=f"batches/{batch.batch_id}/{a}/头像.jpg",
                    content_type="image/jpeg",
                    size=20000,
                )
            ],
            photo_ok=True,
        )
        for a in applicant_ids
    ]
    stream = enrollment_handlers.batch_stream(batch.batch_id)
    version = await platform.enrollment.version_of(stream)
    await platform.enrollment.append(
        stream,
        [
            MaterialsUploaded(
                batch_id=batch.batch_id,
                enterprise_id=platform.enterprise_id,
                institution_id=platform.institution_id,
                applicants=items[i : i + 200],
            )
            for i in range(0, len(items), 200)
        ],
        expected_version=version,
        stream_type="batch",
    )


async def to_the_exam(platform: Platform, label: str, applicant_ids: Sequence[str]) -> dict[str, float]:
    store, institution = platform.enrollment, platform.institution_id
    plan = await training_app.create_plan(
        store,
        institution_id=institution,
        form=PlanForm(
            name=f"{label} 线上班",
            training_mode=MODE,
            position=POSITION,
            starts_on=date.today() + timedelta(days=1),
            ends_on=date.today() + timedelta(days=20),
            platform="浙江省建设人才网络学院",
        ),
    )
    seconds = {}
    for name, command in (
        ("add trainees", training_app.add_trainees),
        ("record completion", training_app.record_completion),
    ):
        seconds[name] = await timed(
            f"{name} ({label})",
            lambda command=command: command(  # type: ignore[misc]
                store, plan_id=plan.plan_id, institution_id=institution, applicant_ids=applicant_ids
            ),
        )
    outcome: list[training_app.TrainingOutcome] = []

    async def apply() -> None:
        outcome.append(
            await training_app.apply_for_exam(
                store,
                plan_id=plan.plan_id,
                institution_id=institution,
                applicant_ids=applicant_ids,
                bucket=platform.bucket,
            )
        )

    seconds["apply for the exam"] = await timed(f"apply for the exam ({label})", apply)
    if len(outcome[0].done) != len(applicant_ids):
        raise AssertionError(f"not every trainee was applied for the exam: {outcome[0].refused[:3]}")
    return seconds


async def check_status(
    platform: Platform, applicant_ids: Sequence[str], status: applicant_domain.Status
) -> None:
    loaded = await enrollment_handlers.read_applicants(platform.enrollment, applicant_ids)
    wrong = [a for a in applicant_ids if loaded[a].state.status is not status]
    if wrong:
        raise AssertionError(f"{len(wrong)} applicants are not {status.value}: {wrong[:3]}")


# ------------------------------------------------------------------------------------------------ report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


async def measure(env: dict[str, str], rows_large: int) -> None:
    clock = TransactionClock()
    with clock.installed():
        platform = await setup(env)
        try:
            await report(platform, clock, rows_large)
        finally:
            await teardown(platform)


async def report(platform: Platform, clock: TransactionClock, rows_large: int) -> None:
    started = time.perf_counter()
    seen: set[str] = set()
    large_sheet, small_sheet = rows(rows_large, 0, seen), rows(SMALL, rows_large * 4, seen)
    large, import_large = await import_batch(platform, f"{rows_large} rows", large_sheet)
    small, import_small = await import_batch(platform, f"{SMALL} rows", small_sheet)
    figures = Figures()
    await one_by_one(platform, large, small, figures, clock)
    qualify_large = await qualify_all(platform, large)
    order_size = min(500, rows_large // 2)
    paid_large_ids = large.applicant_ids[:order_size]
    refund_large_ids = large.applicant_ids[order_size : 2 * order_size]
    await payment_learns(platform, [*paid_large_ids, *refund_large_ids, *small.applicant_ids])
    _, pay_large = await paid_order(platform, large.label, paid_large_ids)
    _, pay_small = await paid_order(platform, small.label, small.applicant_ids)
    await check_status(platform, paid_large_ids, applicant_domain.Status.ENROLLED)
    refund_large = await refunded_order(platform, large.label, refund_large_ids)
    await check_status(platform, refund_large_ids, applicant_domain.Status.QUALIFIED)
    await head_photos(platform, large, paid_large_ids)
    await head_photos(platform, small, small.applicant_ids)
    exam_large = await to_the_exam(platform, large.label, paid_large_ids)
    exam_small = await to_the_exam(platform, small.label, small.applicant_ids)
    await check_status(platform, paid_large_ids, applicant_domain.Status.EXAM_APPLIED)
    total = time.perf_counter() - started

    n_large, n_small = len(paid_large_ids), len(small.applicant_ids)
    print(
        f"\nlarge batch: {rows_large} rows against {SMALL} rows (same enterprise, institution, position), "
        f"orders and training of {n_large} vs {n_small} applicants; {total:.0f} s"
    )
    print(
        f"  one applicant's command (median of {SAMPLE} applicants; ratio large/small, goal ≤ {GOAL_RATIO})"
    )
    worst = 0.0
    for label, t_large, t_small, step_name in figures.rows:
        ratio = t_large / t_small
        worst = max(worst, ratio)
        print(
            f"    {label:<34} {_ms(t_large)} vs {_ms(t_small)}   ratio {ratio:5.2f}   "
            f"longest transaction {clock.of(step_name):6.3f} s"
        )
    print("  per applicant of a request on many (ratio large / small)")
    bulk: list[tuple[str, float, int, float, int, str]] = [
        ("import", import_large, rows_large, import_small, n_small, f"import {large.label}")
    ]
    for name in (
        "create order",
        "upload voucher",
        "confirm payment",
        "enroll (OrderPaid)",
        "OrderPaid again",
    ):
        bulk.append((name, pay_large[name], n_large, pay_small[name], n_small, ""))
    for name in ("add trainees", "record completion", "apply for the exam"):
        bulk.append((name, exam_large[name], n_large, exam_small[name], n_small, ""))
    for label, t_large, c_large, t_small, c_small, _ in bulk:
        per_large = t_large / max(c_large, 1)
        per_small = t_small / max(c_small, 1) if c_small > 0 else float("nan")
        print(
            f"    {label:<34} {_ms(per_large)} vs {_ms(per_small)}   ratio {per_large / per_small:5.2f}   "
            f"({t_large:6.2f} s for {c_large})"
        )
    rest = rows_large - SAMPLE
    print(
        f"    {'qualify (bulk review)':<34} {_ms(qualify_large / rest)}   ({qualify_large:6.2f} s for {rest})"
    )
    for name in ("refund order", "revert (OrderRefunded)"):
        print(
            f"    {name:<34} {_ms(refund_large[name] / n_large)}   ({refund_large[name]:6.2f} s "
            f"for {n_large})"
        )
    longest, where = clock.overall()
    print("  longest transaction of each step (s):")
    for name, (seconds, count) in sorted(clock.longest.items(), key=lambda x: -x[1][0])[:12]:
        print(f"    {seconds:7.3f}  {name}  ({count} transactions)")
    verdict = "ok" if worst <= GOAL_RATIO and longest <= GOAL_TRANSACTION else "MISSED"
    print(
        f"  worst one-applicant ratio {worst:.2f} (goal ≤ {GOAL_RATIO}); longest transaction "
        f"{longest:.3f} s in “{where}” (goal ≤ {GOAL_TRANSACTION:.0f} s): {verdict}"
    )


async def main(rows_large: int | None = None) -> None:
    rows_large = rows_large or int(os.environ.get("BENCH_LARGE_BATCH_ROWS", "10000"))
    stack: LocalStack | None = None
    if uses_external_servers(os.environ):
        env = dict(os.environ)
    else:
        data = Path(tempfile.mkdtemp(prefix="bench-stack-"))
        stack = LocalStack(StackConfig.load_or_create(data, free_ports=True))
        await asyncio.to_thread(stack.start)
        env = stack.env()
    try:
        await measure(env, rows_large)
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.stop)


def run() -> None:
    asyncio.run(main())


if __name__ == "__main__":
    run()
