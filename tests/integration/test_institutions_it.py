"""Institution offers through the gateway: publish (the institution itself, an administrator for any), list by
city / position / mode, compare side by side, role and ownership checks, and a rebuild that comes out
identical."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from servicekit.launcher import ServiceProcesses
from servicekit.rebuild import rebuild_service

from .helpers import bearer, eventually, login

pytestmark = pytest.mark.integration

CITY = "衢州"  # a city without demo institutions


def offer(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "city": f"{CITY}市",
        "offers": [
            {
                "position": "施工员",
                "specialisation": "土建施工",
                "fee_online_fen": 120000,
                "fee_offline_fen": 180000,
            },
            {"position": "安全员", "fee_offline_fen": 150000},
        ],
        "features": "周末班，考点就近",
        "exam_locations": ["衢州市柯城区考点"],
        "payment_methods": ["online", "offline"],
    }
    body.update(overrides)
    return body


async def _account(api: httpx.AsyncClient, admin: str, role: str, **extra: str) -> dict[str, str]:
    username = f"{role[:4]}-{uuid.uuid4().hex[:8]}"
    created = await api.post(
        "/api/gateway/accounts",
        headers=bearer(admin),
        json={"username": username, "role": role, "display_name": username, **extra},
    )
    assert created.status_code == 201, created.text
    return bearer((await login(api, username, created.json()["generated_password"]))["access_token"])


async def test_institution_offers(
    platform: ServiceProcesses, admin_credentials: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    suffix = uuid.uuid4().hex[:6]
    first, second, third = f"inst-a-{suffix}", f"inst-b-{suffix}", f"inst-c-{suffix}"
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as api:
        admin_token = (await login(api, *admin_credentials))["access_token"]
        admin = bearer(admin_token)
        inst_a = await _account(api, admin_token, "institution", org_id=first, city=CITY)
        inst_b = await _account(api, admin_token, "institution", org_id=second, city=CITY)
        reviewer = await _account(api, admin_token, "reviewer", city=CITY)
        signup = await api.post(
            "/api/gateway/auth/signup/enterprise",
            json={"username": f"ent-{suffix}", "password": "Jianshe2026!", "display_name": "衢州建工"},
        )
        assert signup.status_code == 201, signup.text
        enterprise = bearer(signup.json()["access_token"])

        # nothing published yet
        none_yet = await api.get("/api/enrollment/institutions/me/offer", headers=inst_a)
        assert none_yet.status_code == 404 and none_yet.json()["code"] == "institution_not_found"

        # every problem at once, in Chinese, with the field named
        bad = await api.put(
            "/api/enrollment/institutions/me/offer",
            headers=inst_a,
            json=offer(
                "",
                city="上海",
                offers=[{"position": "施工员", "fee_online_fen": 10}, {"position": "安全员"}],
                payment_methods=[],
            ),
        )
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_offer", bad.text
        assert {(e["field"], e["code"]) for e in bad.json()["errors"]} == {
            ("name", "required"),
            ("city", "invalid_city"),
            ("offers[0].specialisation", "specialisation_required"),
            ("offers[1]", "no_training_mode"),
            ("payment_methods", "payment_method_required"),
        }
        not_int = await api.put(
            "/api/enrollment/institutions/me/offer",
            headers=inst_a,
            json=offer("甲", offers=[{"position": "安全员", "fee_offline_fen": "100"}]),
        )
        assert not_int.status_code == 422 and not_int.json()["code"] == "invalid_request"
        demo_by_institution = await api.put(
            "/api/enrollment/institutions/me/offer", headers=inst_a, json={**offer("甲"), "demo": True}
        )
        assert demo_by_institution.status_code == 422

        # the institution publishes its own offer; the same offer again records nothing
        name_a, name_b, name_c = (
            f"衢州甲培训学校{suffix}",
            f"衢州乙培训学校{suffix}",
            f"衢州丙培训学校{suffix}",
        )
        published = await api.put("/api/enrollment/institutions/me/offer", headers=inst_a, json=offer(name_a))
        assert published.status_code == 200, published.text
        assert published.json()["changed"] is True and published.json()["institution_id"] == first
        assert published.json()["offer"]["city"] == CITY
        assert published.json()["offer"]["modes"] == ["online", "offline"]
        again = await api.put("/api/enrollment/institutions/me/offer", headers=inst_a, json=offer(name_a))
        assert again.status_code == 200 and again.json()["changed"] is False
        mine = await api.get("/api/enrollment/institutions/me/offer", headers=inst_a)
        assert mine.status_code == 200 and mine.json()["name"] == name_a

        b_offer = offer(
            name_b,
            offers=[
                {"position": "施工员", "specialisation": "土建施工", "fee_offline_fen": 160000},
                {"position": "资料员", "fee_online_fen": 80000},
            ],
            features="线下小班",
            exam_locations=["衢州市衢江区考点", "衢州市柯城区考点"],
            payment_methods=["offline"],
        )
        assert (
            await api.put("/api/enrollment/institutions/me/offer", headers=inst_b, json=b_offer)
        ).status_code == 200
        # an administrator publishes for any institution (here, one without an account), as demo data
        by_admin = await api.put(
            f"/api/enrollment/institutions/{third}/offer",
            headers=admin,
            json={
                **offer(
                    name_c, offers=[{"position": "质量员", "specialisation": "市政工程", "fee_online_fen": 1}]
                ),
                "demo": True,
            },
        )
        assert by_admin.status_code == 200 and by_admin.json()["offer"]["demo"] is True, by_admin.text

        # roles: an enterprise cannot publish; an institution cannot publish another's offer
        for path in ("/api/enrollment/institutions/me/offer", f"/api/enrollment/institutions/{first}/offer"):
            refused = await api.put(path, headers=enterprise, json=offer("企业冒充"))
            assert refused.status_code == 403 and refused.json()["code"] == "role_forbidden", refused.text
        hijack = await api.put(
            f"/api/enrollment/institutions/{second}/offer", headers=inst_a, json=offer("冒名顶替")
        )
        assert hijack.status_code == 403 and hijack.json()["code"] == "role_forbidden"
        assert (await api.get("/api/enrollment/institutions", params={"city": CITY})).status_code == 401
        mine_by_enterprise = await api.get("/api/enrollment/institutions/me/offer", headers=enterprise)
        assert mine_by_enterprise.status_code == 403

        # list by city (sorted by name: 丙 U+4E19 < 乙 U+4E59 < 甲 U+7532)
        ours = {first, second, third}

        async def listed(**params: str) -> list[dict[str, Any]]:
            r = await api.get("/api/enrollment/institutions", headers=enterprise, params=params)
            assert r.status_code == 200, r.text
            return [i for i in r.json()["items"] if i["institution_id"] in ours]

        async def all_three() -> list[dict[str, Any]] | None:
            items = await listed(city=CITY)
            return items if len(items) == 3 else None

        items = await eventually(all_three, what="the three offers in the read model")
        assert [i["institution_id"] for i in items] == [third, second, first]
        civil = await listed(city=f"{CITY}市", position="施工员", specialisation="土建施工")
        assert [(i["institution_id"], i["fees"]) for i in civil] == [
            (second, {"online": None, "offline": 160000}),
            (first, {"online": 120000, "offline": 180000}),
        ]
        online = await listed(city=CITY, position="施工员", specialisation="土建施工", mode="online")
        assert [i["institution_id"] for i in online] == [first]
        assert [i["institution_id"] for i in await listed(position="资料员", mode="online")] == [second]
        assert await listed(city="宁波", position="施工员") == []
        bad_query = await api.get(
            "/api/enrollment/institutions", headers=enterprise, params={"position": "电工", "mode": "mail"}
        )
        assert bad_query.status_code == 422 and bad_query.json()["code"] == "invalid_query"
        assert {e["field"] for e in bad_query.json()["errors"]} == {"position", "mode"}

        # one institution
        one = await api.get(f"/api/enrollment/institutions/{second}", headers=enterprise)
        assert one.status_code == 200 and one.json()["payment_methods"] == ["offline"]
        assert one.json()["fee_ranges"] == {
            "online": {"min_fen": 80000, "max_fen": 80000},
            "offline": {"min_fen": 160000, "max_fen": 160000},
        }
        missing = await api.get(f"/api/enrollment/institutions/nobody-{suffix}", headers=enterprise)
        assert missing.status_code == 404 and missing.json()["code"] == "institution_not_found"

        # compare side by side
        for who in (enterprise, reviewer, inst_b, admin):
            compared = await api.get(
                "/api/enrollment/institutions/compare", headers=who, params={"ids": f"{first},{second}"}
            )
            assert compared.status_code == 200, compared.text
        table = compared.json()
        assert [i["institution_id"] for i in table["institutions"]] == [first, second]
        assert table["institutions"][1]["exam_locations"] == ["衢州市衢江区考点", "衢州市柯城区考点"]
        assert table["institutions"][0]["features"] == "周末班，考点就近"
        assert table["institutions"][1]["modes"] == ["online", "offline"]
        rows = {r["label"]: r["fees"] for r in table["positions"]}
        assert list(rows) == ["施工员（土建施工）", "安全员", "资料员"]
        assert rows["安全员"] == [
            {"institution_id": first, "online": None, "offline": 150000},
            {"institution_id": second, "online": None, "offline": None},
        ]
        assert rows["资料员"][1] == {"institution_id": second, "online": 80000, "offline": None}
        unknown = await api.get(
            "/api/enrollment/institutions/compare",
            headers=enterprise,
            params={"ids": f"{first},ghost-{suffix},{second}"},
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "institution_not_found"
        assert unknown.json()["errors"] == {"institution_ids": [f"ghost-{suffix}"]}
        assert f"ghost-{suffix}" in unknown.json()["detail"]
        for ids in (first, ",".join([first, second, third, "d", "e", "f"])):
            count = await api.get(
                "/api/enrollment/institutions/compare", headers=enterprise, params={"ids": ids}
            )
            assert count.status_code == 422 and count.json()["code"] == "invalid_compare_count"

        # a new offer replaces the previous one
        cheaper = offer(
            name_a, offers=[{"position": "安全员", "fee_online_fen": 99000, "fee_offline_fen": 140000}]
        )
        assert (await api.put("/api/enrollment/institutions/me/offer", headers=inst_a, json=cheaper)).json()[
            "changed"
        ] is True

        async def replaced() -> bool:
            r = await api.get(f"/api/enrollment/institutions/{first}", headers=enterprise)
            return r.status_code == 200 and r.json()["positions"] == ["安全员"]

        await eventually(replaced, what="the new offer to replace the old one")
        assert await listed(city=CITY, position="施工员", specialisation="土建施工", mode="online") == []

    # the read model, rebuilt from the log, comes out identical
    for key, value in platform.env.items():
        monkeypatch.setenv(key, value)
    result = await rebuild_service("enrollment", check=True)
    assert result.identical, result.differences
    report = next(r for r in result.reports if r.projection == "institutions")
    assert report.events_applied >= 4
