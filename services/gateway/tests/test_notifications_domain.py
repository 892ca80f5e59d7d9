"""The pure rules of the notifications: recipients per event type, rendering, template checks, keys."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from events import DomainEvent, Envelope
from events.certification import CertificateIssued, CertificateRevoked, ContinuingEducationReminderDue
from events.enrollment import ApplicantQualified, ApplicantRejected, TrainingPlanned
from events.exam import ExamFailed, ExamPassed, ExamScheduled, PersonBlacklisted
from events.payment import OrderPaid, VoucherRejected
from events.registration import EnterpriseApproved, EnterpriseRejected
from gateway.notifications.adapters.store import INBOX, SMS, message_id
from gateway.notifications.application.consumer import documents
from gateway.notifications.domain.rules import Facts, is_stale, plan, principal_of
from gateway.notifications.domain.templates import (
    DEFAULTS_FILE,
    PLACEHOLDERS,
    TemplateError,
    load_templates,
    render,
    sms_segments,
)
from gateway.notifications.settings import NotifySettings
from servicekit.auth import Identity, Role
from servicekit.consumer import ReceivedEvent

ID = "330106199001011234"
ENT = "ent-1"
FACTS = Facts(
    enterprise_name="杭州建工",
    enterprise_mobile="13800000001",
    id_number=ID,
    person_name="张三",
    person_mobile="13900000002",
    exam_bring="身份证原件",
)
DEFAULTS = DEFAULTS_FILE.read_text(encoding="utf-8")


def common(**extra: Any) -> dict[str, Any]:
    return {"enterprise_id": ENT, "institution_id": "inst-1", **extra}


EVENTS: dict[str, DomainEvent] = {
    "approved": EnterpriseApproved(
        enterprise_id=ENT, credit_code="91330100MA2XXXXX1X", name="杭州建工", city="杭州", reviewer_id="r"
    ),
    "rejected": EnterpriseRejected(enterprise_id=ENT, reviewer_id="r", reason="营业执照不清晰"),
    "qualified": ApplicantQualified(
        **common(applicant_id="a1", batch_id="b1", id_number=ID, name="张三", position="施工员"),
        training_mode="online",
    ),
    "applicant_rejected": ApplicantRejected(**common(applicant_id="a1", batch_id="b1", reason="学历不符")),
    "paid": OrderPaid(
        **common(order_id="o1", order_number="PO2026001", applicant_ids=["a1", "a2"], amount_fen=120000),
        method="offline",
    ),
    "voucher_rejected": VoucherRejected(**common(order_id="o1", voucher_id="v1", reason="金额不符")),
    "planned": TrainingPlanned(
        **common(plan_id="p1", applicant_id="a1"),
        training_mode="offline",
        starts_on=date(2026, 12, 7),
        ends_on=date(2026, 12, 11),
        place="培训楼 301",
    ),
    "scheduled": ExamScheduled(
        **common(candidate_id="c1", session_id="s1", applicant_id="a1", id_number=ID, name="张三"),
        position="施工员",
        starts_at=datetime(2026, 12, 20, 1, 30, tzinfo=UTC),
        room="第一考场",
        address="杭州市西湖区文三路 1 号",
        seat=12,
    ),
    "passed": ExamPassed(
        **common(attempt_id="t1", applicant_id="a1", id_number=ID, name="张三", position="施工员"),
        score=85,
        pass_mark=60,
    ),
    "failed": ExamFailed(
        **common(attempt_id="t1", applicant_id="a1", id_number=ID, position="施工员"), score=40, pass_mark=60
    ),
    "issued": CertificateIssued(
        certificate_id="cert-1",
        certificate_number="浙建安C2026000001",
        applicant_id="a1",
        id_number=ID,
        holder_name="张三",
        position="施工员",
        institution_id="inst-1",
        issued_on=date(2026, 12, 25),
    ),
    "reminder": ContinuingEducationReminderDue(
        certificate_id="cert-1",
        certificate_number="浙建安C2026000001",
        id_number=ID,
        holder_name="张三",
        position="施工员",
        cycle=1,
        cycle_starts_on=date(2026, 1, 1),
        cycle_ends_on=date(2026, 12, 31),
        days_before=30,
        hours=12.5,
        required_hours=24,
        professional_hours=8,
        required_professional_hours=16,
    ),
    "blacklisted": PersonBlacklisted(
        blacklist_id="bl-1",
        id_number=ID,
        name="张三",
        reason="考试作弊",
        until=date(2029, 12, 1),
        blacklisted_by="x",
    ),
    "revoked": CertificateRevoked(
        certificate_id="cert-1",
        certificate_number="浙建安C2026000001",
        id_number=ID,
        reason="列入黑名单",
        source="blacklist",
    ),
}

PERSON = f"person:{ID}"
ENTERPRISE = f"enterprise:{ENT}"

# event → {(kind, recipient, SMS?)}
EXPECTED: dict[str, set[tuple[str, str, bool]]] = {
    "approved": {("registration_approved", ENTERPRISE, True)},
    "rejected": {("registration_rejected", ENTERPRISE, True)},
    "qualified": {("applicant_qualified", ENTERPRISE, False), ("applicant_qualified", PERSON, True)},
    "applicant_rejected": {("applicant_rejected", ENTERPRISE, True)},
    "paid": {("voucher_confirmed", ENTERPRISE, True)},
    "voucher_rejected": {("voucher_rejected", ENTERPRISE, True)},
    "planned": {("training_planned", PERSON, True), ("training_planned", ENTERPRISE, False)},
    "scheduled": {("exam_scheduled", PERSON, True)},
    "passed": {("exam_passed", PERSON, True), ("exam_passed", ENTERPRISE, False)},
    "failed": {("exam_failed", PERSON, True), ("exam_failed", ENTERPRISE, False)},
    "issued": {("certificate_issued", PERSON, True)},
    "reminder": {("ce_reminder", PERSON, True)},
    "blacklisted": {("person_blacklisted", PERSON, True)},
    "revoked": {("certificate_revoked", PERSON, True)},
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_recipients_per_event_type(name: str) -> None:
    deliveries = plan(EVENTS[name], FACTS)
    got = {(d.kind, d.recipient, bool(d.sms_to)) for d in deliveries}
    assert got == EXPECTED[name]
    for delivery in deliveries:
        expected_mobile = FACTS.person_mobile if delivery.recipient == PERSON else FACTS.enterprise_mobile
        assert delivery.sms_to in ("", expected_mobile)
        assert set(delivery.values) <= PLACEHOLDERS[delivery.kind]


def test_every_kind_is_produced_by_some_event() -> None:
    produced = {kind for expected in EXPECTED.values() for kind, _, _ in expected}
    assert produced == set(PLACEHOLDERS)


def test_no_sms_without_a_known_mobile_and_no_person_message_without_an_id_number() -> None:
    planned = plan(EVENTS["planned"], Facts(enterprise_name="杭州建工"))
    assert [(d.recipient, d.sms_to) for d in planned] == [(ENTERPRISE, "")]
    rejected = plan(EVENTS["rejected"], Facts())
    assert [(d.recipient, d.sms_to) for d in rejected] == [(ENTERPRISE, "")]


def test_an_order_paid_online_is_no_voucher_confirmation() -> None:
    online = EVENTS["paid"].model_copy(update={"method": "online"})
    assert plan(online, FACTS) == []


def test_rendering_in_china_time_with_the_configured_things_to_bring() -> None:
    templates = load_templates(DEFAULTS)
    (delivery,) = plan(EVENTS["scheduled"], FACTS)
    text = render(templates[delivery.kind], delivery.values)
    assert "2026年12月20日 09:30" in text.body  # 01:30 UTC
    assert "第一考场" in text.body and "12" in text.body and "文三路" in text.body
    assert "身份证原件" in text.body and "身份证原件" in text.sms
    (rejected,) = plan(EVENTS["rejected"], FACTS)
    rendered = render(templates["registration_rejected"], rejected.values)
    assert "营业执照不清晰" in rendered.body and "营业执照不清晰" in rendered.sms
    (blacklisted,) = plan(EVENTS["blacklisted"], FACTS)
    assert "2029年12月1日" in render(templates["person_blacklisted"], blacklisted.values).body


def test_the_default_sms_texts_fit_one_or_two_segments_with_typical_values() -> None:
    templates = load_templates(DEFAULTS)
    for name, event in EVENTS.items():
        for delivery in plan(event, FACTS):
            sms = render(templates[delivery.kind], delivery.values).sms
            assert sms_segments(sms) <= 2, (name, len(sms), sms)
            assert "{" not in sms and "}" not in sms


def test_an_override_replaces_one_part_and_keeps_the_others() -> None:
    templates = load_templates(DEFAULTS, '[exam_passed]\nsms = "恭喜{name}通过考试"\n')
    assert templates["exam_passed"].sms == "恭喜{name}通过考试"
    assert templates["exam_passed"].title == load_templates(DEFAULTS)["exam_passed"].title


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ('[exam_passed]\nsms = "{nmae}通过"\n', "exam_passed.sms"),
        ('[exam_passed]\nbody = "{name!r}"\n', "exam_passed.body"),
        ('[exam_passed]\ntitle = "未闭合 {name"\n', "exam_passed.title"),
        ('[exam_pased]\nsms = "x"\n', "exam_pased"),
        ('[exam_passed]\nfooter = "x"\n', "exam_passed.footer"),
        ("[exam_passed\n", "TOML"),
    ],
)
def test_a_wrong_template_is_refused_naming_it(override: str, named: str) -> None:
    with pytest.raises(TemplateError, match=named.replace(".", r"\.")):
        load_templates(DEFAULTS, override)


def test_settings_refuse_an_unknown_provider_and_a_broken_templates_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SMS_PROVIDER", "aliyun")
    with pytest.raises(ValueError, match="NOTIFY_SMS_PROVIDER='aliyun'"):
        NotifySettings().check_provider()
    monkeypatch.setenv("NOTIFY_SMS_PROVIDER", "local")
    NotifySettings().check_provider()
    broken = tmp_path / "templates.toml"
    broken.write_text('[ce_reminder]\nsms = "{hours_left}"\n', encoding="utf-8")
    monkeypatch.setenv("NOTIFY_TEMPLATES_FILE", str(broken))
    with pytest.raises(TemplateError, match=r"ce_reminder\.sms.*\{hours_left\}"):
        NotifySettings().templates()


def test_the_inbox_of_an_account_is_its_principal() -> None:
    assert principal_of(Identity("acc", Role.ENTERPRISE, org_id=ENT)) == ENTERPRISE
    assert principal_of(Identity("acc", Role.PERSON, org_id=ID.lower().replace("4", "4"))) == PERSON
    assert principal_of(Identity("acc", Role.INSTITUTION, org_id="inst-1")) == "institution:inst-1"
    assert principal_of(Identity("acc", Role.ADMIN)) == "account:acc"


def received(event: DomainEvent, event_id: str | None = None) -> ReceivedEvent:
    envelope = Envelope.for_event(event, subject="s", source="/test", id=event_id or uuid.uuid4().hex)
    return ReceivedEvent(envelope=envelope, event=event, topic=event.topic(), partition=0, offset=0)


def test_message_keys_are_the_event_the_recipient_and_the_channel() -> None:
    templates = load_templates(DEFAULTS)
    now = datetime.now(UTC)
    event = EVENTS["qualified"]
    first = documents(received(event, "evt-1"), plan(event, FACTS), templates, now)
    again = documents(received(event, "evt-1"), plan(event, FACTS), templates, now)
    other = documents(received(event, "evt-2"), plan(event, FACTS), templates, now)
    assert [d["_id"] for d in first] == [d["_id"] for d in again]
    assert not {d["_id"] for d in first} & {d["_id"] for d in other}
    assert {(d["recipient"], d["channel"]) for d in first} == {
        (ENTERPRISE, INBOX),
        (PERSON, INBOX),
        (PERSON, SMS),
    }
    assert message_id("evt-1", PERSON, SMS) in {d["_id"] for d in first}
    sms = next(d for d in first if d["channel"] == SMS)
    assert sms["mobile"] == FACTS.person_mobile and sms["status"] == "pending" and sms["id_number"] == ID


def test_old_events_are_stale() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert not is_stale(now - timedelta(hours=71), now, timedelta(hours=72))
    assert is_stale(now - timedelta(hours=73), now, timedelta(hours=72))
