"""Question banks through the exam service's API on the real stack: import a generated .xlsx (a large bank in
parts), the row report of a bad sheet, listing and viewing by role (answers only for the owner and the
administrator), retiring, the idempotent demo banks; and the read model built from parts in any order."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from events import Envelope
from exam.application.banks import bank_stream, demo_bank_id
from exam.domain import bank as b
from exam.domain.events import QuestionBankImported
from exam.main import build_app
from exam.projections.banks import QUESTION_BANKS, question_banks
from exam.settings import ExamSettings
from openpyxl import Workbook
from servicekit.auth import Identity, Role, TokenCodec
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import create_client
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.testing import running_app, unique_name

pytestmark = pytest.mark.integration

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: last={last!r}")


def sheet(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(list(b.COLUMNS))
    for cells in rows:
        ws.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def question_rows(count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(count):
        if i % 3 == 0:
            rows.append(["单选", f"单选题第 {i} 题（　）。", "甲", "乙", "丙", "丁", None, None, "C", 2])
        elif i % 3 == 1:
            rows.append(["多选", f"多选题第 {i} 题（　）。", "甲", "乙", "丙", "丁", "戊", None, "ABD", None])
        else:
            rows.append(["判断", f"判断题第 {i} 题。", None, None, None, None, None, None, "错误", None])
    return rows


def upload(data: bytes, **form: str) -> dict[str, Any]:
    return {"files": {"file": ("题库.xlsx", data, "application/octet-stream")}, "data": form}


async def test_banks_api(make_settings: Callable[..., ServiceSettings], jwt_secret: str) -> None:
    values = make_settings(unique_name("exam"), kafka_session_timeout_ms=2000).model_dump()
    values["exam_sweep_seconds"] = 0
    settings = ExamSettings(**values)
    codec = TokenCodec(jwt_secret, settings.jwt_issuer)

    def bearer(role: Role, org: str | None) -> dict[str, str]:
        token = codec.issue(Identity(f"acc-{role.value}-{org}", role, org_id=org))
        return {"Authorization": f"Bearer {token}"}

    admin, own, other = (
        bearer(Role.ADMIN, None),
        bearer(Role.INSTITUTION, "inst-1"),
        bearer(Role.INSTITUTION, "inst-2"),
    )
    enterprise = bearer(Role.ENTERPRISE, "ent-1")
    app = build_app(settings)
    runtime: ServiceRuntime = app.state.runtime

    async with running_app(app) as client:
        # the template, for institutions and the administrator only
        template = await client.get("/api/exam/banks/template", headers=own)
        assert template.status_code == 200 and template.content.startswith(b"PK")
        assert "attachment" in template.headers["content-disposition"]
        assert (await client.get("/api/exam/banks/template", headers=enterprise)).status_code == 403

        # a bad sheet: every problem of every row, nothing stored
        bad = sheet(
            [
                ["单选", "好题", "甲", "乙", None, None, None, None, "A", None],
                ["多选", "只有一个答案", "甲", "乙", "丙", None, None, None, "B", None],
                ["判断", "好题", None, None, None, None, None, None, "是", "x"],
            ]
        )
        refused = await client.post(
            "/api/exam/banks/import", headers=own, **upload(bad, position="施工员", title="坏题库")
        )
        assert refused.status_code == 422 and refused.json()["code"] == "bank_invalid_sheet"
        assert [(e["row"], e["column"], e["code"]) for e in refused.json()["errors"]] == [
            (3, "答案", b.ANSWER_COUNT),
            (4, "题干", b.STEM_DUPLICATE),
            (4, "答案", b.ANSWER_INVALID),
            (4, "分值", b.POINTS_INVALID),
        ]
        assert await runtime.db["events"].count_documents({"stream_type": "bank"}) == 0

        wrong_position = await client.post(
            "/api/exam/banks/import", headers=own, **upload(bad, position="木工", title="题库")
        )
        assert wrong_position.status_code == 422 and wrong_position.json()["code"] == "bank_invalid"
        not_xlsx = await client.post(
            "/api/exam/banks/import",
            headers=own,
            **upload("题型,题干\n".encode(), position="施工员", title="题库"),
        )
        assert not_xlsx.status_code == 422 and not_xlsx.json()["code"] == "bank_file_not_xlsx"
        forbidden = await client.post(
            "/api/exam/banks/import", headers=enterprise, **upload(bad, position="施工员", title="题库")
        )
        assert forbidden.status_code == 403

        # a large bank: 450 questions in three parts, appended at once
        imported = await client.post(
            "/api/exam/banks/import",
            headers=own,
            **upload(
                sheet(question_rows(450)), position="施工员", specialisation="土建施工", title="土建题库"
            ),
        )
        assert imported.status_code == 201, imported.text
        body = imported.json()
        bank_id = body["bank_id"]
        assert body["question_count"] == 450 and body["parts"] == 3
        assert body["counts"] == {"single": 150, "multiple": 150, "judge": 150}
        stored = await runtime.store.load(bank_stream(bank_id))
        assert [s.version for s in stored] == [1, 2, 3] and len({s.recorded_at for s in stored}) == 1

        # the demo banks: administrator only, idempotent
        assert (await client.post("/api/exam/banks/demo", headers=own)).status_code == 403
        first = await client.post("/api/exam/banks/demo", headers=admin)
        assert first.status_code == 200 and first.json()["created"] == 8
        again = await client.post("/api/exam/banks/demo", headers=admin)
        assert again.json()["created"] == 0 and len(again.json()["items"]) == 8
        safety_id = demo_bank_id("安全员")
        assert len(await runtime.store.load(bank_stream(safety_id))) == 1

        async def listed(headers: dict[str, str], count: int) -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = (await client.get("/api/exam/banks", headers=headers)).json()[
                "items"
            ]
            return items if len(items) == count and all(i["complete"] for i in items) else None

        mine = await eventually(lambda: listed(own, 9), "the institution's list")
        theirs = await eventually(lambda: listed(other, 8), "another institution's list")
        everything = await eventually(lambda: listed(admin, 9), "the administrator's list")
        assert {i["bank_id"] for i in theirs} == {i["bank_id"] for i in mine} - {bank_id}
        assert all("questions" not in i for i in mine + everything)
        own_bank = next(i for i in mine if i["bank_id"] == bank_id)
        assert own_bank["owner_id"] == "inst-1" and own_bank["specialisation"] == "土建施工"
        assert (
            own_bank["question_count"] == 450 and own_bank["demo"] is False and own_bank["retired"] is False
        )
        assert all(i["demo"] and i["title"].startswith("【演示题库】") for i in theirs)
        safety = await client.get("/api/exam/banks", headers=other, params={"position": "安全员"})
        assert [i["bank_id"] for i in safety.json()["items"]] == [safety_id]

        # viewing: answers only for the owner and the administrator
        assert (await client.get(f"/api/exam/banks/{bank_id}", headers=other)).status_code == 404
        with_answers = (await client.get(f"/api/exam/banks/{bank_id}", headers=own)).json()
        questions = with_answers["questions"]
        assert with_answers["answers_shown"] is True and len(questions) == 450
        assert [q["stem"] for q in questions[:2]] == ["单选题第 0 题（　）。", "多选题第 1 题（　）。"]
        assert questions[1]["answer"] == [0, 1, 3] and questions[2]["answer"] == [1]
        assert [q["stem"] for q in questions] == [r[1] for r in question_rows(450)]  # the parts in order
        demo_view = (await client.get(f"/api/exam/banks/{safety_id}", headers=other)).json()
        assert demo_view["answers_shown"] is False and all("answer" not in q for q in demo_view["questions"])
        admin_view = (await client.get(f"/api/exam/banks/{safety_id}", headers=admin)).json()
        assert admin_view["answers_shown"] is True and all(q["answer"] for q in admin_view["questions"])

        # retiring: the owner (or the administrator); the administrator's banks only by the administrator
        assert (await client.post(f"/api/exam/banks/{bank_id}/retire", headers=other)).status_code == 404
        not_owner = await client.post(f"/api/exam/banks/{safety_id}/retire", headers=own)
        assert not_owner.status_code == 403 and not_owner.json()["code"] == "bank_not_owner"
        retired = await client.post(f"/api/exam/banks/{bank_id}/retire", headers=own)
        assert retired.status_code == 200, retired.text
        twice = await client.post(f"/api/exam/banks/{bank_id}/retire", headers=own)
        assert twice.status_code == 409 and twice.json()["code"] == "bank_already_retired"

        async def retired_in_list() -> list[Any] | None:
            items = (await client.get("/api/exam/banks", headers=own)).json()["items"]
            return [i for i in items if i["bank_id"] == bank_id and i["retired"]] or None

        await eventually(retired_in_list, "the retired bank")
        in_use = await client.get("/api/exam/banks", headers=own, params={"include_retired": "false"})
        assert bank_id not in {i["bank_id"] for i in in_use.json()["items"]}


async def test_read_model_from_parts_in_any_order(make_settings: Callable[..., ServiceSettings]) -> None:
    settings = make_settings(unique_name("exam-banks"))
    questions = b.validate_bank(b.COLUMNS, question_rows(450), bank_id="bank-x").questions
    form = b.BankForm(
        bank_id="bank-x", owner_id="inst-1", position="质量员", title="质量员题库", questions=questions
    )
    parts = [e for e in b.import_bank([], form) if isinstance(e, QuestionBankImported)]
    time = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    client = create_client(settings.mongo_url)
    try:

        async def build(database: str, order: list[int]) -> dict[str, Any]:
            projection = question_banks(database)
            for step, index in enumerate(order):
                event = parts[index]
                envelope = Envelope.for_event(event, subject=bank_stream("bank-x"), source="/exam", time=time)
                received = ReceivedEvent(envelope, event, "exam.events", 0, index)
                async with client.start_session() as session:
                    await projection.handlers.dispatch(received, session)
                    if step == 0:  # one part alone: not usable yet
                        partial = await client[database][QUESTION_BANKS].find_one({"_id": "bank-x"})
                        assert (
                            partial is not None
                            and partial["complete"] is False
                            and partial["questions"] == []
                        )
            doc = await client[database][QUESTION_BANKS].find_one({"_id": "bank-x"})
            assert doc is not None
            return doc

        names = [unique_name("banks") for _ in range(3)]
        in_order = await build(names[0], [0, 1, 2])
        reversed_ = await build(names[1], [2, 0, 1])
        replayed = await build(names[2], [1, 2, 1, 0, 2])  # a part delivered twice
        assert in_order == reversed_ == replayed
        assert in_order["complete"] is True and "pending_parts" not in in_order
        assert [q["question_id"] for q in in_order["questions"]] == [q.question_id for q in questions]
        assert in_order["counts"] == {"single": 150, "multiple": 150, "judge": 150}
        assert in_order["question_count"] == 450 and in_order["retired"] is False
        for name in names:
            await client.drop_database(name)
    finally:
        await client.close()
