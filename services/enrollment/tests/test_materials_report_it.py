"""The sheet's and the materials zip's rules on the real stack (the enrollment service in-process, its
MongoDB, object store and consumers real): 学历 synonyms stored as their level and 工作单位 compared with the
enterprise's registered name; a zip whose head photos fail the photo rules stores the rest, not those photos,
and the job's result, the review queue and the applicant view name the failed rules by their codes; an
archive far over the batch's bound, or with nothing usable, stores nothing and says first why."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import imaging
import pytest
from enrollment.domain.identity import id_check_character
from enrollment.main import build_app
from enrollment.projections.read_models import ENTERPRISES
from enrollment.settings import EnrollmentSettings
from servicekit.auth import Identity, Role, TokenCodec
from servicekit.settings import ServiceSettings
from servicekit.testing import running_app, unique_name

pytestmark = pytest.mark.integration

T = TypeVar("T")
REGISTERED = "杭州西湖建工集团有限公司"
OTHER_DOCUMENTS = ("报名表", "身份证正面", "身份证反面", "工作年限证明", "学历证书")


def id_number(first17: str) -> str:
    return first17 + id_check_character(first17)


# 张三 (good photo), 李四 (head tilted 20°), 王五 (one byte over 80 KB)
PEOPLE = (
    ("张三", "男", id_number("33010619900517001"), "大专"),
    ("李四", "女", id_number("33010619920801002"), "中专"),
    ("王五", "男", id_number("33010619850109003"), "硕士研究生"),
)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: last={last!r}")


def one_byte_over(limit: int = 80 * 1024) -> bytes:
    """The good head photo padded after its end-of-image marker to `limit` + 1 bytes (decodes the same)."""
    photo = imaging.labeled_head_photo()
    assert len(photo) < limit
    return photo + b"\x00" * (limit + 1 - len(photo))


def zip_of(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


async def test_sheet_and_materials_rules_on_the_real_stack(
    make_settings: Callable[..., ServiceSettings], jwt_secret: str
) -> None:
    settings = EnrollmentSettings(**make_settings(unique_name("enrollment")).model_dump())
    codec = TokenCodec(jwt_secret, settings.jwt_issuer)
    enterprise_id, institution_id = f"ent-{uuid.uuid4().hex[:8]}", f"inst-{uuid.uuid4().hex[:8]}"

    def bearer(role: Role, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {codec.issue(Identity(f'acc-{org}', role, org_id=org))}"}

    enterprise, institution = bearer(Role.ENTERPRISE, enterprise_id), bearer(Role.INSTITUTION, institution_id)
    app = build_app(settings)
    runtime = app.state.runtime

    async with running_app(app) as api:
        # an approved enterprise, as registration's EnterpriseApproved leaves it, and the institution's offer
        await runtime.db[ENTERPRISES].update_one(
            {"_id": enterprise_id},
            {
                "$set": {
                    "status": "approved",
                    "name": REGISTERED,
                    "city": "杭州",
                    "updated_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )
        offer = {
            "name": "测试培训学校",
            "city": "杭州",
            "offers": [{"position": "安全员", "fee_online_fen": 60000, "fee_offline_fen": 90000}],
            "features": "理论与实操结合",
            "exam_locations": ["杭州市西湖区考点"],
            "payment_methods": ["offline"],
        }
        published = await api.put("/api/enrollment/institutions/me/offer", headers=institution, json=offer)
        assert published.status_code == 200, published.text

        def batch(employers: tuple[str, ...]) -> dict[str, Any]:
            return {
                "institution_id": institution_id,
                "position": "安全员",
                "training_mode": "offline",
                "applicants": [
                    {
                        "name": name,
                        "gender": gender,
                        "id_number": number,
                        "mobile": f"1380000{i:04d}",
                        "education": education,
                        "employer": employer,
                        "major": "建筑工程技术",
                        "years_in_post": 5,
                    }
                    for i, ((name, gender, number, education), employer) in enumerate(
                        zip(PEOPLE, employers, strict=True)
                    )
                ],
            }

        # 1. an abbreviation of the employer: an error on that cell naming the full name; nothing imported
        refused = await api.post(
            "/api/enrollment/batches",
            headers=enterprise,
            json=batch((REGISTERED, "西湖建工", "杭州西湖建工集团（滨江）有限公司")),
        )
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_sheet", refused.text
        errors = refused.json()["errors"]
        assert [(e["row"], e["column"], e["code"]) for e in errors] == [
            (3, "工作单位", "employer_abbreviated"),
            (4, "工作单位", "employer_mismatch"),
        ]
        assert f"“{REGISTERED}”" in errors[0]["message"]
        listed = await api.get("/api/enrollment/applicants", headers=enterprise)
        assert listed.json()["total"] == 0

        # 2. spaces and bracket widths aside, the registered name; 学历 synonyms stored as their level
        imported = await api.post(
            "/api/enrollment/batches",
            headers=enterprise,
            json=batch((REGISTERED, " 杭州西湖建工集团 有限公司 ", f"{REGISTERED}\u3000")),
        )
        assert imported.status_code == 201, imported.text
        batch_id = imported.json()["batch_id"]

        async def applicants() -> dict[str, dict[str, Any]] | None:
            r = await api.get("/api/enrollment/applicants", headers=enterprise, params={"batch_id": batch_id})
            items = r.json()["items"]
            return {i["name"]: i for i in items} if len(items) == 3 else None

        imported_people = await eventually(applicants, "the imported applicants")
        assert {n: (a["education"], a["employer"]) for n, a in imported_people.items()} == {
            "张三": ("专科", REGISTERED),
            "李四": ("中职", REGISTERED),
            "王五": ("研究生", REGISTERED),
        }

        async def upload(data: bytes) -> dict[str, Any]:
            r = await api.post(
                f"/api/enrollment/batches/{batch_id}/materials",
                headers=enterprise,
                files={"file": ("资料.zip", data, "application/zip")},
            )
            assert r.status_code == 202, r.text

            async def finished() -> dict[str, Any] | None:
                job = (await api.get(r.json()["status_url"], headers=enterprise)).json()
                return job if job["state"] != "running" else None

            return await eventually(finished, "the materials job")

        # 3. one zip: 李四's head is tilted 20°, 王五's photo is one byte over 80 KB
        photos = {
            "张三": imaging.labeled_head_photo(),
            "李四": imaging.labeled_head_photo(tilt=20.0),
            "王五": one_byte_over(),
        }
        entries = [
            (f"{number}${document}.jpg", imaging.small_jpeg())
            for _, _, number, _ in PEOPLE
            for document in OTHER_DOCUMENTS
        ]
        entries += [(f"{number}$头像.jpg", photos[name]) for name, _, number, _ in PEOPLE]
        job = await upload(zip_of(entries))
        assert job["state"] == "succeeded", job
        result = job["result"]
        assert result["documents_stored"] == 3 * 5 + 1, "the two failing head photos are not stored"
        assert (result["photos_checked"], result["photo_failures"]) == (3, 2)
        number_of = {name: number for name, _, number, _ in PEOPLE}
        by_number = {a["id_number"]: a for a in result["applicants"]}
        assert set(by_number) == {number_of["李四"], number_of["王五"]}
        li, wang = by_number[number_of["李四"]], by_number[number_of["王五"]]
        assert li["photo_ok"] is False and [(p["rule"], p["code"]) for p in li["photo_problems"]] == [
            ("tilt", "tilted")
        ]
        assert li["missing"] == ["头像"] and "头像" not in li["stored"]
        assert [(p["code"], p["message"]) for p in wang["photo_problems"]] == [
            ("too_large", "头像文件 81,921 字节，超过 81,920 字节（80 KB）的上限")
        ]
        assert [g["code"] for g in result["problems"]] == ["tilted", "too_large", "missing_documents"]
        assert result["message"].startswith("报名资料已保存：1 名学员的头像不符合要求")

        # 4. the review queue and the applicant view show the photo check with the same codes
        async def queue() -> dict[str, dict[str, Any]] | None:
            r = await api.get(
                "/api/enrollment/review-queue", headers=institution, params={"batch_id": batch_id}
            )
            items = {i["name"]: i for i in r.json()["items"]}
            return items if len(items) == 3 and all("photo_ok" in i for i in items.values()) else None

        seen = await eventually(queue, "the review queue with the photo checks")
        assert seen["张三"]["photo_ok"] is True and seen["张三"]["photo_problems"] == []
        assert seen["李四"]["photo_ok"] is False
        assert [(p["rule"], p["code"]) for p in seen["李四"]["photo_problems"]] == [("tilt", "tilted")]
        assert "头部歪斜" in seen["李四"]["photo_problems"][0]["message"]
        assert [p["code"] for p in seen["王五"]["photo_problems"]] == ["too_large"]
        assert "头像" not in seen["李四"]["materials"] and "头像" in seen["张三"]["materials"]
        failing = await api.get(
            "/api/enrollment/review-queue",
            headers=institution,
            params={"batch_id": batch_id, "photo_ok": "false"},
        )
        assert {i["name"] for i in failing.json()["items"]} == {"李四", "王五"}
        view = (
            await api.get(f"/api/enrollment/applicants/{seen['李四']['applicant_id']}", headers=enterprise)
        ).json()
        assert view["photo_ok"] is False and [p["code"] for p in view["photo_problems"]] == ["tilted"]
        assert view["head_photo"] is None and "头像" not in view["materials"]

        # 5. ten thousand entries for a batch of three: refused whole, before anything is extracted
        flood = [(f"{number_of['张三']}$报名表{i}.jpg", imaging.small_jpeg()) for i in range(10_000)]
        job = await upload(zip_of(flood))
        assert job["state"] == "failed" and job["error"]["code"] == "too_many_entries", job
        assert "本批次的上限 38 个" in job["error"]["message"]
        assert len(str(job)) < 4096

        # 6. a .png head photo alone: the entry is the reason, before what it leaves missing
        job = await upload(zip_of([(f"{number_of['李四']}$头像.png", imaging.png_head_photo())]))
        assert job["state"] == "failed" and job["error"]["code"] == "no_usable_materials", job
        assert job["error"]["message"].startswith(
            "压缩包中没有可用的报名资料，未保存任何资料：1 个文件的格式不被接受"
        )
        assert [g["code"] for g in job["error"]["errors"]] == ["bad_extension", "missing_documents"]

        # nothing of the refused uploads was recorded: the read model is as the one good upload left it
        await asyncio.sleep(1)
        after = await eventually(queue, "the review queue")
        assert {n: sorted(a["materials"]) for n, a in after.items()} == {
            n: sorted(a["materials"]) for n, a in seen.items()
        }
        assert after["李四"]["photo_problems"] == seen["李四"]["photo_problems"]
