"""A holder known only from an imported old-style certificate gets an account: the gateway learns the person
from certification's `LegacyCertificateImported`, the importing institution (or the administrator) issues the
one-time code — nobody else —, the holder activates, logs in with the ID number and reaches 证书管理, the
hours and the renewal of that certificate."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

from .helpers import bearer, eventually, login, make_id_number, new_account

pytestmark = pytest.mark.integration

CERT = "/api/certification"
PASSWORD = "Chizheng2026!"


def today() -> date:
    return datetime.now(timezone(timedelta(hours=8))).date()


def never_seen_id_number() -> str:
    birth = date(1960, 1, 1) + timedelta(days=random.randrange(0, 12000))
    return make_id_number(birth, male=False)  # the certificates say 女


def code_url(id_number: str) -> str:
    return f"/api/gateway/persons/{id_number}/activation-code"


async def activate(api: httpx.AsyncClient, id_number: str, code: str) -> httpx.Response:
    return await api.post(
        "/api/gateway/auth/activate", json={"id_number": id_number, "code": code, "password": PASSWORD}
    )


async def import_legacy(api: httpx.AsyncClient, token: str, id_number: str, name: str) -> str:
    """An old-style certificate issued five years ago; its certificate id."""
    r = await api.post(
        f"{CERT}/legacy",
        headers=bearer(token),
        json={
            "certificate_number": f"ZJ-LH-{uuid.uuid4().hex[:8].upper()}",
            "holder_name": name,
            "gender": "女",
            "id_number": id_number,
            "position": "安全员",
            "issued_on": (today() - timedelta(days=5 * 365)).isoformat(),
            "issuer": "浙江省住房和城乡建设厅",
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["certificate_id"])


async def issued_code(api: httpx.AsyncClient, token: str, id_number: str) -> str:
    """The code, once the gateway knows the person (404 person_not_found until then)."""

    async def probe() -> str | None:
        r = await api.post(code_url(id_number), headers=bearer(token))
        if r.status_code == 404:
            assert r.json()["code"] == "person_not_found", r.text
            return None
        assert r.status_code == 200, r.text
        return str(r.json()["code"])

    return await eventually(probe, what="the gateway to learn the legacy holder")


async def legacy_holder(api: httpx.AsyncClient, admin: str, institution: str, name: str) -> dict[str, Any]:
    """A person the platform has never seen, whose old certificate the institution imports; activated."""
    id_number = never_seen_id_number()
    certificate_id = await import_legacy(api, institution, id_number, name)
    code = await issued_code(api, institution, id_number)
    activated = await activate(api, id_number, code)
    assert activated.status_code == 200, activated.text
    token = (await login(api, id_number, PASSWORD))["access_token"]
    return {"id_number": id_number, "certificate_id": certificate_id, "token": token}


async def test_a_legacy_holder_activates_and_sees_their_certificate(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution_id = f"inst-lh-{uuid.uuid4().hex[:6]}"
        institution = await new_account(api, admin, "institution", org_id=institution_id, city="杭州")
        other = await new_account(api, admin, "institution", org_id=f"inst-lo-{uuid.uuid4().hex[:6]}")
        signup = await api.post(
            "/api/gateway/auth/signup/enterprise",
            json={
                "username": f"ent-{uuid.uuid4().hex[:8]}",
                "password": "Jianshe2026!",
                "display_name": "某企业",
            },
        )
        assert signup.status_code == 201, signup.text
        enterprise = signup.json()["access_token"]

        id_number = never_seen_id_number()
        unknown = await api.post(code_url(id_number), headers=bearer(institution))
        assert unknown.status_code == 404 and unknown.json()["code"] == "person_not_found"
        # An ID number nobody knows and one without a code are answered alike before any code exists.
        nobody = await activate(api, never_seen_id_number(), "12345678")
        assert nobody.status_code == 401 and nobody.json()["code"] == "invalid_activation_code"

        certificate_id = await import_legacy(api, institution, id_number, "赵敏")
        first = await issued_code(api, institution, id_number)  # the importing institution
        assert len(first) == 8

        # Another institution, an enterprise: refused, saying who may.
        for stranger in (other, enterprise):
            refused = await api.post(code_url(id_number), headers=bearer(stranger))
            assert refused.status_code == 403, refused.text
            assert refused.json()["code"] == "not_owner"
            assert "录入该持证人旧版岗位证书的培训机构" in refused.json()["detail"]

        # The administrator may too; a new code replaces the earlier one.
        by_admin = await api.post(code_url(id_number), headers=bearer(admin))
        assert by_admin.status_code == 200, by_admin.text
        assert by_admin.json()["name"] == "赵敏" and by_admin.json()["sent_to"] is None  # no mobile known
        code = str(by_admin.json()["code"])
        stale = await activate(api, id_number, first)
        if first == code:  # the same 8 digits drawn twice (1 in 10^8): that was the activation
            assert stale.status_code == 200, stale.text
        else:
            assert stale.status_code == 401 and stale.json()["code"] == "invalid_activation_code"
            activated = await activate(api, id_number, code)
            assert activated.status_code == 200, activated.text

        # The holder logs in with the ID number; the account's organisation is the ID number.
        token = (await login(api, id_number.lower(), PASSWORD))["access_token"]
        me = await api.get("/api/gateway/auth/me", headers=bearer(token))
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "person" and me.json()["org_id"] == id_number

        # Activated: no more codes; a guess is answered exactly as for an ID number nobody knows.
        again = await api.post(code_url(id_number), headers=bearer(institution))
        assert again.status_code == 409 and again.json()["code"] == "person_already_active"
        guess = await activate(api, id_number, "12345678")
        stranger_guess = await activate(api, never_seen_id_number(), "12345678")
        assert guess.status_code == stranger_guess.status_code == 401
        assert {**guess.json(), "correlation_id": ""} == {**stranger_guess.json(), "correlation_id": ""}

        # 证书管理: the old certificate, and its hours (renewal not yet possible: no hours).
        async def listed() -> dict[str, Any] | None:
            r = await api.get(f"{CERT}/certificates", headers=bearer(token))
            assert r.status_code == 200, r.text
            found = [c for c in r.json()["items"] if c["certificate_id"] == certificate_id]
            return found[0] if found else None

        mine = await eventually(listed, what="the holder's certificate list")
        assert mine["legacy"] is True and mine["id_number"] == id_number
        hours = await api.get(f"{CERT}/certificates/{certificate_id}/hours", headers=bearer(token))
        assert hours.status_code == 200, hours.text
        assert hours.json()["records"] == [] and hours.json()["renewal"]["eligible"] is False


async def test_a_legacy_holder_renews_with_hours_the_importer_recorded(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        institution = await new_account(
            api, admin, "institution", org_id=f"inst-lr-{uuid.uuid4().hex[:6]}", city="杭州"
        )
        holder = await legacy_holder(api, admin, institution, "周芷若")
        certificate_id = holder["certificate_id"]
        # 3 × 8 professional + 8 general within the last 12 months: enough to renew.
        for i, kind in enumerate(("professional", "professional", "professional", "general")):
            recorded = await api.post(
                f"{CERT}/certificates/{certificate_id}/hours",
                headers=bearer(institution),
                json={
                    "studied_on": (today() - timedelta(days=30 - i)).isoformat(),
                    "hours": 8,
                    "kind": kind,
                    "course": f"继续教育课程{i}",
                },
            )
            assert recorded.status_code == 201, recorded.text
        hours = await api.get(f"{CERT}/certificates/{certificate_id}/hours", headers=bearer(holder["token"]))
        assert hours.status_code == 200, hours.text
        assert hours.json()["renewal"]["eligible"] is True, hours.text

        renewed = await api.post(
            f"{CERT}/certificates/{certificate_id}/renew", headers=bearer(holder["token"])
        )
        assert renewed.status_code in (200, 201), renewed.text
