"""The `persons` read model fed by enrollment's imports and certification's certificates (old-style ones
included), on MongoDB: every order of the same events (and duplicates) gives the same document, and a name is
never erased by an event without one."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from events import ApplicantsImported, DomainEvent, Envelope
from events.certification import CertificateIssued, CertificateRenewed, LegacyCertificateImported
from events.enrollment import ImportedApplicant
from gateway.domain.persons import id_number_check_character
from gateway.projections.persons import PERSONS, persons
from gateway.settings import GatewaySettings
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import create_client, in_transaction
from servicekit.projections import snapshot

pytestmark = pytest.mark.integration

FIRST17 = "33010619800101123"
NUMBER = FIRST17 + id_number_check_character(FIRST17)


@pytest.fixture
def settings(gateway_settings: Callable[..., GatewaySettings]) -> GatewaySettings:
    return gateway_settings()


def imported(name: str, mobile: str = "") -> ApplicantsImported:
    return ApplicantsImported(
        batch_id=uuid.uuid4().hex,
        enterprise_id="ent-a",
        institution_id="inst-new",
        position="安全员",
        training_mode="online",
        applicants=[
            ImportedApplicant(applicant_id="app-1", name=name, gender="男", id_number=NUMBER, mobile=mobile)
        ],
    )


def legacy(name: str, imported_by: str, certificate_id: str) -> LegacyCertificateImported:
    return LegacyCertificateImported(
        certificate_id=certificate_id,
        certificate_number=f"ZJ-{certificate_id}",
        id_number=NUMBER.lower(),  # normalized by the projection
        holder_name=name,
        position="安全员",
        issued_on=date(2019, 5, 1),
        imported_by=imported_by,
    )


def issued(name: str) -> CertificateIssued:
    return CertificateIssued(
        certificate_id="cert-new",
        certificate_number="ZJ-NEW",
        applicant_id="app-1",
        id_number=NUMBER,
        holder_name=name,
        position="安全员",
        institution_id="inst-new",
        issued_on=date(2025, 5, 1),
    )


def renewed(name: str) -> CertificateRenewed:
    return CertificateRenewed(
        certificate_id="cert-renewed",
        certificate_number="ZJ-RENEWED",
        previous_certificate_id="old-1",
        previous_certificate_number="ZJ-old-1",
        id_number=NUMBER,
        holder_name=name,
        position="安全员",
        renewed_on=date(2025, 6, 1),
    )


def deliveries(timed: list[tuple[datetime, DomainEvent]]) -> list[ReceivedEvent]:
    return [
        ReceivedEvent(
            Envelope.for_event(event, subject=uuid.uuid4().hex, source="/test", time=at),
            event,
            event.topic(),
            0,
            offset,
        )
        for offset, (at, event) in enumerate(timed)
    ]


async def documents_of(
    settings: GatewaySettings, orders: list[tuple[ReceivedEvent, ...]]
) -> list[list[dict[str, Any]]]:
    client = create_client(settings.mongo_url)
    try:
        documents: list[list[dict[str, Any]]] = []
        for order in orders:
            database = f"{settings.database_name}-{len(documents)}"
            handlers = persons(database).handlers
            for item in order:
                await in_transaction(client, lambda tx, item=item, h=handlers: h.dispatch(item, tx))
            documents.append((await snapshot(client[database], [PERSONS]))[PERSONS])
            await client.drop_database(database)
        return documents
    finally:
        await client.close()


async def test_persons_from_imports_and_certificates_are_order_independent(settings: GatewaySettings) -> None:
    now = datetime.now(UTC)
    received = deliveries(
        [
            (now - timedelta(minutes=2), legacy("张叁", "inst-old", "old-1")),
            (now - timedelta(minutes=1), imported("张三", "13800000001")),
            (now, legacy("张三丰", "admin:acc-root", "old-2")),  # the latest name
            (now + timedelta(minutes=1), issued("")),  # later, but no name: never erases one
        ]
    )
    orders = [*itertools.permutations(received), (received[0], received[2], received[0], received[3])]
    documents = await documents_of(settings, orders[:-1])
    assert all(d == documents[0] for d in documents)
    (doc,) = documents[0]
    assert doc["_id"] == NUMBER
    assert doc["name"] == "张三丰" and doc["mobile"] == "13800000001"
    assert doc["sources"] == ["applicants", "certificate", "legacy_certificate"]
    assert doc["legacy_importers"] == ["admin:acc-root", "inst-old"]
    assert doc["legacy_certificate_ids"] == ["old-1", "old-2"] and doc["certificate_ids"] == ["cert-new"]
    assert doc["enterprise_ids"] == ["ent-a"] and doc["institution_ids"] == ["inst-new"]
    assert doc["first_imported_at"] == doc["last_imported_at"]  # the one enrollment import

    # Without the enrollment import: a holder known only from old certificates, duplicates included.
    (only_legacy,) = await documents_of(settings, [orders[-1]])
    (person,) = only_legacy
    assert person["name"] == "张三丰" and person["sources"] == ["certificate", "legacy_certificate"]
    assert "mobile" not in person and "first_imported_at" not in person and "enterprise_ids" not in person


async def test_a_renewal_names_the_person_and_an_empty_name_never_lands(settings: GatewaySettings) -> None:
    now = datetime.now(UTC)
    received = deliveries(
        [(now, legacy("", "inst-old", "old-1")), (now - timedelta(days=1), renewed("李四"))]
    )
    documents = await documents_of(settings, list(itertools.permutations(received)))
    assert documents[0] == documents[1]
    (doc,) = documents[0]
    assert doc["name"] == "李四" and doc["legacy_importers"] == ["inst-old"]
    assert doc["certificate_ids"] == ["cert-renewed"]
