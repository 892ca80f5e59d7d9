"""Training plans on the real platform: enrolled applicants are planned, the enterprise sees the plan, the
institution records completion and applies for the exam, the exam service lists the candidate, and the read
models come out identical when rebuilt. Plus: the `training-plans` projection gives the same read model
whichever order the plan's and the trainees' events arrive in (they travel under different keys)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from enrollment.domain.events import TrainingCompleted, TrainingPlanCreated
from enrollment.projections.training import APPLICANT_TRAINING, TRAINING_PLANS, training_plans
from events import DomainEvent, Envelope, ExamApplied, TrainingPlanned
from servicekit.consumer import ReceivedEvent
from servicekit.launcher import ServiceProcesses
from servicekit.mongo import Session, create_client, in_transaction
from servicekit.projections import Projection, snapshot
from servicekit.rebuild import rebuild_service

from .helpers import (
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    pay_offline,
    publish_offer,
    register_enterprise,
    upload_head_photos,
)

pytestmark = pytest.mark.integration

CHECKS_OK = [
    {"check": c, "passed": True}
    for c in ("local_enterprise", "construction_enterprise", "documents_compliant")
]


def _applicant(name: str, gender: str, birth: date) -> dict[str, Any]:
    return {
        "name": name,
        "gender": gender,
        "id_number": make_id_number(birth, male=gender == "男"),
        "mobile": f"139{random.randrange(10**8):08d}",
        "education": "大专",
        "employer": "杭州建工集团有限公司",
    }


async def test_training_plan_to_exam_application(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-tr-{uuid.uuid4().hex[:6]}"
        institution_token = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        institution = bearer(institution_token)
        other_institution = bearer(
            await new_account(
                api, admin, "institution", org_id=f"inst-tr-{uuid.uuid4().hex[:6]}", city="杭州"
            )
        )
        reviewer = bearer(await new_account(api, admin, "reviewer", city="杭州"))
        await publish_offer(api, institution_token, name="培训计划测试学校")

        # an approved enterprise enrolls three; the institution qualifies two, who are ordered and paid
        signup = await api.post(
            "/api/gateway/auth/signup/enterprise",
            json={
                "username": f"tr-ent-{uuid.uuid4().hex[:8]}",
                "password": "Jianshe2026!",
                "display_name": "培训测试企业",
            },
        )
        assert signup.status_code == 201, signup.text
        enterprise, enterprise_id = bearer(signup.json()["access_token"]), signup.json()["org_id"]
        assert (await register_enterprise(api, signup.json()["access_token"])).status_code == 201

        async def approve() -> bool:
            r = await api.post(
                f"/api/registration/enterprises/{enterprise_id}/approve",
                headers=reviewer,
                json={"checks": CHECKS_OK},
            )
            assert r.status_code in (204, 404), r.text
            return r.status_code == 204

        await eventually(approve, what="the registration to be reviewable")
        applicants = [
            _applicant("周一", "男", date(1990, 5, 17)),
            _applicant("吴二", "女", date(1992, 8, 3)),
            _applicant("郑三", "男", date(1988, 1, 21)),
        ]
        batch = {
            "institution_id": institution_id,
            "position": "施工员",
            "specialisation": "土建施工",
            "training_mode": "offline",
            "applicants": applicants,
        }

        async def imported() -> dict[str, Any] | None:
            r = await api.post("/api/enrollment/batches", headers=enterprise, json=batch)
            assert r.status_code in (201, 403), r.text
            return r.json() if r.status_code == 201 else None

        created_batch = await eventually(imported, what="enrollment to accept the approved enterprise")
        a, b, c = created_batch["applicant_ids"]
        for applicant_id in (a, b):
            r = await api.post(f"/api/enrollment/applicants/{applicant_id}/qualify", headers=institution)
            assert r.status_code == 204, r.text

        async def ordered() -> dict[str, Any] | None:
            r = await api.post(
                "/api/payment/orders",
                headers=enterprise,
                json={"institution_id": institution_id, "applicant_ids": [a, b]},
            )
            return r.json() if r.status_code == 201 else None

        order = await eventually(ordered, what="an order for the qualified applicants")
        confirmed = await pay_offline(
            api, signup.json()["access_token"], institution_token, order["order_id"]
        )
        assert confirmed.status_code == 204, confirmed.text

        async def all_enrolled() -> bool:
            for applicant_id in (a, b):
                r = await api.get(f"/api/enrollment/applicants/{applicant_id}", headers=enterprise)
                if r.json()["status"] != "enrolled":
                    return False
            return True

        await eventually(all_enrolled, what="the applicants to be 已报名")

        # the institution creates a plan: every problem is named at once; only institutions may
        bad = await api.post(
            "/api/enrollment/training-plans",
            headers=institution,
            json={
                "name": "",
                "training_mode": "offline",
                "position": "施工员",
                "starts_on": "2026-03-10",
                "ends_on": "2026-03-01",
            },
        )
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_training_plan", bad.text
        assert {(e["field"], e["code"]) for e in bad.json()["errors"]} == {
            ("name", "required"),
            ("ends_on", "ends_before_start"),
            ("place", "required"),
        }
        today = datetime.now(timezone(timedelta(hours=8))).date()
        plan_body = {
            "name": "施工员（土建施工）线下培训班",
            "training_mode": "offline",
            "position": "施工员",
            "starts_on": (today - timedelta(days=1)).isoformat(),
            "ends_on": (today + timedelta(days=4)).isoformat(),
            "place": "杭州市西湖区文三路 90 号 3 楼",
            "schedule": "每天 9:00-12:00、13:30-17:00；最后一天下午结业",
        }
        denied = await api.post("/api/enrollment/training-plans", headers=enterprise, json=plan_body)
        assert denied.status_code == 403 and denied.json()["code"] == "role_forbidden"
        created = await api.post("/api/enrollment/training-plans", headers=institution, json=plan_body)
        assert created.status_code == 201, created.text
        plan_id = created.json()["plan_id"]
        assert created.json()["training_mode_label"] == "线下"

        # one applicant not enrolled: the whole request is refused, naming that applicant and why
        refused = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/trainees",
            headers=institution,
            json={"applicant_ids": [a, b, c]},
        )
        assert refused.status_code == 422 and refused.json()["code"] == "trainees_refused", refused.text
        assert [(e["applicant_id"], e["code"]) for e in refused.json()["errors"]] == [(c, "not_enrolled")]
        assert "郑三" in refused.json()["detail"]
        foreign = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/trainees",
            headers=other_institution,
            json={"applicant_ids": [a]},
        )
        assert foreign.status_code == 404 and foreign.json()["code"] == "training_plan_not_found"
        added = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/trainees",
            headers=institution,
            json={"applicant_ids": [a, b]},
        )
        assert added.status_code == 200, added.text
        assert added.json()["added"] == [a, b], "nothing was added by the refused request"
        again = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/trainees",
            headers=institution,
            json={"applicant_ids": [a]},
        )
        assert again.status_code == 200 and again.json() == {
            "plan_id": plan_id,
            "added": [],
            "already_in_plan": [a],
        }

        # the enterprise sees the plan under the applicant; others do not
        async def enterprise_sees_plan() -> dict[str, Any] | None:
            r = await api.get(f"/api/enrollment/applicants/{a}/training", headers=enterprise)
            assert r.status_code == 200, r.text
            return r.json() if r.json()["planned"] else None

        seen = await eventually(enterprise_sees_plan, what="the plan under the applicant")
        assert seen["plan"]["plan_id"] == plan_id and seen["plan"]["place"] == plan_body["place"]
        assert (
            seen["plan"]["starts_on"] == plan_body["starts_on"]
            and seen["plan"]["schedule"] == plan_body["schedule"]
        )
        assert seen["plan"]["name"] == plan_body["name"] and seen["completed"] is False
        assert seen["state_label"] == "已安排培训"
        not_yours = await api.get(f"/api/enrollment/applicants/{a}/training", headers=other_institution)
        assert not_yours.status_code == 404
        not_role = await api.get(f"/api/enrollment/applicants/{a}/training", headers=reviewer)
        assert not_role.status_code == 403 and not_role.json()["code"] == "role_forbidden"
        not_planned = await api.get(f"/api/enrollment/applicants/{c}/training", headers=institution)
        assert not_planned.status_code == 200 and not_planned.json()["planned"] is False

        # completion for one; completing someone outside the plan is refused
        completed = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/completion",
            headers=institution,
            json={"applicant_ids": [a]},
        )
        assert completed.status_code == 200 and completed.json()["completed"] == [a], completed.text
        outside = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/completion",
            headers=institution,
            json={"applicant_ids": [c]},
        )
        assert outside.status_code == 422 and outside.json()["code"] == "completion_refused"
        assert outside.json()["errors"][0]["code"] == "not_in_plan"

        # the exam application needs a head photo (the exam's face check compares with it)
        await upload_head_photos(
            api,
            signup.json()["access_token"],
            created_batch["batch_id"],
            [p["id_number"] for p in applicants],
        )

        # the exam application: the one who completed is applied, the other refused with the reason
        applied = await api.post(
            f"/api/enrollment/training-plans/{plan_id}/apply-exam",
            headers=institution,
            json={"applicant_ids": [a, b]},
        )
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"] == [a]
        assert [(r["applicant_id"], r["code"]) for r in applied.json()["refused"]] == [
            (b, "training_not_completed")
        ]

        async def candidate_listed() -> list[dict[str, Any]] | None:
            r = await api.get("/api/exam/candidates", headers=institution)
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            return items if any(i["applicant_id"] == a for i in items) else None

        candidates = await eventually(candidate_listed, what="the exam service to list the candidate")
        assert all(i["applicant_id"] != b for i in candidates)

        # the plan with its trainees and their states; lists scoped by owner
        async def plan_states() -> dict[str, Any] | None:
            r = await api.get(f"/api/enrollment/training-plans/{plan_id}", headers=institution)
            assert r.status_code == 200, r.text
            states = {t["applicant_id"]: t["state"] for t in r.json()["trainees"]}
            return r.json() if states == {a: "exam_applied", b: "planned"} else None

        detail = await eventually(plan_states, what="the plan's trainee states")
        assert (detail["trainee_count"], detail["completed_count"], detail["exam_applied_count"]) == (2, 1, 1)
        assert {t["name"] for t in detail["trainees"]} == {"周一", "吴二"}
        assert (
            await api.get(f"/api/enrollment/training-plans/{plan_id}", headers=other_institution)
        ).status_code == 404
        assert (
            await api.get(f"/api/enrollment/training-plans/{plan_id}", headers=bearer(admin))
        ).status_code == 200
        assert (await api.get("/api/enrollment/training-plans", headers=enterprise)).status_code == 403

        async def listed() -> dict[str, Any] | None:
            r = await api.get("/api/enrollment/training-plans", headers=institution)
            items = [i for i in r.json()["items"] if i["plan_id"] == plan_id]
            return items[0] if items and items[0]["exam_applied_count"] == 1 else None

        row = await eventually(listed, what="the plan in the institution's list")
        assert (row["trainee_count"], row["completed_count"], row["name"]) == (2, 1, plan_body["name"])
        others = (await api.get("/api/enrollment/training-plans", headers=other_institution)).json()
        assert all(i["plan_id"] != plan_id for i in others["items"])
        everything = (await api.get("/api/enrollment/training-plans", headers=bearer(admin))).json()
        assert any(i["plan_id"] == plan_id for i in everything["items"])

        async def enterprise_sees_exam() -> dict[str, Any] | None:
            r = await api.get(f"/api/enrollment/applicants/{a}/training", headers=enterprise)
            return r.json() if r.json()["exam_applied"] else None

        final = await eventually(enterprise_sees_exam, what="the exam application under the applicant")
        assert final["completed"] is True and final["state"] == "exam_applied"

        # before rebuilding: the other enrollment read models have caught up too
        async def applicants_caught_up() -> bool:
            r = await api.get(
                "/api/enrollment/applicants",
                headers=institution,
                params={"batch_id": created_batch["batch_id"]},
            )
            statuses = {i["applicant_id"]: i["status"] for i in r.json()["items"]}
            return statuses == {a: "exam_applied", b: "enrolled", c: "pending"}

        await eventually(applicants_caught_up, what="the applicants read model")

    # every enrollment read model, rebuilt from the log, comes out identical
    for key, value in platform.env.items():
        monkeypatch.setenv(key, value)
    result = await rebuild_service("enrollment", check=True)
    assert result.identical, result.differences
    rebuilt = {r.projection: r for r in result.reports}
    assert rebuilt["training-plans"].events_applied > 0


# --- the projection alone: the same read model whatever the delivery order ------------------------------


def _received(event: DomainEvent, subject: str, at: datetime) -> ReceivedEvent:
    envelope = Envelope.for_event(event, subject=subject, source="/enrollment", time=at)
    return ReceivedEvent(envelope, event, "enrollment.events", 0, 0)


async def _apply(client: Any, projection: Projection, items: Sequence[ReceivedEvent]) -> None:
    async def work(session: Session) -> None:
        for item in items:
            await projection.handlers.dispatch(item, session)

    await in_transaction(client, work)


async def test_training_projection_is_order_independent(stack_env: dict[str, str]) -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    plan = TrainingPlanCreated(
        plan_id="p1",
        institution_id="inst",
        name="线上班",
        training_mode="online",
        position="安全员",
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 3, 20),
        platform="https://zj.zhujianpeixun.com",
        schedule="完成 40 学时网络课程",
    )

    def trainee(applicant_id: str, *, complete: bool, apply: bool) -> list[tuple[DomainEvent, str]]:
        stream = f"applicant-{applicant_id}"
        events: list[tuple[DomainEvent, str]] = [
            (
                TrainingPlanned(
                    plan_id="p1",
                    applicant_id=applicant_id,
                    institution_id="inst",
                    enterprise_id="ent",
                    training_mode="online",
                    starts_on=plan.starts_on,
                    ends_on=plan.ends_on,
                ),
                stream,
            )
        ]
        if complete:
            events.append(
                (
                    TrainingCompleted(
                        plan_id="p1", applicant_id=applicant_id, institution_id="inst", enterprise_id="ent"
                    ),
                    stream,
                )
            )
        if apply:
            events.append(
                (
                    ExamApplied(
                        applicant_id=applicant_id,
                        enterprise_id="ent",
                        institution_id="inst",
                        id_number="x",
                        name="某",
                        position="安全员",
                    ),
                    stream,
                )
            )
        return events

    streams = {
        "plan-p1": [(plan, "plan-p1")],
        "a1": trainee("a1", complete=True, apply=True),
        "a2": trainee("a2", complete=True, apply=False),
        "a3": trainee("a3", complete=False, apply=False),
        # sent to the exam outside any plan: no training document
        "a4": [
            (
                ExamApplied(
                    applicant_id="a4",
                    enterprise_id="ent",
                    institution_id="inst",
                    id_number="y",
                    name="某",
                    position="安全员",
                ),
                "applicant-a4",
            )
        ],
    }
    # every event gets its time once, so that each delivery order carries identical envelopes
    received: dict[str, list[ReceivedEvent]] = {}
    tick = 0
    for key, items in streams.items():
        received[key] = []
        for event, subject in items:
            tick += 1
            received[key].append(_received(event, subject, start + timedelta(minutes=tick)))

    def interleave(order: Sequence[str], seed: int) -> list[ReceivedEvent]:
        """A delivery that keeps each stream's own order (one key, one partition) but mixes the streams."""
        rng = random.Random(seed)
        queues = {k: list(received[k]) for k in order}
        out: list[ReceivedEvent] = []
        while any(queues.values()):
            key = rng.choice([k for k in order if queues[k]])
            out.append(queues[key].pop(0))
        return out

    plan_first = [e for k in ("plan-p1", "a1", "a2", "a3", "a4") for e in received[k]]
    plan_last = [e for k in ("a1", "a2", "a3", "a4", "plan-p1") for e in received[k]]
    deliveries = [plan_first, plan_last, *(interleave(list(received), seed) for seed in range(4))]

    client = create_client(stack_env["MONGO_URL"])
    databases = [f"training-order-{uuid.uuid4().hex[:8]}" for _ in deliveries]
    try:
        results = []
        for name, delivery in zip(databases, deliveries, strict=True):
            projection = training_plans(name)
            for item in delivery[:3]:  # one transaction per event, as the live consumer does
                await _apply(client, projection, [item])
            await _apply(client, projection, delivery[3:])  # the rest at once, as a batch or a rebuild does
            results.append(await snapshot(client[name], [TRAINING_PLANS, APPLICANT_TRAINING]))
        for other in results[1:]:
            assert other == results[0]
        plans, trainees = results[0][TRAINING_PLANS], {d["_id"]: d for d in results[0][APPLICANT_TRAINING]}
        assert len(plans) == 1
        assert (plans[0]["trainee_count"], plans[0]["completed_count"], plans[0]["exam_applied_count"]) == (
            3,
            2,
            1,
        )
        assert plans[0]["name"] == "线上班" and plans[0]["platform"] == "https://zj.zhujianpeixun.com"
        assert set(trainees) == {"a1", "a2", "a3"}
        assert trainees["a1"]["platform"] == "https://zj.zhujianpeixun.com" and trainees["a1"]["exam_applied"]
        assert trainees["a2"]["completed"] and not trainees["a2"]["exam_applied"]
        assert trainees["a3"]["plan_name"] == "线上班" and not trainees["a3"]["completed"]
        assert (
            trainees["a3"]["starts_on"] == "2026-03-02"
            and trainees["a3"]["schedule"] == "完成 40 学时网络课程"
        )
    finally:
        for name in databases:
            await client.drop_database(name)
        await client.close()
