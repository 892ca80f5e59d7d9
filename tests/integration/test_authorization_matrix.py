"""Every registration and account endpoint × every role (and an enterprise touching another enterprise's
data): only the allowed cells get through. A cell is the exact status (and problem code) expected."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

from .helpers import (
    bearer,
    eventually,
    login,
    make_id_number,
    new_account,
    publish_offer,
    register_enterprise,
    registration_files,
    registration_form,
)

pytestmark = pytest.mark.integration

ACTORS = (
    "anonymous",
    "enterprise",
    "other_enterprise",
    "reviewer",
    "other_city_reviewer",
    "institution",
    "person",
    "admin",
)
CHECKS_OK = [
    {"check": c, "passed": True}
    for c in ("local_enterprise", "construction_enterprise", "documents_compliant")
]
CHECKS_FAILING = [*CHECKS_OK[:2], {"check": "documents_compliant", "passed": False}]

Expect = tuple[int, str | None]


@dataclass
class Case:
    name: str
    method: str
    path: str
    expect: Mapping[str, Expect]
    json: Callable[[], Any] | None = None
    form: Callable[[], dict[str, Any]] | None = None
    files: Callable[[], dict[str, Any]] | None = None
    default: Expect = (403, "role_forbidden")
    checks: list[Callable[[str, httpx.Response], str | None]] = field(default_factory=list)

    def expected(self, actor: str) -> Expect:
        if actor in self.expect:
            return self.expect[actor]
        return (401, "not_authenticated") if actor == "anonymous" else self.default


async def _enterprise(api: httpx.AsyncClient) -> dict[str, Any]:
    signup = await api.post(
        "/api/gateway/auth/signup/enterprise",
        json={
            "username": f"ent-{uuid.uuid4().hex[:8]}",
            "password": "Jianshe2026!",
            "display_name": "矩阵测试企业",
        },
    )
    assert signup.status_code == 201, signup.text
    registered = await register_enterprise(api, signup.json()["access_token"])
    assert registered.status_code == 201, registered.text
    return dict(signup.json())


async def test_authorization_matrix(platform: ServiceProcesses, admin_credentials: tuple[str, str]) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-mx-{uuid.uuid4().hex[:6]}"
        tokens: dict[str, str | None] = {
            "anonymous": None,
            "admin": admin,
            "reviewer": await new_account(api, admin, "reviewer", city="杭州"),
            "other_city_reviewer": await new_account(api, admin, "reviewer", city="宁波"),
            "institution": await new_account(api, admin, "institution", org_id=institution_id, city="杭州"),
        }
        await publish_offer(api, str(tokens["institution"]))
        enterprise, other = await _enterprise(api), await _enterprise(api)
        tokens["enterprise"], tokens["other_enterprise"] = enterprise["access_token"], other["access_token"]
        target = enterprise["org_id"]

        # a person: enrolled by an approved enterprise, activated with a one-time code from the institution
        enrolling = await _enterprise(api)
        approved = await api.post(
            f"/api/registration/enterprises/{enrolling['org_id']}/approve",
            headers=bearer(str(tokens["reviewer"])),
            json={"checks": CHECKS_OK},
        )
        assert approved.status_code == 204, approved.text
        id_number = make_id_number(date(1991, 3, 9), male=False)
        not_yet_active = make_id_number(date(1992, 4, 10), male=True)
        batch = {
            "institution_id": institution_id,
            "position": "资料员",
            "training_mode": "offline",
            "applicants": [
                {
                    "name": "赵六",
                    "gender": "女",
                    "id_number": id_number,
                    "mobile": "13900002222",
                    "education": "大专",
                    "employer": "杭州建工集团有限公司",
                },
                {
                    "name": "钱七",
                    "gender": "男",
                    "id_number": not_yet_active,
                    "mobile": "13900003333",
                    "education": "本科",
                    "employer": "杭州建工集团有限公司",
                },
            ],
        }

        async def imported() -> bool:
            r = await api.post(
                "/api/enrollment/batches", headers=bearer(enrolling["access_token"]), json=batch
            )
            return r.status_code == 201

        await eventually(imported, what="enrollment to accept the approved enterprise")

        async def issue_code() -> str | None:
            r = await api.post(
                f"/api/gateway/persons/{id_number}/activation-code",
                headers=bearer(str(tokens["institution"])),
            )
            return str(r.json()["code"]) if r.status_code == 200 else None

        activation_code = await eventually(issue_code, what="the gateway to know the person")
        activated = await api.post(
            "/api/gateway/auth/activate",
            json={"id_number": id_number, "code": activation_code, "password": "Xuyuan2026!"},
        )
        assert activated.status_code == 200, activated.text
        tokens["person"] = activated.json()["access_token"]

        def not_listed(actor: str, response: httpx.Response) -> str | None:
            if (
                response.status_code == 200
                and actor == "other_city_reviewer"
                and any(i["enterprise_id"] == target for i in response.json()["items"])
            ):
                return "another city's reviewer sees the registration in the queue"
            return None

        everyone_ok: dict[str, Expect] = {a: (200, None) for a in ACTORS}
        cases = [
            Case("cities (public)", "GET", "/api/registration/cities", everyone_ok),
            Case(
                "register",
                "POST",
                "/api/registration/enterprises",
                {"enterprise": (409, "already_registered"), "other_enterprise": (409, "already_registered")},
                form=registration_form,
                files=registration_files,
            ),
            Case(
                "my registration",
                "GET",
                "/api/registration/enterprises/me",
                {"enterprise": (200, None), "other_enterprise": (200, None)},
            ),
            Case(
                "resubmit",
                "POST",
                "/api/registration/enterprises/me/resubmit",
                {"enterprise": (409, "not_resubmittable"), "other_enterprise": (409, "not_resubmittable")},
                form=lambda: {"address": "杭州市上城区 9 号"},
            ),
            Case(
                "registration detail",
                "GET",
                f"/api/registration/enterprises/{target}",
                {
                    "enterprise": (200, None),
                    "other_enterprise": (404, "enterprise_not_found"),
                    "reviewer": (200, None),
                    "other_city_reviewer": (404, "enterprise_not_found"),
                    "admin": (200, None),
                },
            ),
            Case(
                "registration documents",
                "GET",
                f"/api/registration/enterprises/{target}/documents",
                {
                    "enterprise": (200, None),
                    "other_enterprise": (404, "enterprise_not_found"),
                    "reviewer": (200, None),
                    "other_city_reviewer": (404, "enterprise_not_found"),
                    "admin": (200, None),
                },
            ),
            Case(
                "review queue",
                "GET",
                "/api/registration/enterprises",
                {"reviewer": (200, None), "other_city_reviewer": (200, None), "admin": (200, None)},
                checks=[not_listed],
            ),
            Case(
                "approve (checks failing)",
                "POST",
                f"/api/registration/enterprises/{target}/approve",
                {
                    "reviewer": (422, "checks_not_passed"),
                    "admin": (422, "checks_not_passed"),
                    "other_city_reviewer": (404, "enterprise_not_found"),
                },
                json=lambda: {"checks": CHECKS_FAILING},
            ),
            Case(
                "reject (no reason)",
                "POST",
                f"/api/registration/enterprises/{target}/reject",
                {
                    "reviewer": (422, "reason_required"),
                    "admin": (422, "reason_required"),
                    "other_city_reviewer": (404, "enterprise_not_found"),
                },
                json=lambda: {"checks": CHECKS_FAILING},
            ),
            Case(
                "create account",
                "POST",
                "/api/gateway/accounts",
                {"admin": (201, None)},
                json=lambda: {
                    "username": f"mx-{uuid.uuid4().hex[:8]}",
                    "role": "reviewer",
                    "city": "温州",
                    "display_name": "温州",
                },
            ),
            Case("list accounts", "GET", "/api/gateway/accounts", {"admin": (200, None)}),
            # the administrator's console: every service's dead letters, the dashboard's counts
            *(
                Case(
                    f"{service} dead letters",
                    "GET",
                    f"/api/{service}/admin/dead-letters",
                    {"admin": (200, None)},
                )
                for service in ("gateway", "registration", "enrollment", "payment", "exam", "certification")
            ),
            Case(
                "replay an unknown dead letter",
                "POST",
                "/api/exam/admin/dead-letters/k.bm8tc3VjaA/replay",
                {"admin": (404, "dead_letter_not_found")},
            ),
            *(
                Case(f"{service} admin stats", "GET", f"/api/{service}/admin/stats", {"admin": (200, None)})
                for service in ("registration", "enrollment", "exam", "certification")
            ),
            Case(
                "who am I",
                "GET",
                "/api/gateway/auth/me",
                {a: (200, None) for a in ACTORS if a != "anonymous"},
            ),
            Case(
                "change password (wrong old)",
                "POST",
                "/api/gateway/auth/password",
                {a: (403, "wrong_password") for a in ACTORS if a != "anonymous"},
                json=lambda: {"old_password": "not-my-password-1", "new_password": "Another-Pass-2026"},
            ),
            Case(
                "activation code",
                "POST",
                f"/api/gateway/persons/{not_yet_active}/activation-code",
                {
                    "institution": (200, None),
                    "admin": (200, None),
                    "enterprise": (403, "not_owner"),
                    "other_enterprise": (403, "not_owner"),
                },
            ),
        ]

        failures: list[str] = []
        for case in cases:
            for actor in ACTORS:
                token = tokens[actor]
                response = await api.request(
                    case.method,
                    case.path,
                    headers=bearer(token) if token else {},
                    json=case.json() if case.json else None,
                    data=case.form() if case.form else None,
                    files=case.files() if case.files else None,
                )
                status, code = case.expected(actor)
                got_code = (
                    response.json().get("code")
                    if response.headers.get("content-type", "").startswith("application/problem+json")
                    else None
                )
                if response.status_code != status or (code is not None and got_code != code):
                    failures.append(
                        f"{case.name} × {actor}: expected {status} {code or ''}, "
                        f"got {response.status_code} {got_code or ''} {response.text[:120]}"
                    )
                for check in case.checks:
                    if problem := check(actor, response):
                        failures.append(f"{case.name} × {actor}: {problem}")
        assert not failures, "\n" + "\n".join(failures)
