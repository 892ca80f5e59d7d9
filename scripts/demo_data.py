"""Demo accounts for a local installation, clearly marked as demo data, each with a fresh random password.

    set -a; . .data/env; set +a; SERVICE_NAME=gateway uv run python scripts/demo_data.py

Creates, through the gateway's own use cases (the code path of `python -m gateway.cli` and of the signup
endpoint, never raw database writes): one municipal reviewer per city (`reviewer-<city>`), the demo training
institutions of `gateway.demo` (`demo-yuren`, `demo-hz-1` … `demo-hz-8`), one administrator (`demo-admin`)
and one enterprise (`demo-enterprise`, signed up like any enterprise, so it gets an enterprise id of its own).

Then it publishes a demo offer (positions, fees per training mode, features, exam locations, payment methods)
for each demo institution, through enrollment's own use case (`enrollment.application.institutions`), into the
enrollment database (`enrollment`, on the same MongoDB); the running enrollment service's outbox relay sends
the `OfferPublished` events to Kafka, so its `institutions` read model lists them. `--no-offers` skips this.

It also imports the demo question banks of the exam service (one per position, titles starting with
【演示题库】, owner "admin") through the exam service's own use case (`exam.application.banks`, the code path
of POST /api/exam/banks/demo) into the exam database (`exam`); `--no-banks` skips this.

Idempotent: an account that exists is skipped (its password is not changed nor shown), and an offer that is
already in force is not published again. Every new account gets its own random password, printed once in the
table at the end; there is no shared or fixed password.
Person (trainee) accounts are not created: a trainee activates their own with a one-time code once an
enterprise has enrolled them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import unicodedata
from dataclasses import dataclass
from typing import TextIO

from enrollment.application.institutions import publish_offer
from enrollment.domain.institution import OfferForm
from enrollment.domain.reference import POSITIONS
from events.enrollment import OfferLine
from exam.application.banks import load_demo_banks
from gateway.adapters.accounts_mongo import MongoAccountRepository
from gateway.adapters.passwords import generate_password
from gateway.application.accounts import AccountAdministration, NewAccount
from gateway.cli import account_administration
from gateway.demo import (
    DEMO_ADMIN_NAME,
    DEMO_ADMIN_USERNAME,
    DEMO_ENTERPRISE_NAME,
    DEMO_ENTERPRISE_USERNAME,
    DEMO_INSTITUTIONS,
    DEMO_MARK,
    DEMO_REVIEWERS,
    DemoInstitution,
)
from gateway.domain.accounts import Account
from gateway.domain.errors import UsernameTaken
from gateway.settings import GatewaySettings
from pymongo.errors import PyMongoError
from servicekit.auth import ROLE_LABELS, Role
from servicekit.errors import DomainError
from servicekit.eventstore import EventStore
from servicekit.mongo import create_client
from servicekit.settings import ServiceSettings

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"
PASSWORD_LENGTH = 16


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    display_name: str
    org_id: str | None = None  # None for the enterprise: signup gives it a new enterprise id
    city: str | None = None


@dataclass(frozen=True)
class Outcome:
    spec: DemoAccount
    account: Account | None
    password: str | None  # None: the account existed already (or was created meanwhile by someone else)

    @property
    def created(self) -> bool:
        return self.password is not None


def demo_accounts() -> list[DemoAccount]:
    """Every demo account, in the order they are created."""
    accounts = [DemoAccount(DEMO_ADMIN_USERNAME, Role.ADMIN, DEMO_ADMIN_NAME)]
    accounts += [DemoAccount(r.username, Role.REVIEWER, r.display_name, city=r.city) for r in DEMO_REVIEWERS]
    accounts += [
        DemoAccount(i.username, Role.INSTITUTION, i.name, org_id=i.id, city=i.city) for i in DEMO_INSTITUTIONS
    ]
    accounts.append(DemoAccount(DEMO_ENTERPRISE_USERNAME, Role.ENTERPRISE, DEMO_ENTERPRISE_NAME))
    return accounts


def _mismatch(spec: DemoAccount, account: Account) -> str | None:
    """How an existing account differs from the demo account of the same username (None: it does not)."""
    differences = []
    if account.role is not spec.role:
        differences.append(f"角色为 {account.role.value}")
    if spec.org_id is not None and account.org_id != spec.org_id:
        differences.append(f"组织编号为 {account.org_id or '（无）'}")
    if spec.city is not None and account.city != spec.city:
        differences.append(f"城市为 {account.city or '（无）'}")
    return "、".join(differences) or None


async def _create(admin: AccountAdministration, spec: DemoAccount) -> tuple[Account, str]:
    if spec.role is Role.ENTERPRISE:  # the signup use case: its own enterprise id
        password = generate_password(PASSWORD_LENGTH, spec.username)
        account = await admin.signup_enterprise(spec.username, password, spec.display_name)
        return account, password
    created = await admin.create(
        NewAccount(
            username=spec.username,
            role=spec.role,
            display_name=spec.display_name,
            org_id=spec.org_id,
            city=spec.city,
            password=None,  # a fresh random password, returned once
        )
    )
    assert created.generated_password is not None
    return created.account, created.generated_password


async def seed(settings: GatewaySettings, out: TextIO) -> list[Outcome]:
    """Create the demo accounts that do not exist yet; say what was done for each one."""
    client = create_client(settings.mongo_url)
    try:
        accounts = MongoAccountRepository(client[settings.database_name])
        await accounts.ensure_indexes()
        admin = account_administration(accounts)
        outcomes: list[Outcome] = []
        for spec in demo_accounts():
            label = f"{spec.username}（{ROLE_LABELS[spec.role]}，{spec.display_name}）"
            existing = await accounts.by_username(spec.username)
            if existing is None:
                try:
                    account, password = await _create(admin, spec)
                except UsernameTaken:  # created meanwhile by another run
                    existing = await accounts.by_username(spec.username)
                else:
                    print(f"已创建  {label}", file=out)
                    outcomes.append(Outcome(spec, account, password))
                    continue
            print(f"已存在，跳过  {label}", file=out)
            if existing is not None and (difference := _mismatch(spec, existing)):
                print(f"  注意：已有的账号 {spec.username} 与演示数据不一致（{difference}）", file=out)
            outcomes.append(Outcome(spec, existing, None))
        return outcomes
    finally:
        await client.close()


# Demo fees in fen, per position: (online, offline); the institutions differ a little from each other.
_DEMO_FEES: dict[str, tuple[int | None, int]] = {
    "施工员": (120_000, 180_000),
    "质量员": (115_000, 170_000),
    "安全员": (100_000, 150_000),
    "标准员": (90_000, 130_000),
    "材料员": (80_000, 120_000),
    "机械员": (None, 140_000),
    "劳务员": (80_000, 110_000),
    "资料员": (70_000, 100_000),
}


def demo_offer(index: int, institution: DemoInstitution) -> OfferForm:
    """A plausible offer for a demo institution, different per institution and always the same for one."""
    lines = []
    for number, (position, specialisations) in enumerate(POSITIONS.items()):
        if (index + number) % 4 == 3:  # each institution leaves out some positions
            continue
        online, offline = _DEMO_FEES[position]
        step = 5_000 * ((index * 3 + number) % 5)
        for spec_number, specialisation in enumerate(specialisations or (None,)):
            extra = 10_000 * spec_number
            lines.append(
                OfferLine(
                    position=position,
                    specialisation=specialisation,
                    fee_online_fen=None if online is None or index % 3 == 2 else online + step + extra,
                    fee_offline_fen=offline + step + extra,
                )
            )
    number = index + 1
    return OfferForm(
        name=institution.name,
        city=institution.city,
        offers=lines,
        features=f"{DEMO_MARK}线上课程随时学，线下周末班；考前集中辅导（示例文字，仅供演示）",
        exam_locations=[f"{institution.city}市示范考点{number}号{DEMO_MARK}"],
        payment_methods=["online", "offline"] if index % 2 == 0 else ["offline"],
    )


def enrollment_settings(settings: GatewaySettings) -> ServiceSettings:
    """The enrollment service's settings, from the same environment (its own database, `enrollment`)."""
    return ServiceSettings(service_name="enrollment", mongo_url=settings.mongo_url, mongo_database=None)


async def publish_demo_offers(settings: ServiceSettings, out: TextIO) -> int:
    """Publish each demo institution's offer (as demo data); returns how many were new or changed."""
    client = create_client(settings.mongo_url)
    try:
        store = EventStore(client, client[settings.database_name], source=f"/{settings.service_name}")
        await store.ensure_indexes()
        changed = 0
        for index, institution in enumerate(DEMO_INSTITUTIONS):
            result = await publish_offer(
                store, institution_id=institution.id, form=demo_offer(index, institution), demo=True
            )
            lines = len(result.offer["offers"])
            if result.changed:
                changed += 1
                print(f"已发布招生信息  {institution.id}（{institution.name}，{lines} 个岗位）", file=out)
            else:
                print(f"招生信息未变，不重复发布  {institution.id}（{institution.name}）", file=out)
        return changed
    finally:
        await client.close()


def exam_settings(settings: GatewaySettings) -> ServiceSettings:
    """The exam service's settings, from the same environment (its own database, `exam`)."""
    return ServiceSettings(service_name="exam", mongo_url=settings.mongo_url, mongo_database=None)


async def import_demo_banks(settings: ServiceSettings, out: TextIO) -> int:
    """Import the demo question banks (one per position, owner "admin"); returns how many were new.

    Through the exam service's own use case (the code path of POST /api/exam/banks/demo): deterministic
    bank ids, so a bank that is there already is not imported again.
    """
    client = create_client(settings.mongo_url)
    try:
        store = EventStore(client, client[settings.database_name], source=f"/{settings.service_name}")
        await store.ensure_indexes()
        items = await load_demo_banks(store, imported_by="demo_data")
        for item in items:
            state = "已导入演示题库" if item["created"] else "演示题库已存在，不重复导入"
            print(f"{state}  {item['title']}（{item['question_count']} 题）", file=out)
        return sum(1 for item in items if item["created"])
    finally:
        await client.close()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns (CJK characters counted as two columns wide)."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def report(outcomes: list[Outcome], gateway_url: str, out: TextIO) -> None:
    created = [o for o in outcomes if o.created and o.account is not None]
    skipped = len(outcomes) - len(created)
    login_url = f"{gateway_url.rstrip('/')}/api/gateway/auth/login"
    print(f"\n演示数据：新建 {len(created)} 个账号，跳过 {skipped} 个已存在的账号。", file=out)
    if created:
        print("\n新账号的密码各不相同、随机生成，只显示这一次，请妥善保存：\n", file=out)
        rows = [["用户名", "密码", "角色", "组织编号", "城市", "显示名称"]]
        for outcome in created:
            account = outcome.account
            assert account is not None and outcome.password is not None
            rows.append(
                [
                    account.username,
                    outcome.password,
                    account.role.value,
                    account.org_id or "-",
                    account.city or "-",
                    account.display_name,
                ]
            )
        for line in table(rows):
            print(line, file=out)
    else:
        print("已有账号的密码不会再次显示（只在创建时显示一次）。", file=out)
    example = next((o for o in created if o.spec.role is Role.ADMIN), created[0] if created else None)
    username = example.spec.username if example else DEMO_ADMIN_USERNAME
    password = example.password if example and example.password else "<密码>"
    body = json.dumps({"username": username, "password": password}, ensure_ascii=False)
    print(f"\n登录地址：{login_url}（POST，JSON 字段 username、password）", file=out)
    print("示例：", file=out)
    print(f"  curl -s {login_url} -H 'content-type: application/json' -d {shlex.quote(body)}", file=out)
    print(
        "返回的 access_token 放在请求头 Authorization: Bearer <access_token> 中调用各接口；"
        f"接口文档：{gateway_url.rstrip('/')}/docs",
        file=out,
    )
    print(
        f"\n企业账号 {DEMO_ENTERPRISE_USERNAME} 还须在 POST /api/registration/enterprises 提交企业注册，"
        "由所在市的审核员（reviewer-<城市拼音>）审核通过后才能为学员报名。",
        file=out,
    )
    print(
        "\n学员（person）账号不预置，也没有默认密码：企业为学员报名（导入报名名单）之后，报名的企业、"
        "培训机构或管理员调用 POST /api/gateway/persons/{身份证号}/activation-code 生成一次性激活码"
        "（同时以短信发到学员的手机），学员凭身份证号和激活码在 POST /api/gateway/auth/activate "
        "设置自己的密码，之后用身份证号（或自选的用户名）登录。",
        file=out,
    )


def main(
    argv: list[str] | None = None, *, settings: GatewaySettings | None = None, out: TextIO | None = None
) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/demo_data.py",
        description="创建演示账号（各市审核员、演示培训机构、管理员、企业），已存在的跳过；新账号的随机密码只显示一次",
    )
    parser.add_argument(
        "--no-offers",
        action="store_true",
        help="不发布演示培训机构的招生信息（只创建账号）",
    )
    parser.add_argument(
        "--no-banks",
        action="store_true",
        help="不导入演示题库（每个岗位一个，标题以【演示题库】开头）",
    )
    parser.add_argument(
        "--gateway-url",
        default=os.environ.get("GATEWAY_URL") or DEFAULT_GATEWAY_URL,
        help=f"登录示例中网关的地址（默认取 GATEWAY_URL，或 {DEFAULT_GATEWAY_URL}）",
    )
    args = parser.parse_args(argv)
    out = out or sys.stdout
    settings = settings or GatewaySettings()
    print(f"演示数据写入网关数据库“{settings.database_name}”（所有名称均以“（演示数据）”结尾）", file=out)
    try:
        outcomes = asyncio.run(seed(settings, out))
    except DomainError as exc:
        print(f"创建演示数据失败：{exc.message}", file=sys.stderr)
        return 1
    except PyMongoError as exc:
        print(
            f"创建演示数据失败：无法访问 MongoDB（{type(exc).__name__}），请检查 MONGO_URL 设置",
            file=sys.stderr,
        )
        return 1
    report(outcomes, args.gateway_url, out)
    if not args.no_banks:
        exam = exam_settings(settings)
        print(f"\n演示题库写入考试服务数据库“{exam.database_name}”：", file=out)
        try:
            created_banks = asyncio.run(import_demo_banks(exam, out))
        except (DomainError, PyMongoError) as exc:
            print(f"导入演示题库失败：{getattr(exc, 'message', type(exc).__name__)}", file=sys.stderr)
            return 1
        print(
            f"演示题库：新导入 {created_banks} 个；考试服务运行时会把它们发送到 Kafka，"
            "之后可在 GET /api/exam/banks 查到（也可由管理员调用 POST /api/exam/banks/demo 导入）。",
            file=out,
        )
    if args.no_offers:
        return 0
    enrollment = enrollment_settings(settings)
    print(f"\n演示培训机构的招生信息写入学员报名服务数据库“{enrollment.database_name}”：", file=out)
    try:
        changed = asyncio.run(publish_demo_offers(enrollment, out))
    except DomainError as exc:
        print(f"发布演示招生信息失败：{exc.message}", file=sys.stderr)
        return 1
    except PyMongoError as exc:
        print(
            f"发布演示招生信息失败：无法访问 MongoDB（{type(exc).__name__}），请检查 MONGO_URL 设置",
            file=sys.stderr,
        )
        return 1
    print(
        f"招生信息：发布 {changed} 家，{len(DEMO_INSTITUTIONS) - changed} 家无变化；学员报名服务运行时"
        "会把它们发送到 Kafka，之后可在 GET /api/enrollment/institutions?city=杭州 查到。",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
