"""Every endpoint of every service, as the second tenant: nothing of tenant A reaches anyone else.

Tenant A goes the whole real path (an approved Hangzhou enterprise, its Hangzhou institution, two of its staff
enrolled, paid, trained and applied for the exam; one of them checked in, passed and holds a certificate).
Then every operation of the gateway's merged OpenAPI is called with A's identifiers in its path, as:

- `anonymous`: every operation that is not public answers 401;
- `other_enterprise` (another approved enterprise, Ningbo), `other_institution` (Ningbo),
  `other_city_reviewer` (Ningbo) and `colleague` (A's other trainee, with an account of their own):
  an operation on one of A's resources (an id of A in the path) answers 401, 403 or 404 when read, and never
  succeeds when written; a list or a public page may answer, but
- no answer to anyone but A (status, body, headers) carries A's private markers: the holder's ID number, the
  ids of A's applicants, candidates, orders, training plan and certificate.

No operation answers a server error to any of them. Operations added later are covered without editing this
file; path parameters it does not know get an unknown id (then 404 is the only right answer for reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses

from .exam_support import (
    activate_person,
    ensure_demo_banks,
    exam_cohort,
    new_session,
    schedule,
    take_exam,
)
from .helpers import approved_enterprise, bearer, eventually, login, new_account, publish_offer

pytestmark = pytest.mark.integration

# An event stream (the back-office feed's Server-Sent Events) never ends by itself: what it sends in this long
# is read and checked like any other answer, then the stream is closed.
STREAM_READ_SECONDS = 1.0


async def call(
    api: httpx.AsyncClient, method: str, path: str, *, headers: dict[str, str], json: Any
) -> tuple[int, str, httpx.Headers]:
    """One operation's status, body and headers (an event stream: what it sent in STREAM_READ_SECONDS)."""
    async with api.stream(method, path, headers=headers, json=json) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            chunks: list[bytes] = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STREAM_READ_SECONDS):
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
            body = b"".join(chunks)
        else:
            body = await response.aread()
        return response.status_code, body.decode("utf-8", "replace"), response.headers


OTHERS = ("other_enterprise", "other_institution", "other_city_reviewer", "colleague")
METHODS = ("get", "post", "put", "patch", "delete")
# Reads of someone else's resource: refused or not found (never "it exists but …" with its data).
READ_REFUSALS = {401, 403, 404}
# Writes on someone else's resource may also be refused for the body (422) or the state (409) before the
# owner is checked — still no success and no data of A (checked below).
WRITE_REFUSALS = {400, 401, 403, 404, 405, 409, 413, 415, 422, 429}
# Operations anyone may call (a public page, signing up, logging in): they answer, never with A's data.
PUBLIC = re.compile(
    r"^/(healthz|readyz|metrics)$"  # the gateway's own probes and metrics
    r"|^/api/(gateway/auth/(login|refresh|signup/enterprise|activate|logout)"
    r"|registration/cities|certification/verify.*|enrollment/institutions(/compare|/\{institution_id\})?"
    r"|enrollment/templates/.*|payment/online/callback/.*|payment/sandbox/.*)$"
)
# Writes sent with a valid body, so only the owner check can refuse them (401, 403 or 404, nothing else).
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/certification/certificates/{certificate_id}/hours"): {
        "studied_on": date.today().isoformat(),
        "hours": 0.5,
        "kind": "general",
        "course": "安全生产继续教育",
    },
    ("put", "/api/exam/candidates/{candidate_id}/answers"): {"answers": {}},
    ("post", "/api/enrollment/applicants/{applicant_id}/qualify"): {},
    ("post", "/api/gateway/persons/{id_number}/activation-code"): {},
    ("post", "/api/payment/orders/{order_id}/cancel"): {},
    ("post", "/api/certification/certificates/{certificate_id}/revoke"): {"reason": "租户隔离测试"},
}
# Not swept: they end the caller's own session (the sweep goes on with the same tokens).
OWN_SESSION = re.compile(r"^/api/gateway/auth/(logout|password)$")


async def _tenant_a(api: httpx.AsyncClient, platform: ServiceProcesses, admin: str) -> dict[str, Any]:
    cohort = await exam_cohort(
        api, admin, [("周一鸣", "男", date(1988, 2, 3)), ("吴二丽", "女", date(1993, 7, 21))]
    )
    holder, colleague = cohort.members
    await ensure_demo_banks(api, admin)
    session_id = await new_session(api, cohort.institution_token)
    seated = await schedule(api, cohort.institution_token, session_id, [holder.candidate_id])
    assert seated.status_code == 200, seated.text
    holder_token = await activate_person(api, cohort.institution_token, holder.id_number, "Zhou-Kaoshi-2026!")
    colleague_token = await activate_person(
        api, cohort.institution_token, colleague.id_number, "Wu-Kaoshi-2026!"
    )
    result = await take_exam(
        api,
        platform,
        institution_token=cohort.institution_token,
        person_token=holder_token,
        candidate_id=holder.candidate_id,
    )
    assert result["passed"] is True, result

    async def certificate() -> dict[str, Any] | None:
        r = await api.get("/api/certification/certificates", headers=bearer(holder_token))
        items = r.json().get("items", []) if r.status_code == 200 else []
        return items[0] if items else None

    cert = await eventually(certificate, what="the holder's certificate")
    orders = await api.get("/api/payment/orders", headers=bearer(cohort.enterprise_token))
    assert orders.status_code == 200, orders.text
    order_id = next(
        o["order_id"] for o in orders.json()["items"] if o["institution_id"] == cohort.institution_id
    )
    applicant = await api.get(
        f"/api/enrollment/applicants/{holder.applicant_id}", headers=bearer(cohort.enterprise_token)
    )
    assert applicant.status_code == 200, applicant.text
    return {
        "params": {
            "enterprise_id": cohort.enterprise_id,
            "applicant_id": holder.applicant_id,
            "batch_id": applicant.json()["batch_id"],
            "candidate_id": holder.candidate_id,
            "certificate_id": cert["certificate_id"],
            "certificate_number": cert["certificate_number"],
            "order_id": order_id,
            "plan_id": cohort.plan_id,
            "session_id": session_id,
            "id_number": holder.id_number,
            "institution_id": cohort.institution_id,
            "side": "front",
        },
        # what only A (and the administrator) may ever see
        "private": {
            "holder's ID number": holder.id_number,
            "colleague's ID number": colleague.id_number,
            "applicant id": holder.applicant_id,
            "colleague's applicant id": colleague.applicant_id,
            "candidate id": holder.candidate_id,
            "certificate id": cert["certificate_id"],
            "order id": order_id,
            "training plan id": cohort.plan_id,
        },
        "colleague_token": colleague_token,
        "holder_token": holder_token,
        "colleague_private": {colleague.id_number, colleague.applicant_id},
    }


async def test_second_tenant_reaches_nothing_of_the_first(
    platform: ServiceProcesses, admin_credentials: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=60) as api:
        admin = (await login(api, *admin_credentials))["access_token"]
        a = await _tenant_a(api, platform, admin)
        other_institution = await new_account(
            api, admin, "institution", org_id=f"inst-b-{uuid.uuid4().hex[:6]}", city="宁波"
        )
        await publish_offer(api, other_institution, name="宁波另一家培训学校")
        tokens: dict[str, str | None] = {
            "anonymous": None,
            "other_enterprise": (await approved_enterprise(api, admin, city="宁波"))["access_token"],
            "other_institution": other_institution,
            "other_city_reviewer": await new_account(api, admin, "reviewer", city="宁波"),
            "colleague": a["colleague_token"],
        }
        spec = (await api.get("/openapi.json")).json()
        params: dict[str, str] = a["params"]
        failures: list[str] = []
        calls = 0
        for template, operations in sorted(spec["paths"].items()):
            if OWN_SESSION.match(template):
                continue
            names = re.findall(r"\{([a-z_]+)\}", template)
            path = template
            for name in names:
                path = path.replace("{" + name + "}", params.get(name, f"unknown-{uuid.uuid4().hex[:8]}"))
            own_resource = any(name in params and name not in ("institution_id", "side") for name in names)
            public = bool(PUBLIC.match(template))
            for method in METHODS:
                if method not in operations:
                    continue
                valid_body = VALID_BODIES.get((method, template))
                for actor, token in tokens.items():
                    calls += 1
                    status, text, headers = await call(
                        api,
                        method.upper(),
                        path,
                        headers=bearer(token) if token else {},
                        json=None if method == "get" else (valid_body if valid_body is not None else {}),
                    )
                    cell = f"{method.upper()} {template} × {actor}: {status} {text[:160]}"
                    if status >= 500:
                        failures.append(f"server error — {cell}")
                        continue
                    if actor == "anonymous" and not public and status != 401:
                        failures.append(f"anonymous not refused with 401 — {cell}")
                    if actor != "anonymous" and own_resource and not public:
                        allowed = READ_REFUSALS if method == "get" or valid_body else WRITE_REFUSALS
                        if status not in allowed:
                            failures.append(f"A's resource not refused — {cell}")
                    seen = text + " ".join(f"{k}: {v}" for k, v in headers.items())
                    for what, marker in a["private"].items():
                        if actor == "colleague" and marker in a["colleague_private"]:
                            continue  # the colleague's own data
                        if marker in seen and marker not in path:
                            failures.append(f"{what} leaked — {cell}")
        hours = await api.get(
            f"/api/certification/certificates/{params['certificate_id']}/hours",
            headers=bearer(a["holder_token"]),
        )
        assert hours.status_code == 200, hours.text
        assert "租户隔离" not in hours.text and "安全生产继续教育" not in hours.text, hours.text
        missing = {t for _, t in VALID_BODIES} - set(spec["paths"])
        assert not missing, f"operations renamed? {missing}"
        assert calls > 300, f"only {calls} calls: the merged OpenAPI lost operations?"
        assert not failures, f"{len(failures)} of {calls} cells failed:\n" + "\n".join(failures)
