"""Certification's continuing-education use cases on MongoDB (the test stack's): a second passed exam for the
same person and position renews the valid certificate (or is refused and recorded), a completed training is
credited once whatever certificate the holder holds by its redelivery, and a training with no certificate to
credit is kept once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from certification.application import handlers
from certification.domain.certificate import Certificate, SecondCertificateRule
from certification.domain.hours import HoursRules
from events import ContinuingEducationCompleted, ExamPassed
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, create_client, in_transaction

pytestmark = pytest.mark.integration

HOLDER = "330106199005170019"
RULES = HoursRules()


@pytest.fixture
async def store(stack_env: dict[str, str]) -> AsyncIterator[EventStore]:
    client = create_client(stack_env["MONGO_URL"])
    database = client[f"certification-ce-{uuid.uuid4().hex[:8]}"]
    store = EventStore(client, database, source="certification")
    await store.ensure_indexes()
    await handlers.ensure_indexes(store)
    try:
        yield store
    finally:
        await client.drop_database(database.name)
        await client.close()


def passed(attempt_id: str, position: str = "施工员") -> ExamPassed:
    return ExamPassed(
        attempt_id=attempt_id,
        applicant_id=f"ap-{attempt_id}",
        enterprise_id="ent",
        institution_id="inst",
        id_number=HOLDER,
        name="张三",
        gender="男",
        position=position,
        score=80,
        pass_mark=60,
    )


async def issue(
    store: EventStore, attempt_id: str, rule: SecondCertificateRule = "renew", position: str = "施工员"
) -> str:
    async def work(tx: Session) -> str:
        return await handlers.issue_on_exam(
            store,
            passed(attempt_id, position),
            issued_on=date(2026, 5, 1),
            rule=rule,
            session=tx,
        )

    return await in_transaction(store.client, work)


async def state(store: EventStore, attempt_id: str) -> Certificate:
    cert, index = await handlers.load(store, handlers.certificate_id_for(attempt_id))
    assert index["state"] == cert.state
    return cert


async def test_a_second_passed_exam_renews_the_valid_certificate_or_is_refused(store: EventStore) -> None:
    assert await issue(store, "a1") == "issued"
    assert await issue(store, "a1") == "exists"  # a redelivered ExamPassed
    assert await issue(store, "other", position="安全员") == "issued"  # another position: not touched
    assert await issue(store, "a2") == "renewed"
    old, new = await state(store, "a1"), await state(store, "a2")
    assert old.state == "superseded" and old.renewed_by == new.certificate_id
    assert new.state == "valid" and new.renews == old.certificate_id
    assert (await state(store, "other")).state == "valid"
    assert await issue(store, "a3", rule="refuse") == "refused"
    assert await issue(store, "a3", rule="refuse") == "exists"
    assert await store.version_of(handlers.stream(handlers.certificate_id_for("a3"))) == 0
    refusals, _ = await store.load_events("refused-a3")
    [refusal] = refusals
    assert refusal.existing_certificate_id == new.certificate_id
    valid = await handlers.valid_certificates(store, HOLDER, "施工员")
    assert [c.certificate_id for c in valid] == [new.certificate_id]


def completed(plan_id: str, id_number: str = HOLDER) -> ContinuingEducationCompleted:
    return ContinuingEducationCompleted(
        applicant_id="ce-ap",
        batch_id="b",
        enterprise_id="ent",
        institution_id="inst-ce",
        plan_id=plan_id,
        plan_name="继续教育",
        id_number=id_number,
        name="张三",
        position="施工员",
        professional_hours=22,
        general_hours=10,
        completed_on=date(2026, 6, 1),
    )


async def credit(store: EventStore, event: ContinuingEducationCompleted) -> str:
    async def work(tx: Session) -> str:
        return await handlers.credit_training(store, event, today=date(2026, 6, 2), rules=RULES, session=tx)

    return await in_transaction(store.client, work)


async def test_a_training_is_credited_once_whatever_certificate_exists_by_its_redelivery(
    store: EventStore,
) -> None:
    await issue(store, "a1")
    assert await credit(store, completed("p1")) == "credited"
    assert await credit(store, completed("p1")) == "already_credited"
    first = await state(store, "a1")
    assert sum(r.hours for r in first.records) == 32
    # a newer certificate for the position: the redelivered training is not credited to it again
    await issue(store, "a2")
    assert await credit(store, completed("p1")) == "already_credited"
    assert (await state(store, "a2")).records == []
    # another training goes to the newest (valid) certificate
    assert await credit(store, completed("p2")) == "credited"
    assert sum(r.hours for r in (await state(store, "a2")).records) == 32


async def test_a_training_without_a_certificate_is_kept_once_and_credits_nothing(store: EventStore) -> None:
    stranger = "330106198001010012"
    assert await credit(store, completed("p1", stranger)) == "uncredited"
    assert await credit(store, completed("p1", stranger)) == "uncredited"
    kept, _ = await store.load_events("uncredited-p1:ce-ap")
    assert len(kept) == 1 and "没有有效或已失效的施工员证书" in kept[0].reason
    assert await store.db[handlers.TRAINING_CREDITS].count_documents({}) == 0
