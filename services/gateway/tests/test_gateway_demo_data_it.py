"""`scripts/demo_data.py` against a test database: idempotent, marked as demo data, working passwords."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from gateway.demo import DEMO_INSTITUTIONS, DEMO_MARK, DEMO_REVIEWERS
from gateway.main import build_app
from gateway.settings import GatewaySettings
from gateway.testing import bearer, down_upstreams, login
from servicekit.mongo import create_client
from servicekit.testing import running_app

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "demo_data.py"
USERNAMES = (
    {"demo-admin", "demo-enterprise"}
    | {r.username for r in DEMO_REVIEWERS}
    | {i.username for i in DEMO_INSTITUTIONS}
)


async def run_script(settings: GatewaySettings) -> str:
    env = {**os.environ, "MONGO_URL": settings.mongo_url, "SERVICE_NAME": settings.service_name}
    env.pop("MONGO_DATABASE", None)
    env.pop("GATEWAY_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=SCRIPT.parents[1],
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


def passwords(output: str) -> dict[str, str]:
    """Username → password, from the table printed at the end."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 6 and line.startswith("  ") and cells[0] in USERNAMES:
            found[cells[0]] = cells[1]
    return found


async def test_demo_data_twice(gateway_settings: Callable[..., GatewaySettings]) -> None:
    settings = gateway_settings(**down_upstreams())
    first = await run_script(settings)
    created = passwords(first)
    assert set(created) == USERNAMES and len(USERNAMES) == 22
    assert len(set(created.values())) == 22  # a fresh random password each, never a shared one
    assert all(len(p) == 16 for p in created.values())
    assert "新建 22 个账号，跳过 0 个" in first
    assert "http://127.0.0.1:8000/api/gateway/auth/login" in first and "curl -s" in first
    assert f'"password": "{created["demo-admin"]}"' in first  # the curl example works as printed
    assert "activation-code" in first and "学员" in first

    second = await run_script(settings)
    assert passwords(second) == {} and "新建 0 个账号，跳过 22 个" in second
    assert second.count("已存在，跳过") == 22 and "注意" not in second

    mongo = create_client(settings.mongo_url)
    try:
        accounts = {doc["username"]: doc async for doc in mongo[settings.database_name]["accounts"].find({})}
    finally:
        await mongo.close()
    assert set(accounts) == USERNAMES
    assert all(doc["display_name"].endswith(DEMO_MARK) for doc in accounts.values())
    assert (
        accounts["reviewer-wenzhou"]["city"] == "温州" and accounts["reviewer-lishui"]["role"] == "reviewer"
    )
    assert accounts["demo-yuren"]["org_id"] == "demo-inst-yuren"
    assert accounts["demo-hz-8"]["org_id"] == "demo-inst-hz-8" and accounts["demo-hz-8"]["city"] == "杭州"
    assert accounts["demo-hz-8"]["display_name"] == "杭州市示范培训机构八（演示数据）"
    enterprise_id = accounts["demo-enterprise"]["org_id"]
    assert accounts["demo-enterprise"]["role"] == "enterprise" and len(enterprise_id) == 32
    assert accounts["demo-admin"]["role"] == "admin"

    async with running_app(build_app(settings)) as client:
        for username, password in created.items():
            response = await login(client, username, password)
            assert response.status_code == 200, (username, response.text)
            assert response.json()["username"] == username
        admin = (await login(client, "demo-admin", created["demo-admin"])).json()["access_token"]
        listed = await client.get(
            "/api/gateway/accounts", params={"role": "reviewer", "limit": 500}, headers=bearer(admin)
        )
        assert listed.json()["total"] == 11
