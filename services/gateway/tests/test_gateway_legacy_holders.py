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
from gateway.projections.persons import PersonChange, merge_person, persons, version
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
    unnamed = PersonChange(
        id_number=NUMBER, as_of=version(received(legacy_event(name="")), 0), name="", sets={"sources": "x"}
    )
    merged = merge_person(None, unnamed)
    assert "name" not in merged and "name_as_of" not in merged and "mobile" not in merged
    named = PersonChange(
        id_number=NUMBER,
        as_of=version(received(legacy_event()), 0),
        name="王五",
        sets={"legacy_importers": "inst-old"},
    )
    after = merge_person(merged, named)
    assert after["name"] == "王五" and after["legacy_importers"] == ["inst-old"]
    assert "first_imported_at" not in after  # only enrollment imports move the import times
    assert merge_person(after, unnamed)["name"] == "王五"  # an empty name later keeps the known one


def test_merges_do_not_depend_on_their_order() -> None:
    def change(name: str, seconds: int, applicant: str) -> PersonChange:
        at = datetime(2026, 3, 1, 8, 0, seconds, tzinfo=UTC)
        return PersonChange(
            id_number=NUMBER,
            as_of=f"{at:%Y-%m-%dT%H:%M:%S.%f}Z|e{seconds}|000000",
            name=name,
            mobile=f"1390000000{seconds % 10}",
            imported_at=at,
            sets={"applicant_ids": applicant, "sources": "applicants"},
        )

    changes = [change("甲", 1, "a3"), change("乙", 5, "a1"), change("丙", 3, "a2")]
    results = []
    for order in ([0, 1, 2], [2, 1, 0], [1, 0, 2]):
        doc: dict[str, object] | None = None
        for i in order:
            doc = merge_person(doc, changes[i])
        results.append(doc)
    assert results[0] == results[1] == results[2]
    final = results[0]
    assert final is not None
    assert final["name"] == "乙" and final["applicant_ids"] == ["a1", "a2", "a3"]
    assert final["first_imported_at"] == datetime(2026, 3, 1, 8, 0, 1, tzinfo=UTC)
    assert final["last_imported_at"] == datetime(2026, 3, 1, 8, 0, 5, tzinfo=UTC)


def test_the_gateway_subscribes_to_the_events_that_name_persons() -> None:
    projection = persons("db")
    assert {
        ApplicantsImported.type_name(),
        LegacyCertificateImported.type_name(),
        CertificateIssued.type_name(),
        CertificateRenewed.type_name(),
    } <= projection.handlers.type_names
    assert {"enrollment.events", "certification.events"} <= set(projection.topics)
