"""Commands for trying the platform by hand (the README's walkthrough); never for a real exam.

    printf '%s\\n' "$PERSON" | python -m exam.cli answer-demo-paper --candidate <id> --token-stdin \\
        [--gateway http://127.0.0.1:8000]

answer-demo-paper answers a started paper correctly, through the public API as the candidate (the person's
access token, read from standard input): it reads the paper (`GET /api/exam/candidates/{id}/paper`), takes
the right answers from the paper as it was drawn (`ExamStarted` in the exam's own event store: the paper the
candidate sees never shows them) and saves them (`PUT /api/exam/candidates/{id}/answers`). Submitting stays
the candidate's own step (`POST /api/exam/candidates/{id}/submit`, once the submission time has come).

Only a paper drawn from a demo question bank (titled 【演示题库】, `demo=true`: `make demo-data` or
`POST /api/exam/banks/demo`) is answered, and never with PLATFORM_ENV=production. The connection settings
come from the environment, like the gateway's CLI: `set -a; . .data/env; set +a` first (GATEWAY_URL and
MONGO_URL are in it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

import httpx
from pydantic import ValidationError
from pymongo.errors import PyMongoError
from servicekit.eventstore import EventStore
from servicekit.mongo import create_client

from .application.banks import DEMO_MARK, bank_stream
from .application.context import candidate_stream
from .domain.events import ExamStarted, QuestionBankImported
from .settings import ExamSettings

DEFAULT_GATEWAY = "http://127.0.0.1:8000"


class CommandFailed(Exception):
    """A refusal the command prints (in Chinese) before exiting with status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"参数错误：{message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m exam.cli", description="考试演示命令（仅用于演示题库，不用于真实考试）")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    answer = commands.add_parser(
        "answer-demo-paper", help="以考生身份为抽自演示题库的试卷作答（全部答对并保存，不交卷）"
    )
    answer.add_argument("--candidate", required=True, help="考生编号（candidate_id）")
    answer.add_argument(
        "--token-stdin", action="store_true", required=True, help="从标准输入读取考生本人的访问令牌（一行）"
    )
    answer.add_argument(
        "--gateway",
        default=None,
        help=f"网关地址（默认取环境变量 GATEWAY_URL，未设置时为 {DEFAULT_GATEWAY}）",
    )
    return parser


@dataclass(frozen=True)
class DemoBank:
    bank_id: str
    title: str
    demo: bool

    @property
    def is_demo(self) -> bool:
        return self.demo and self.title.startswith(DEMO_MARK)


@dataclass(frozen=True)
class AnsweredPaper:
    attempt_id: str
    bank_title: str
    answered: int
    save_no: int
    seconds_until_submission: int
    seconds_left: int


def _problem(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    return f"HTTP {response.status_code}"


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code == 401:
        raise CommandFailed(f"{what}失败：登录已失效，请重新登录（学员的用户名为身份证号）后再试")
    if response.status_code >= 400:
        raise CommandFailed(f"{what}失败：{_problem(response)}")
    body: dict[str, Any] = response.json()
    return body


async def drawn_paper(
    settings: ExamSettings, candidate_id: str, attempt_id: str
) -> tuple[ExamStarted, DemoBank]:
    """The attempt's ExamStarted (the drawn questions with their answers) and the bank it was drawn from."""
    client = create_client(settings.mongo_url)
    try:
        store = EventStore(client, client[settings.database_name], source=settings.service_name)
        events, _ = await store.load_events(candidate_stream(candidate_id))
        started = [e for e in events if isinstance(e, ExamStarted) and e.attempt_id == attempt_id]
        if not started:
            raise CommandFailed(
                "在考试服务的事件库中找不到这次考试的试卷（请确认 MONGO_URL 指向本平台的数据库）"
            )
        paper = started[-1]
        parts, _ = await store.load_events(bank_stream(paper.bank_id))
        imported = [e for e in parts if isinstance(e, QuestionBankImported)]
    finally:
        await client.close()
    if not imported:
        return paper, DemoBank(paper.bank_id, "", False)
    return paper, DemoBank(paper.bank_id, imported[0].title, all(e.demo for e in imported))


async def answer_demo_paper(
    settings: ExamSettings,
    *,
    gateway: str,
    token: str,
    candidate_id: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AnsweredPaper:
    """Answer the candidate's started paper right (it must come from a demo bank) and save the answers.
    `transport`: another way to the gateway (tests)."""
    if settings.environment == "production":
        raise CommandFailed("生产环境（PLATFORM_ENV=production）不提供代答命令，考试须由考生本人作答")
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/exam/candidates/{candidate_id}"
    async with httpx.AsyncClient(base_url=gateway, timeout=30, transport=transport) as api:
        try:
            shown = _check(await api.get(f"{path}/paper", headers=headers), "读取试卷")
        except httpx.TransportError as exc:
            raise CommandFailed(f"无法连接网关 {gateway}（{type(exc).__name__}），请确认平台已启动") from exc
        if shown.get("submitted"):
            raise CommandFailed("该试卷已交卷，不能再作答")
        paper, bank = await drawn_paper(settings, candidate_id, str(shown["attempt_id"]))
        if not bank.is_demo:
            shown_title = f"“{bank.title}”" if bank.title else f"（编号 {bank.bank_id}）"
            raise CommandFailed(
                f"该试卷抽自题库{shown_title}，不是演示题库（标题以{DEMO_MARK}开头的演示题库）："
                "本命令只为演示题库的试卷作答，正式考试须由考生本人作答"
            )
        right = {q.question_id: list(q.answer) for q in paper.questions}
        asked = [str(q["question_id"]) for q in shown["questions"]]
        if sorted(asked) != sorted(right):
            raise CommandFailed("试卷的题目与事件库中抽取的题目不一致，未作答")
        saved = _check(
            await api.put(f"{path}/answers", headers=headers, json={"answers": {q: right[q] for q in asked}}),
            "保存答案",
        )
        after = _check(await api.get(f"{path}/paper", headers=headers), "读取试卷")
    return AnsweredPaper(
        attempt_id=str(shown["attempt_id"]),
        bank_title=bank.title,
        answered=int(saved["answered"]),
        save_no=int(saved["save_no"]),
        seconds_until_submission=int(after["seconds_until_submission"]),
        seconds_left=int(after["seconds_left"]),
    )


def _read_token(stdin: TextIO) -> str:
    token = stdin.readline().strip()
    if not token or token == "null":
        raise CommandFailed("标准输入中没有读到考生的访问令牌（先以考生身份登录，用户名为身份证号）")
    return token


def main(
    argv: Sequence[str] | None = None, *, settings: ExamSettings | None = None, stdin: TextIO | None = None
) -> int:
    args = _parser().parse_args(argv)
    if args.command != "answer-demo-paper":  # pragma: no cover - argparse refuses unknown commands
        return 2
    gateway = (args.gateway or os.environ.get("GATEWAY_URL") or DEFAULT_GATEWAY).rstrip("/")
    try:
        settings = settings or ExamSettings()
    except ValidationError as exc:
        print(f"作答失败：考试服务的设置有误（{exc.errors()[0]['msg']}）", file=sys.stderr)
        return 1
    try:
        token = _read_token(stdin or sys.stdin)
        done = asyncio.run(
            answer_demo_paper(settings, gateway=gateway, token=token, candidate_id=args.candidate)
        )
    except CommandFailed as exc:
        print(f"作答失败：{exc}", file=sys.stderr)
        return 1
    except PyMongoError as exc:
        print(f"作答失败：无法访问 MongoDB（{type(exc).__name__}），请检查 MONGO_URL 设置", file=sys.stderr)
        return 1
    print(
        f"已按演示题库“{done.bank_title}”的标准答案作答 {done.answered} 题并保存（保存序号 {done.save_no}）"
    )
    if done.seconds_until_submission > 0:
        print(f"还需等待 {done.seconds_until_submission} 秒方可交卷；距考试结束 {done.seconds_left} 秒")
    else:
        print(f"现在即可交卷；距考试结束 {done.seconds_left} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())
