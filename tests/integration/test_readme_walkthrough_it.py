"""README.md's walkthrough ("Walkthrough: the whole flow by hand"), run as written.

The bash blocks of that section (from its heading to the next heading, in order) are the script. It runs with
`bash -euo pipefail` from the repository root against a platform started like `EXAM_DEMO_TIMING=1 make run`
(the `demo_timing_platform` fixture: its own stack, empty databases), with `GW` set to that platform's
gateway and `DATA` to a directory holding the platform's `env` file in the launcher's format (what the
walkthrough sources for the CLIs and `make rebuild-check`). The administrator's password, which the
walkthrough reads with `read -rs`, comes on standard input. A step of the README that breaks fails the script
(`curl --fail-with-body` under `-e`, a poll that gives up), and with it this test. The two waits for the
exam's clock (the session's start, the earliest submission) are not waited out: the test moves the exam
service's clock over them as the script reaches them (`ExamClockMover`); the script polls as written.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from exam.application.banks import DEMO_MARK, bank_stream
from exam.application.context import candidate_stream
from exam.cli import AnsweredPaper, CommandFailed, answer_demo_paper
from exam.domain.events import BankQuestion, ExamStarted, PaperQuestion, QuestionBankImported
from exam.settings import ExamSettings
from servicekit.eventstore import EventStore
from servicekit.launcher import ServiceProcesses
from servicekit.mongo import create_client
from servicekit.testing import unique_name

REPO = Path(__file__).resolve().parents[2]
HEADING = "## Walkthrough: the whole flow by hand"
FIRST_LINE = "# README walkthrough — run as written by tests/integration/test_readme_walkthrough_it.py"
FENCE = re.compile(r"^(`{3,})(.*)$")
SCRIPT_TIMEOUT = 900  # seconds; with demo timing the script takes about 5 minutes


def walkthrough_blocks(readme: str) -> list[str]:
    """The bash blocks between the walkthrough's heading and the next heading (headings outside code only)."""
    lines = readme.splitlines()
    start = lines.index(HEADING) + 1
    blocks: list[str] = []
    current: list[str] | None = None
    language = ""
    for line in lines[start:]:
        fence = FENCE.match(line)
        if current is None:
            if fence:
                current, language = [], fence.group(2).strip()
            elif line.startswith("#"):
                break  # the next heading
        elif fence:
            if language == "bash":
                blocks.append("\n".join(current) + "\n")
            current = None
        else:
            current.append(line)
    assert current is None, "the walkthrough has a code block that is never closed"
    return blocks


def test_the_walkthrough_is_found_and_polls_instead_of_sleeping() -> None:
    blocks = walkthrough_blocks((REPO / "README.md").read_text())
    assert blocks, f"no bash block under {HEADING!r}"
    assert blocks[0].splitlines()[0] == FIRST_LINE
    sleeps = [
        line.strip() for b in blocks for line in b.splitlines() if re.search(r"\bsleep\b", line.split("#")[0])
    ]
    assert sleeps == ["sleep 1"], f"only until_ok's poll interval may sleep: {sleeps}"


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object printed on the script's output (one a line, or jq's indented ones)."""
    found: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    index = 0
    while (index := text.find("{", index)) != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            index += 1
            continue
        if isinstance(value, dict):
            found.append(value)
        index = end
    return found


def _logs(platform: ServiceProcesses) -> str:
    if platform.log_dir is None:
        return ""
    return "".join(
        f"\n--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
        for log in sorted(platform.log_dir.glob("*.log"))
    )


class ExamClockMover:
    """Moves the exam service's clock over the walkthrough's two waits instead of waiting them out: once the
    candidate is verified (step 11) to the session's start, once the exam has started to its earliest
    submission (step 12). The script still polls for both exactly as written (`until_ok`); only the time it
    would have waited, about three and a half minutes with demo timing, is skipped."""

    def __init__(self, offset_file: Path) -> None:
        self.offset_file = offset_file
        self.offset_file.write_text("0")
        self.moved_to: set[str] = set()

    def _move_to(self, moment: str) -> None:
        if moment in self.moved_to:
            return
        self.moved_to.add(moment)
        target = datetime.fromisoformat(moment)
        ahead = (target - datetime.now(UTC)).total_seconds() + 1
        current = float(self.offset_file.read_text() or 0)
        if ahead > current:
            self.offset_file.write_text(str(ahead))

    def follow(self, printed: list[dict[str, Any]]) -> None:
        starts = [o["starts_at"] for o in printed if "starts_at" in o and "room" in o]
        if starts and any(o.get("verified") is True for o in printed):
            self._move_to(starts[-1])
        submission = [o["earliest_submission"] for o in printed if "earliest_submission" in o]
        if submission:
            self._move_to(submission[-1])


@pytest.mark.integration
@pytest.mark.timeout(SCRIPT_TIMEOUT + 300)  # + the platform's start
def test_readme_walkthrough_runs_as_written(demo_timing_platform: ServiceProcesses, tmp_path: Path) -> None:
    for tool in ("bash", "curl", "jq", "make", "uv"):
        if shutil.which(tool) is None:
            pytest.skip(f"the walkthrough needs {tool}")
    script = tmp_path / "walkthrough.sh"
    script.write_text("".join(walkthrough_blocks((REPO / "README.md").read_text())))
    data = tmp_path / "data"
    data.mkdir()
    env_file = data / "env"  # as servicekit.launcher writes .data/env for `make run`
    env_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(demo_timing_platform.env.items())))
    env_file.chmod(0o600)
    work = tmp_path / "tmp"
    work.mkdir()
    env = {
        **os.environ,
        "GW": demo_timing_platform.url("gateway"),
        "DATA": str(data),
        "TMPDIR": str(work),
        "WAIT_SECONDS": "300",
    }
    password = "Adm1n-" + secrets.token_urlsafe(12)
    out, err = tmp_path / "walkthrough.out", tmp_path / "walkthrough.err"
    started = time.monotonic()
    clock = ExamClockMover(Path(demo_timing_platform.env["EXAM_TEST_CLOCK_OFFSET_FILE"]))
    with out.open("w") as stdout, err.open("w") as stderr:
        script_run = subprocess.Popen(
            ["bash", "-euo", "pipefail", str(script)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
        assert script_run.stdin is not None
        script_run.stdin.write(password + "\n")
        script_run.stdin.close()
        returncode: int | str | None = None
        while returncode is None:
            try:
                returncode = script_run.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if time.monotonic() - started > SCRIPT_TIMEOUT:
                    script_run.kill()
                    script_run.wait()
                    returncode = f"timeout after {SCRIPT_TIMEOUT} s"
                else:
                    clock.follow(_json_objects(out.read_text()))
    took = time.monotonic() - started
    printed, errors = out.read_text(), err.read_text()
    shown = f"\n--- stdout\n{printed}\n--- stderr\n{errors[-6000:]}"
    assert returncode == 0, f"the walkthrough failed ({returncode}){shown}{_logs(demo_timing_platform)}"
    assert password not in printed + errors
    assert "尚未提交注册信息" not in printed
    objects = _json_objects(printed)
    scored = [o for o in objects if "score" in o]
    assert scored and scored[-1]["score"] == 100 and scored[-1]["passed"] is True, shown
    verified = [o for o in objects if "state_label" in o]
    assert verified and verified[-1]["state_label"] == "有效", shown
    assert verified[-1]["id_number"] != "330106199005170019", "the public verification masks the ID number"
    print(f"README walkthrough: {took:.0f} s")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("title", "demo", "answered"),
    [
        (f"{DEMO_MARK}施工员", True, True),
        ("本机构施工员题库", False, False),
        ("本机构施工员题库", True, False),  # demo=true without the demo title: not a demo bank either
        (f"{DEMO_MARK}施工员", False, False),
    ],
)
async def test_answer_demo_paper_answers_only_a_demo_banks_paper(
    stack_env: dict[str, str], title: str, demo: bool, answered: bool
) -> None:
    """The walkthrough's `exam.cli answer-demo-paper`: the right answers from ExamStarted in the exam's event
    store, saved through the public API as the candidate; any other bank's paper refused, nothing saved."""
    settings = ExamSettings(mongo_url=stack_env["MONGO_URL"], mongo_database=unique_name("exam-cli"))
    client = create_client(settings.mongo_url)
    try:
        store = EventStore(client, client[settings.database_name], source="exam")
        await store.append(
            bank_stream("bank-1"),
            [
                QuestionBankImported(
                    bank_id="bank-1",
                    owner_id="admin",
                    position="施工员",
                    title=title,
                    demo=demo,
                    questions=[
                        BankQuestion(question_id="q1", kind="judge", stem="题", options=[], answer=[0])
                    ],
                )
            ],
            expected_version=0,
        )
        now = datetime.now(UTC)
        await store.append(
            candidate_stream("cand-1"),
            [
                ExamStarted(
                    attempt_id="att-1",
                    candidate_id="cand-1",
                    session_id="sess-1",
                    id_number="330106199005170019",
                    bank_id="bank-1",
                    questions=[
                        PaperQuestion(
                            question_id="q1",
                            kind="single",
                            stem="一",
                            options=["甲", "乙", "丙"],
                            answer=[2],
                            points=2,
                        ),
                        PaperQuestion(
                            question_id="q2",
                            kind="multiple",
                            stem="二",
                            options=["甲", "乙", "丙"],
                            answer=[0, 1],
                            points=3,
                        ),
                    ],
                    started_at=now,
                    deadline=now + timedelta(minutes=10),
                    earliest_submission=now + timedelta(minutes=1),
                )
            ],
            expected_version=0,
        )
    finally:
        await client.close()
    saves: list[Any] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer person-token"
        assert request.url.path.startswith("/api/exam/candidates/cand-1/")
        if request.method == "PUT":
            saves.append(json.loads(request.content))
            return httpx.Response(200, json={"answered": 2, "save_no": 1, "seconds_left": 590})
        paper = [
            {"question_id": "q2", "options": ["甲", "乙", "丙"]},
            {"question_id": "q1", "options": ["甲", "乙", "丙"]},
        ]
        return httpx.Response(
            200,
            json={
                "attempt_id": "att-1",
                "submitted": False,
                "questions": paper,
                "seconds_until_submission": 50,
                "seconds_left": 590,
            },
        )

    async def run() -> object:
        return await answer_demo_paper(
            settings,
            gateway="http://gateway.test",
            token="person-token",
            candidate_id="cand-1",
            transport=httpx.MockTransport(gateway),
        )

    if answered:
        done = await run()
        assert saves == [{"answers": {"q2": [0, 1], "q1": [2]}}]
        assert done == AnsweredPaper("att-1", title, 2, 1, 50, 590)
    else:
        with pytest.raises(CommandFailed, match=f"不是演示题库.*{DEMO_MARK}.*正式考试须由考生本人作答"):
            await run()
        assert saves == []
