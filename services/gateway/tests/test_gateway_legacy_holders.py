"""Persons known from certificates (old-style ones included): who may ask for a legacy holder's activation
code, the refusal's reason, and how the `persons` read model is fed (pure: the updates and the handlers'
subscriptions; order independence on MongoDB is in test_gateway_persons_projection_it)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from events import ApplicantsImported, Envelope
from events.certification import CertificateIssued, CertificateRenewed, LegacyCertificateImported
from gateway.adapters.persons_mongo import person_from_document
from gateway.domain.errors import NotPersonsOrganisation
from gateway.domain.persons import (
    SOURCE_APPLICANTS,
    SOURCE_LEGACY_CERTIFICATE,
    Person,
    importing_institution,
    may_issue_activation_code,
)
from gateway.projections.persons import person_update, persons
from servicekit.auth import Identity, Role
from servicekit.consumer import ReceivedEvent

NUMBER = "11010519491231002X"


def who(role: Role, org_id: str | None) -> Identity:
    return Identity(account_id=f"acc-{role.value}", role=role, org_id=org_id)


LEGACY_HOLDER = Person(
    id_number=NUMBER,
    name="王五",
    legacy_importers=frozenset({"inst-old", "admin:acc-root"}),
    sources=frozenset({SOURCE_LEGACY_CERTIFICATE}),
)


def test_importing_institution() -> None:
    assert importing_institution("inst-old") == "inst-old"
    assert importing_institution(" inst-old ") == "inst-old"
    assert importing_institution("admin:acc-root") is None
    assert importing_institution("") is None


@pytest.mark.parametrize(
    ("identity", "allowed"),
    [
        (who(Role.ADMIN, None), True),
        (who(Role.INSTITUTION, "inst-old"), True),  # recorded the old certificate
        (who(Role.INSTITUTION, "inst-other"), False),
        (who(Role.INSTITUTION, None), False),
        (who(Role.INSTITUTION, "admin:acc-root"), False),  # an administrator's mark is no institution
        (who(Role.ENTERPRISE, "inst-old"), False),  # the importer's id, but an enterprise
        (who(Role.ENTERPRISE, "ent-a"), False),
        (who(Role.REVIEWER, "inst-old"), False),
        (who(Role.PERSON, NUMBER), False),
    ],
)
def test_who_may_issue_a_code_for_a_legacy_holder(identity: Identity, allowed: bool) -> None:
    assert may_issue_activation_code(identity, LEGACY_HOLDER) is allowed


def test_a_legacy_holder_also_enrolled_keeps_the_enrollment_rule() -> None:
    person = Person(
        id_number=NUMBER,
        name="王五",
        enterprise_ids=frozenset({"ent-a"}),
        institution_ids=frozenset({"inst-new"}),
        legacy_importers=frozenset({"inst-old"}),
        sources=frozenset({SOURCE_APPLICANTS, SOURCE_LEGACY_CERTIFICATE}),
    )
    for org, role in [
        ("ent-a", Role.ENTERPRISE),
        ("inst-new", Role.INSTITUTION),
        ("inst-old", Role.INSTITUTION),
    ]:
        assert may_issue_activation_code(who(role, org), person)
    assert not may_issue_activation_code(who(Role.ENTERPRISE, "ent-b"), person)
    # An enrolled trainee only: the importer of someone else's certificate has no say.
    trainee = Person(id_number=NUMBER, name="王五", institution_ids=frozenset({"inst-new"}))
    assert not may_issue_activation_code(who(Role.INSTITUTION, "inst-old"), trainee)
    assert not trainee.holds_legacy_certificate


def test_the_refusal_names_the_importer_for_a_legacy_holder() -> None:
    refused = NotPersonsOrganisation(legacy_holder=True)
    assert refused.status == 403 and refused.code == "not_owner"
    assert "录入该持证人旧版岗位证书的培训机构" in refused.message
    assert "旧版" not in NotPersonsOrganisation().message


def test_person_from_document_reads_the_legacy_fields() -> None:
    person = person_from_document(
        {"_id": NUMBER, "name": "王五", "legacy_importers": ["inst-old"], "sources": ["legacy_certificate"]}
    )
    assert person.legacy_institution_ids == {"inst-old"} and person.holds_legacy_certificate
    assert person.mobile == "" and person.enterprise_ids == frozenset()
    bare = person_from_document({"_id": NUMBER})
    assert bare.name == "" and not bare.holds_legacy_certificate


def legacy_event(name: str = "王五", imported_by: str = "inst-old") -> LegacyCertificateImported:
    return LegacyCertificateImported(
        certificate_id="cert-1",
        certificate_number="ZJ-OLD-1",
        id_number=NUMBER.lower(),
        holder_name=name,
        position="安全员",
        issued_on=date(2020, 1, 1),
        imported_by=imported_by,
    )


def received(event: LegacyCertificateImported) -> ReceivedEvent:
    envelope = Envelope.for_event(event, subject="cert-1", source="/certification", time=datetime.now(UTC))
    return ReceivedEvent(envelope, event, event.topic(), 0, 0)


def test_an_empty_name_is_never_written() -> None:
    update = person_update(id_number=NUMBER, name="", received=received(legacy_event(name="")))
    fields = update._doc[0]["$set"]  # the update pipeline's one stage
    assert "name" not in fields and "name_as_of" not in fields and "mobile" not in fields
    named = person_update(
        id_number=NUMBER,
        name="王五",
        received=received(legacy_event()),
        sets={"legacy_importers": "inst-old"},
    )._doc[0]["$set"]
    assert {"name", "name_as_of", "legacy_importers"} <= set(named)
    assert "first_imported_at" not in named  # only enrollment imports move the import times


def test_the_gateway_subscribes_to_the_events_that_name_persons() -> None:
    projection = persons("db")
    assert {
        ApplicantsImported.type_name(),
        LegacyCertificateImported.type_name(),
        CertificateIssued.type_name(),
        CertificateRenewed.type_name(),
    } <= projection.handlers.type_names
    assert {"enrollment.events", "certification.events"} <= set(projection.topics)
