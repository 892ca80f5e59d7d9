"""Administration commands talking to the gateway's MongoDB database directly.

    python -m gateway.cli create-account --role admin --username root [--org-id X] [--city 杭州]
        [--display-name 名称] [--password-stdin]

This is how the first administrator is created (there is no default account). Without `--password-stdin` a
random password is generated and printed once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import NoReturn, TextIO

from pymongo.errors import PyMongoError
from servicekit.auth import ROLE_LABELS, Role
from servicekit.errors import DomainError
from servicekit.mongo import create_client

from .adapters.accounts_mongo import MongoAccountRepository
from .adapters.passwords import Argon2PasswordHasher, generate_password
from .application.accounts import AccountAdministration, CreatedAccount, NewAccount
from .application.ports import AccountRepository
from .domain.accounts import ADMIN_CREATABLE_ROLES
from .settings import GatewaySettings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"参数错误：{message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m gateway.cli", description="网关账号管理命令（直接连接网关的 MongoDB 数据库）"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    create = commands.add_parser("create-account", help="创建账号（首个管理员即由此创建）")
    create.add_argument(
        "--role", required=True, choices=[r.value for r in ADMIN_CREATABLE_ROLES], help="角色"
    )
    create.add_argument("--username", required=True, help="登录用户名")
    create.add_argument("--org-id", default=None, help="所属组织编号（培训机构账号必填）")
    create.add_argument("--city", default=None, help="所属城市（审核员账号必填），如 杭州")
    create.add_argument("--display-name", default=None, help="显示名称（默认同用户名）")
    create.add_argument(
        "--password-stdin", action="store_true", help="从标准输入读取密码（一行）；不指定则生成随机密码"
    )
    return parser


def account_administration(accounts: AccountRepository) -> AccountAdministration:
    """The account use cases as the API runs them (argon2id, 16-character generated passwords)."""
    return AccountAdministration(accounts, Argon2PasswordHasher(), lambda name: generate_password(16, name))


async def create_account(settings: GatewaySettings, command: NewAccount) -> CreatedAccount:
    """The same use case as `POST /api/gateway/accounts`, on a short-lived MongoDB connection."""
    client = create_client(settings.mongo_url)
    try:
        accounts = MongoAccountRepository(client[settings.database_name])
        await accounts.ensure_indexes()
        return await account_administration(accounts).create(command)
    finally:
        await client.close()


def main(
    argv: list[str] | None = None, *, settings: GatewaySettings | None = None, stdin: TextIO | None = None
) -> int:
    args = _parser().parse_args(argv)
    if args.command != "create-account":  # pragma: no cover - argparse refuses unknown commands
        return 2
    password: str | None = None
    if args.password_stdin:
        password = (stdin or sys.stdin).readline().rstrip("\r\n")
        if not password:
            print("创建失败：标准输入中没有读到密码", file=sys.stderr)
            return 1
    command = NewAccount(
        username=args.username,
        role=Role(args.role),
        display_name=args.display_name,
        org_id=args.org_id,
        city=args.city,
        password=password,
    )
    try:
        created = asyncio.run(create_account(settings or GatewaySettings(), command))
    except DomainError as exc:
        print(f"创建失败：{exc.message}", file=sys.stderr)
        return 1
    except PyMongoError as exc:
        print(f"创建失败：无法访问 MongoDB（{type(exc).__name__}），请检查 MONGO_URL 设置", file=sys.stderr)
        return 1
    account = created.account
    print(f"已创建账号：{account.username}（角色：{ROLE_LABELS[account.role]}，账号 ID：{account.id}）")
    if account.org_id:
        print(f"所属组织：{account.org_id}")
    if account.city:
        print(f"所属城市：{account.city}")
    if created.generated_password is not None:
        print(f"初始密码（仅显示这一次，请妥善转交并尽快修改）：{created.generated_password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
