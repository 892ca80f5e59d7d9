"""The person's own profile (我的资料) on the real platform: an enrolled person activates their account, sees
the batch they are in, uploads a head photo (checked like the materials zip's) and the ID card; the
application for the exam carries that head photo and locks it (HEAD_PHOTO_LOCKED: `head_photo_locked`); a
later zip does not replace it; a failed exam (ExamFailed from the exam context) lets the institution apply
again (补考, `retake`)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import imaging
import pytest
from events import Envelope, ExamFailed
from servicekit.kafka import create_producer, ensure_topics
from servicekit.launcher import ServiceProcesses
from servicekit.settings import ServiceSettings

from .helpers import (
    approved_enterprise,
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    pay_offline,
    publish_offer,
    upload_head_photos,
)

pytestmark = pytest.mark.integration


async def _publish_exam_failed(settings: ServiceSettings, event: ExamFailed) -> None:
    """The exam context's answer, as the exam service publishes it (the exam itself is another issue's)."""
    topic = ExamFailed.topic()
    await ensure_topics(settings, [topic])
    producer = create_producer(settings)
    await producer.start()
    try:
        key, value, headers = Envelope.for_event(
            event, subject=f"attempt-{event.attempt_id}", source="/exam"
        ).to_kafka()
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def test_person_profile_head_photo_lock_and_retake(
    platform: ServiceProcesses,
    admin_credentials: tuple[str, str],
    make_settings: Callable[..., ServiceSettings],
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-pp-{uuid.uuid4().hex[:6]}"
        institution_token = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        institution = bearer(institution_token)
        await publish_offer(api, institution_token, name="我的资料测试学校")
        signup = await approved_enterprise(api, admin)
        enterprise_token = signup["access_token"]
        enterprise = bearer(enterprise_token)

        id_number = make_id_number(date(1993, 6, 12), male=False)
        batch = {
            "institution_id": institution_id,
            "position": "安全员",
            "training_mode": "online",
            "applicants": [
                {
                    "name": "孙八",
                    "gender": "女",
                    "id_number": id_number,
                    "mobile": f"139{random.randrange(10**8):08d}",
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                }
            ],
        }
        created = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
        assert created.status_code == 201, created.text
        batch_id, applicant_id = created.json()["batch_id"], created.json()["applicant_ids"][0]

        # the person activates their account with a one-time code from the institution
        async def issue_code() -> str | None:
            r = await api.post(f"/api/gateway/persons/{id_number}/activation-code", headers=institution)
            return str(r.json()["code"]) if r.status_code == 200 else None

        code = await eventually(issue_code, what="the gateway to know the person")
        activated = await api.post(
            "/api/gateway/auth/activate",
            json={"id_number": id_number, "code": code, "password": "Xuyuan2026!"},
        )
        assert activated.status_code == 200, activated.text
        person = bearer(activated.json()["access_token"])

        # the profile shows the batch; only the person may see it
        async def profile_with_batch() -> dict[str, Any] | None:
            r = await api.get("/api/enrollment/me/profile", headers=person)
            assert r.status_code == 200, r.text
            return r.json() if r.json()["applications"] else None

        profile = await eventually(profile_with_batch, what="the profile to show the batch")
        assert profile["name"] == "孙八" and profile["gender"] == "女"
        assert profile["id_number"] != id_number and profile["id_number"].endswith(id_number[-4:])
        assert [(a["applicant_id"], a["batch_id"], a["status"]) for a in profile["applications"]] == [
            (applicant_id, batch_id, "pending")
        ]
        assert profile["applications"][0]["institution_name"] == "我的资料测试学校"
        assert profile["head_photo"] is None and profile["head_photo_locked"] is False
        for other in (enterprise, institution):
            r = await api.get("/api/enrollment/me/profile", headers=other)
            assert r.status_code == 403 and r.json()["code"] == "role_forbidden"

        # the head photo is checked like the zip's: a grey background is refused with the rule named
        bad = await api.put(
            "/api/enrollment/me/head-photo",
            headers=person,
            files={"file": ("me.jpg", imaging.grey_background_head_photo(), "image/jpeg")},
        )
        assert bad.status_code == 422 and bad.json()["code"] == "head_photo_rejected", bad.text
        assert "background" in {e["rule"] for e in bad.json()["errors"]}
        good = imaging.good_head_photo()
        ok = await api.put(
            "/api/enrollment/me/head-photo", headers=person, files={"file": ("me.jpg", good, "image/jpeg")}
        )
        assert ok.status_code == 200, ok.text
        front = await api.put(
            "/api/enrollment/me/id-card/front",
            headers=person,
            files={"file": ("front.png", imaging.small_png(), "image/png")},
        )
        assert front.status_code == 200 and front.json()["content_type"] == "image/png", front.text
        not_image = await api.put(
            "/api/enrollment/me/id-card/back",
            headers=person,
            files={"file": ("back.jpg", b"%PDF-1.4 not an image", "image/jpeg")},
        )
        assert not_image.status_code == 415 and not_image.json()["code"] == "unsupported_format"

        async def profile_with_photo() -> dict[str, Any] | None:
            r = (await api.get("/api/enrollment/me/profile", headers=person)).json()
            photo = r["head_photo"]
            return r if photo and photo["source"] == "profile" and r["id_card"]["front"] else None

        profile = await eventually(profile_with_photo, what="the profile to show the uploaded photo")
        async with httpx.AsyncClient(timeout=30) as s3:
            assert (await s3.get(profile["head_photo"]["url"])).content == good
            assert (await s3.get(profile["id_card"]["front"]["url"])).content == imaging.small_png()
        assert profile["id_card"]["back"] is None

        # qualified, paid, trained; the institution sees the person's photo, then applies for the exam
        assert (
            await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution)
        ).status_code == 204

        async def ordered() -> dict[str, Any] | None:
            r = await api.post(
                "/api/payment/orders",
                headers=enterprise,
                json={"institution_id": institution_id, "applicant_ids": [applicant_id]},
            )
            return r.json() if r.status_code == 201 else None

        order = await eventually(ordered, what="an order for the qualified applicant")
        paid = await pay_offline(api, enterprise_token, institution_token, order["order_id"])
        assert paid.status_code == 204, paid.text

        async def enrolled() -> bool:
            r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=institution)
            return r.json()["status"] == "enrolled"

        await eventually(enrolled, what="the applicant to be enrolled")
        seen = (await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=institution)).json()
        assert seen["head_photo"]["source"] == "profile" and seen["head_photo_locked"] is False
        own_key = seen["head_photo"]["key"]
        plan = await api.post(
            "/api/enrollment/training-plans",
            headers=institution,
            json={
                "name": "安全员线上班",
                "training_mode": "online",
                "position": "安全员",
                "starts_on": "2026-12-01",
                "ends_on": "2026-12-20",
                "platform": "浙江省建设人才网络学院",
            },
        )
        assert plan.status_code == 201, plan.text
        plan_id = plan.json()["plan_id"]
        for step in ("trainees", "completion"):
            done = await api.post(
                f"/api/enrollment/training-plans/{plan_id}/{step}",
                headers=institution,
                json={"applicant_ids": [applicant_id]},
            )
            assert done.status_code == 200, done.text
        applied = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/apply-exam",
            headers=institution,
            json={"applicant_ids": [applicant_id]},
        )
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"] == [applicant_id] and applied.json()["retakes"] == []

        # the head photo can no longer be changed
        locked = await api.put(
            "/api/enrollment/me/head-photo", headers=person, files={"file": ("me.jpg", good, "image/jpeg")}
        )
        assert locked.status_code == 409 and locked.json()["code"] == "head_photo_locked", locked.text
        assert "考试" in locked.json()["detail"]
        # a later zip keeps it too
        kept = await upload_head_photos(api, enterprise_token, batch_id, [id_number], documents=("报名表",))
        assert [k["id_number"] for k in kept["head_photos_kept"]] == [id_number]
        assert kept["applicants"][0]["stored"] == ["报名表"], "the other documents are stored"

        # ExamApplied carried the person's photo (enrollment's read model of the application)
        async def exam_photo() -> dict[str, Any] | None:
            r = await api.get(
                "/api/enrollment/applicants", headers=institution, params={"batch_id": batch_id}
            )
            item = r.json()["items"][0]
            return item if item["status"] == "exam_applied" and item.get("exam_head_photo") else None

        item = await eventually(exam_photo, what="the application with its head photo")
        assert item["exam_head_photo"]["key"] == own_key and item["exam_retake"] is False
        profile = (await api.get("/api/enrollment/me/profile", headers=person)).json()
        assert profile["head_photo_locked"] is True and "考试" in profile["head_photo_lock_reason"]
        assert profile["applications"][0]["status"] == "exam_applied"
        async with httpx.AsyncClient(timeout=30) as s3:
            assert (await s3.get(profile["head_photo"]["url"])).content == good

        # 补考: the exam context reports a failure; the institution applies again with the same photo
        await _publish_exam_failed(
            make_settings(),
            ExamFailed(
                attempt_id=uuid.uuid4().hex,
                applicant_id=applicant_id,
                enterprise_id=signup["org_id"],
                institution_id=institution_id,
                id_number=id_number,
                position="安全员",
                score=42,
                pass_mark=60,
            ),
        )

        async def failed() -> dict[str, Any] | None:
            r = (await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)).json()
            return r if r["status"] == "exam_failed" else None

        noted = await eventually(failed, what="enrollment to note the failed exam")
        assert "补考" in noted["status_label"]
        again = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/apply-exam",
            headers=institution,
            json={"applicant_ids": [applicant_id]},
        )
        assert again.status_code == 200, again.text
        assert again.json()["applied"] == [applicant_id] and again.json()["retakes"] == [applicant_id]

        async def retake() -> dict[str, Any] | None:
            r = await api.get(
                "/api/enrollment/applicants", headers=institution, params={"batch_id": batch_id}
            )
            item = r.json()["items"][0]
            return item if item["status"] == "exam_applied" and item["exam_retake"] else None

        item = await eventually(retake, what="the retake application")
        assert item["exam_head_photo"]["key"] == own_key
