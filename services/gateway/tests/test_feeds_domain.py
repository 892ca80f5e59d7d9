"""The feeds' pure rules: scopes, masking per role, cursors, webhook endpoint and secret, retry schedule."""

from __future__ import annotations

from typing import Any

import pytest
from gateway.feeds.domain import scopes
from gateway.feeds.domain.audience import InvalidCursor, audience_of, format_cursor, parse_cursor
from gateway.feeds.domain.masking import mask_payload
from gateway.feeds.domain.messages import body_of, feed_message
from gateway.feeds.domain.webhooks import (
    InvalidWebhook,
    retry_delay,
    schedule,
    validate_secret,
    validate_url,
)
from servicekit.auth import Identity, Role
from servicekit.errors import Forbidden

ID = "330106199001011234"


# ---------------------------------------------------------------------- scopes


def resolve(data: dict[str, Any], lookups: dict[str, Any] | None = None, person: Any = None) -> list[str]:
    return scopes.resolve(data, lookups or {}, person).scopes


def test_registration_event_takes_its_own_city() -> None:
    data = {"enterprise_id": "e1", "city": "杭州市", "name": "杭州建工"}
    assert resolve(data) == ["province", "city:杭州"]
    learnt = scopes.learnt("registration.EnterpriseRegistered.v1", data)
    assert learnt == {"enterprise:e1": {"city": "杭州"}}


def test_staff_event_takes_enterprise_city_and_institution() -> None:
    data = {"applicant_id": "a1", "enterprise_id": "e1", "institution_id": "i1", "id_number": ID}
    lookups = {"enterprise:e1": {"city": "宁波市"}}
    assert resolve(data, lookups) == ["province", "city:宁波", "institution:i1"]
    assert scopes.lookup_keys(data) == ["applicant:a1", "enterprise:e1"]


def test_offer_city_is_not_a_city_authority_scope() -> None:
    # An institution's offer carries the institution's city: not an enterprise's event.
    assert resolve({"institution_id": "i1", "city": "杭州市"}) == ["province", "institution:i1"]


def test_candidate_and_certificate_resolve_through_lookups() -> None:
    parties = {"enterprise_ids": ["e1"], "institution_ids": ["i1"]}
    lookups = {"candidate:c1": parties, "certificate:k1": parties, "enterprise:e1": {"city": "温州市"}}
    assert resolve({"candidate_id": "c1", "session_id": "s1", "id_number": ID}, lookups) == [
        "province",
        "city:温州",
        "institution:i1",
    ]
    certificate = resolve({"certificate_id": "k1", "id_number": ID}, lookups)
    assert certificate[1:] == ["city:温州", "institution:i1"]


def test_learnt_lookups() -> None:
    imported = {
        "enterprise_id": "e1",
        "institution_id": "i1",
        "applicants": [{"applicant_id": "a1"}, {"applicant_id": "a2"}],
    }
    found = scopes.learnt("enrollment.ApplicantsImported.v1", imported)
    assert set(found) == {"applicant:a1", "applicant:a2"}
    assert found["applicant:a1"] == {"enterprise_ids": ["e1"], "institution_ids": ["i1"]}
    scheduled = {"candidate_id": "c1", "enterprise_id": "e1", "institution_id": "i1"}
    assert set(scopes.learnt("exam.ExamScheduled.v1", scheduled)) == {"candidate:c1"}
    issued = {"certificate_id": "k1", "enterprise_id": None, "institution_id": "i1"}
    assert scopes.learnt("certification.CertificateIssued.v1", issued) == {
        "certificate:k1": {"enterprise_ids": [], "institution_ids": ["i1"]}
    }


def test_renewed_certificate_inherits_the_previous_ones_parties() -> None:
    data = {"certificate_id": "k2", "previous_certificate_id": "k1", "id_number": ID}
    lookups = {"certificate:k1": {"enterprise_ids": ["e1"], "institution_ids": ["i1"]}}
    resolution = scopes.resolve(data, lookups)
    assert resolution.institution_ids == ["i1"]
    assert scopes.learnt("certification.CertificateRenewed.v1", data, resolution) == {
        "certificate:k2": {"enterprise_ids": ["e1"], "institution_ids": ["i1"]}
    }


def test_person_only_event_uses_the_persons_read_model() -> None:
    data = {"blacklist_id": "b1", "id_number": ID}
    assert scopes.needs_person(data, {})
    person = {"enterprise_ids": ["e1", "e2"], "institution_ids": ["i1"]}
    lookups = {"enterprise:e1": {"city": "杭州市"}, "enterprise:e2": {"city": "湖州市"}}
    assert resolve(data, lookups, person) == ["province", "city:杭州", "city:湖州", "institution:i1"]
    # A direct party wins over the person's history.
    assert not scopes.needs_person({"id_number": ID, "institution_id": "i9"}, {})


def test_unresolvable_event_is_province_only() -> None:
    assert resolve({"candidate_id": "unknown", "id_number": ID}) == ["province"]
    assert resolve({"enterprise_id": "e-no-city"}) == ["province"]


# ---------------------------------------------------------------------- masking

PAYLOAD = {
    "enterprise_id": "e1",
    "name": "杭州建工",
    "legal_representative": "李四",
    "contact_mobile": "13800001111",
    "documents": [{"kind": "license", "object_key": "registrations/e1/x.pdf", "size": 10}],
    "head_photo_bucket": "enrollment",
    "head_photo_key": "photos/a1.jpg",
    "evidence_keys": ["v/1.jpg"],
    "applicants": [{"applicant_id": "a1", "name": "张三", "id_number": ID, "mobile": "13900002222"}],
    "id_number": ID,
    "invoice": {"phone": "057188886666", "company_name": "杭州建工"},
}


def test_storage_coordinates_never_sent() -> None:
    for role in (Role.ADMIN, Role.REVIEWER, Role.INSTITUTION):
        masked = mask_payload(PAYLOAD, role)
        text = repr(masked)
        assert "object_key" not in text and "photos/a1.jpg" not in text and "v/1.jpg" not in text
        assert "head_photo_bucket" not in masked
        assert masked["documents"] == [{"kind": "license", "size": 10}]


def test_admin_sees_everything_else() -> None:
    masked = mask_payload(PAYLOAD, Role.ADMIN)
    assert masked["id_number"] == ID
    assert masked["applicants"][0]["mobile"] == "13900002222"
    assert masked["contact_mobile"] == "13800001111"


def test_city_authority_sees_enterprise_data_but_masked_staff() -> None:
    masked = mask_payload(PAYLOAD, Role.REVIEWER)
    assert masked["contact_mobile"] == "13800001111"
    assert masked["legal_representative"] == "李四"
    assert masked["id_number"] == "330106********1234"
    assert masked["applicants"][0]["id_number"] == "330106********1234"
    assert masked["applicants"][0]["mobile"] == "139****2222"
    assert masked["applicants"][0]["name"] == "张三"
    assert masked["invoice"]["phone"] == "057****6666"


def test_institution_sees_its_applicants_but_masked_other_mobiles() -> None:
    masked = mask_payload(PAYLOAD, Role.INSTITUTION)
    assert masked["id_number"] == ID
    assert masked["applicants"][0]["id_number"] == ID
    assert masked["applicants"][0]["mobile"] == "13900002222"
    assert masked["contact_mobile"] == "138****1111"
    assert masked["invoice"]["phone"] == "057****6666"


def test_masking_does_not_touch_the_stored_payload() -> None:
    before = repr(PAYLOAD)
    mask_payload(PAYLOAD, Role.REVIEWER)
    assert repr(PAYLOAD) == before


def test_feed_message_and_body() -> None:
    from datetime import UTC, datetime

    entry = {
        "_id": 42,
        "event_id": "ev1",
        "type": "enrollment.ApplicantQualified.v1",
        "source": "/enrollment",
        "time": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "subject": "a1",
        "data": {"id_number": ID},
        "scopes": ["province"],
    }
    message = feed_message(entry, Role.REVIEWER)
    assert message["cursor"] == "42" and message["time"] == "2026-01-02T03:04:05Z"
    assert message["data"] == {"id_number": "330106********1234"}
    assert "scopes" not in message
    assert body_of(message) == body_of(dict(reversed(list(message.items()))))  # canonical bytes


# ---------------------------------------------------------------------- audience and cursors


def test_audiences() -> None:
    assert audience_of(Identity("a", Role.ADMIN)).scope == "province"
    assert audience_of(Identity("r", Role.REVIEWER, org_id="330100", city="杭州市")).scope == "city:杭州"
    assert audience_of(Identity("i", Role.INSTITUTION, org_id="i1")).scope == "institution:i1"
    with pytest.raises(Forbidden) as refused:
        audience_of(Identity("e", Role.ENTERPRISE, org_id="e1"))
    assert refused.value.code == "role_forbidden"
    with pytest.raises(Forbidden) as no_city:
        audience_of(Identity("r", Role.REVIEWER))
    assert no_city.value.code == "feed_no_scope"


def test_cursors() -> None:
    assert parse_cursor(None) == 0 and parse_cursor("") == 0
    assert parse_cursor(format_cursor(17)) == 17
    for bad in ("-1", "abc", "1.5", "9" * 19):
        with pytest.raises(InvalidCursor):
            parse_cursor(bad)


# ---------------------------------------------------------------------- webhooks


def test_urls() -> None:
    assert (
        validate_url(" https://bo.example.cn/hook ", allow_local_http=False) == "https://bo.example.cn/hook"
    )
    assert validate_url("http://127.0.0.1:9000/h", allow_local_http=True) == "http://127.0.0.1:9000/h"
    assert validate_url("https://10.0.0.8/h", allow_local_http=True) == "https://10.0.0.8/h"  # development
    assert validate_url("https://8.8.8.8/h", allow_local_http=False) == "https://8.8.8.8/h"
    cases = [
        ("http://bo.example.cn/hook", True, "webhook_url_not_https"),
        ("http://127.0.0.1:9000/h", False, "webhook_url_not_https"),
        ("ftp://bo.example.cn", True, "webhook_url_invalid"),
        ("bo.example.cn/hook", True, "webhook_url_invalid"),
        ("https://u:p@bo.example.cn/", True, "webhook_url_invalid"),
        ("", True, "webhook_url_invalid"),
        ("https://10.0.0.8/hook", False, "webhook_url_internal"),
        ("https://[::1]/hook", False, "webhook_url_internal"),
        ("https://localhost/hook", False, "webhook_url_internal"),
        ("https://169.254.169.254/latest", False, "webhook_url_internal"),
    ]
    for url, allow, code in cases:
        with pytest.raises(InvalidWebhook) as refused:
            validate_url(url, allow_local_http=allow)
        assert refused.value.code == code, url


def test_secrets() -> None:
    assert validate_secret("k" * 32) == "k" * 32
    with pytest.raises(InvalidWebhook) as short:
        validate_secret("k" * 31)
    assert short.value.code == "webhook_secret_too_short"
    with pytest.raises(InvalidWebhook) as odd:
        validate_secret("密" * 40)
    assert odd.value.code == "webhook_secret_invalid"


def test_backoff_schedule() -> None:
    assert [retry_delay(n, first=1.0, maximum=10.0) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert schedule(4, first=0.5, maximum=60) == [0.5, 1.0, 2.0]
    assert schedule(1, first=1, maximum=1) == []
    assert retry_delay(500, first=1.0, maximum=300.0) == 300.0
    with pytest.raises(ValueError):
        retry_delay(0, first=1, maximum=1)
