"""Notifications on the real platform: every kind of message arrives once in the inbox of its principal and
once in the local SMS file (NOTIFY_SMS_FILE, set by the launcher beside the logs).

Driven by real commands: an enterprise registered and approved, another rejected (with its reason); an
applicant imported, qualified, paid by a voucher the institution confirmed, planned for training and applied
for the exam (exam_support.exam_cohort), then scheduled in a session. The events of the long flows are
published as contract events (events.* models in a proper envelope) to the real Kafka, as their contexts
publish them: ApplicantRejected and VoucherRejected (for the same enterprise), ExamFailed, ExamPassed (the
certification service then really issues the certificate: CertificateIssued), ContinuingEducationReminderDue
and PersonBlacklisted (certification then really revokes the certificate: CertificateRevoked). One event is
published twice with the same envelope: it gives one message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from events import DomainEvent, Envelope
from events.certification import ContinuingEducationReminderDue
from events.enrollment import ApplicantRejected
from events.exam import ExamFailed, ExamPassed, PersonBlacklisted
from events.payment import VoucherRejected
from servicekit.kafka import create_producer, ensure_topics
from servicekit.launcher import ServiceProcesses
from servicekit.settings import ServiceSettings

from .exam_support import activate_person, exam_cohort, new_session, schedule
from .helpers import bearer, eventually, login, new_account, register_enterprise

pytestmark = pytest.mark.integration

ENTERPRISE_KINDS = [
    "registration_approved",
    "applicant_qualified",
    "voucher_confirmed",
    "training_planned",
    "applicant_rejected",
    "voucher_rejected",
    "exam_failed",
    "exam_passed",
]
ENTERPRISE_SMS = ["registration_approved", "voucher_confirmed", "applicant_rejected", "voucher_rejected"]
PERSON_KINDS = [
    "applicant_qualified",
    "training_planned",
    "exam_scheduled",
    "exam_failed",
    "exam_passed",
    "certificate_issued",
    "ce_reminder",
    "person_blacklisted",
    "certificate_revoked",
]


async def publish(settings: ServiceSettings, *envelopes: Envelope) -> None:
    producer = create_producer(settings)
    await producer.start()
    try:
        for envelope in envelopes:
            topic = envelope_topic(envelope)
            await ensure_topics(settings, [topic])
            key, value, headers = envelope.to_kafka()
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


_TOPICS: dict[str, str] = {}


def wrap(event: DomainEvent, source: str) -> Envelope:
    envelope = Envelope.for_event(event, subject=uuid.uuid4().hex, source=source)
    _TOPICS[envelope.id] = event.topic()
    return envelope


def envelope_topic(envelope: Envelope) -> str:
    return _TOPICS[envelope.id]


async def inbox(api: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    page = await api.get("/api/notifications/inbox", headers=bearer(token))
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


async def kinds_arrived(api: httpx.AsyncClient, token: str, kinds: list[str]) -> list[dict[str, Any]] | None:
    items = await inbox(api, token)
    return items if set(kinds) <= {i["kind"] for i in items} else None


def sms_lines(path: Path, recipient: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line for line in lines if line.get("recipient") == recipient]


async def test_every_notification_arrives_once_in_the_inbox_and_the_sms_file(
    platform: ServiceProcesses,
    admin_credentials: tuple[str, str],
    make_settings: Callable[..., ServiceSettings],
) -> None:
    sms_file = Path(platform.env["NOTIFY_SMS_FILE"])
    settings = make_settings("notifications-it")
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]

        # a registration rejected with its reason
        signup = await api.post(
            "/api/gateway/auth/signup/enterprise",
            json={
                "username": f"ent-{uuid.uuid4().hex[:8]}",
                "password": "Jianshe2026!",
                "display_name": "驳回企业",
            },
        )
        rejected_token, rejected_id = signup.json()["access_token"], signup.json()["org_id"]
        assert (await register_enterprise(api, rejected_token, city="杭州")).status_code == 201
        reviewer = await new_account(api, admin, "reviewer", city="杭州")
        checks = [
            {"check": "local_enterprise", "passed": True},
            {"check": "construction_enterprise", "passed": True},
            {"check": "documents_compliant", "passed": False, "note": "承诺书无公章"},
        ]
        refused = await api.post(
            f"/api/registration/enterprises/{rejected_id}/reject",
            headers=bearer(reviewer),
            json={"checks": checks, "reason": "承诺书未加盖公章"},
        )
        assert refused.status_code == 204, refused.text

        # approved, qualified, voucher confirmed, training planned, applied; then scheduled
        cohort = await exam_cohort(api, admin, [("钱七", "男", date(1991, 3, 5))])
        member = cohort.members[0]
        session_id = await new_session(
            api, cohort.institution_token, specialisation="土建施工", minutes_ahead=60
        )
        scheduled = await schedule(api, cohort.institution_token, session_id, [member.candidate_id])
        assert scheduled.status_code in (200, 201), scheduled.text
        person_token = await activate_person(api, cohort.institution_token, member.id_number, "Xuyuan2026!")

        # the long flows' events, as their contexts publish them (one of them twice)
        common = {"enterprise_id": cohort.enterprise_id, "institution_id": cohort.institution_id}
        applicant_rejected = wrap(
            ApplicantRejected(applicant_id=uuid.uuid4().hex, batch_id="b", reason="学历证明不清晰", **common),
            "/enrollment",
        )
        voucher_rejected = wrap(
            VoucherRejected(order_id="o", voucher_id="v", reason="转账金额与订单不符", **common), "/payment"
        )
        person = {"applicant_id": member.applicant_id, "id_number": member.id_number, "position": "施工员"}
        failed = wrap(
            ExamFailed(attempt_id=uuid.uuid4().hex, score=41, pass_mark=60, **common, **person), "/exam"
        )
        passed = wrap(
            ExamPassed(
                attempt_id=uuid.uuid4().hex, name=member.name, score=88, pass_mark=60, **common, **person
            ),
            "/exam",
        )
        reminder = wrap(
            ContinuingEducationReminderDue(
                certificate_id="c-old",
                certificate_number="浙建C2020000001",
                id_number=member.id_number,
                holder_name=member.name,
                position="施工员",
                cycle=1,
                cycle_starts_on=date(2024, 1, 1),
                cycle_ends_on=date(2026, 12, 31),
                days_before=30,
                hours=10,
                required_hours=24,
                professional_hours=4,
                required_professional_hours=16,
            ),
            "/certification",
        )
        await publish(
            settings, applicant_rejected, applicant_rejected, voucher_rejected, failed, passed, reminder
        )

        # the certificate of the passed exam is issued by certification; then the person is blacklisted
        await eventually(
            lambda: kinds_arrived(api, person_token, ["certificate_issued"]),
            what="the certificate issued message",
        )
        blacklisted = wrap(
            PersonBlacklisted(
                blacklist_id=uuid.uuid4().hex,
                id_number=member.id_number,
                name=member.name,
                reason="考试作弊",
                until=date(2029, 12, 1),
                blacklisted_by="admin-1",
            ),
            "/exam",
        )
        await publish(settings, blacklisted)

        enterprise_items = await eventually(
            lambda: kinds_arrived(api, cohort.enterprise_token, ENTERPRISE_KINDS),
            what="the enterprise's inbox",
        )
        person_items = await eventually(
            lambda: kinds_arrived(api, person_token, PERSON_KINDS), what="the person's inbox"
        )
        rejected_items = await eventually(
            lambda: kinds_arrived(api, rejected_token, ["registration_rejected"]), what="the rejected inbox"
        )

        assert sorted(i["kind"] for i in enterprise_items) == sorted(ENTERPRISE_KINDS)
        assert sorted(i["kind"] for i in person_items) == sorted(PERSON_KINDS)
        assert [i["kind"] for i in rejected_items] == ["registration_rejected"]
        assert "承诺书未加盖公章" in rejected_items[0]["body"]
        by_kind = {i["kind"]: i for i in person_items}
        assert (
            "身份证原件" in by_kind["exam_scheduled"]["body"]
            and "第一考场" in by_kind["exam_scheduled"]["body"]
        )
        assert "2029年12月1日" in by_kind["person_blacklisted"]["body"]
        assert all(not i["read"] and i["created_at"].endswith("+08:00") for i in person_items)

        # once in the SMS file, for the principal it concerns
        enterprise = f"enterprise:{cohort.enterprise_id}"
        holder = f"person:{member.id_number}"

        async def all_sent() -> bool:
            return sorted(line["kind"] for line in sms_lines(sms_file, enterprise)) == sorted(
                ENTERPRISE_SMS
            ) and sorted(line["kind"] for line in sms_lines(sms_file, holder)) == sorted(PERSON_KINDS)

        await eventually(all_sent, what="the SMS file")
        assert [line["kind"] for line in sms_lines(sms_file, f"enterprise:{rejected_id}")] == [
            "registration_rejected"
        ]
        assert "承诺书未加盖公章" in sms_lines(sms_file, f"enterprise:{rejected_id}")[0]["text"]
        assert sms_lines(sms_file, holder)[0]["mobile"].startswith("139")

        # another's message is not found; mark one and all read
        other = enterprise_items[0]["id"]
        assert (
            await api.post(f"/api/notifications/inbox/{other}/read", headers=bearer(person_token))
        ).status_code == 404
        read = await api.post(
            f"/api/notifications/inbox/{other}/read", headers=bearer(cohort.enterprise_token)
        )
        assert read.status_code == 200
        count = await api.get(
            "/api/notifications/inbox/unread-count", headers=bearer(cohort.enterprise_token)
        )
        assert count.json() == {"unread": len(ENTERPRISE_KINDS) - 1}
