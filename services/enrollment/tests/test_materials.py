from __future__ import annotations

import json

import pytest
from enrollment.domain.materials import (
    NameProblem,
    ParsedName,
    Problem,
    grouped,
    is_ignored,
    materials_report,
    ordered,
    parse_entry_name,
    summary,
)
from enrollment.domain.reference import MATERIAL_DOCUMENTS

ID_A = "110101198001010010"
ID_B = "33010219900307123X"
ID_C = "330102199003071220"


def full_set(id_number: str, folder: str = "") -> list[str]:
    return [f"{folder}{id_number}${d}.{'jpg' if d == '头像' else 'png'}" for d in MATERIAL_DOCUMENTS]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"{ID_A}$头像.jpg", ParsedName(ID_A, "头像", "jpg")),
        (f"{ID_A}$头像.JPEG", ParsedName(ID_A, "头像", "jpeg")),
        (f"{ID_A}＄报名表.pdf", ParsedName(ID_A, "报名表", "pdf")),  # full-width dollar
        (f"材料/张三/{ID_A}$身份证正面.png", ParsedName(ID_A, "身份证正面", "png")),
        (f"材料\\{ID_A}$身份证反面.jpg", ParsedName(ID_A, "身份证反面", "jpg")),
        ("33010219900307123x$学历证书.jpg", ParsedName(ID_B, "学历证书", "jpg")),
        ("１１０１０１１９８００１０１００１０$工作年限证明.pdf", ParsedName(ID_A, "工作年限证明", "pdf")),
    ],
)
def test_parse_good_names(name: str, expected: ParsedName) -> None:
    assert parse_entry_name(name) == expected


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        (f"{ID_A}头像.jpg", "bad_name", "$"),
        ("头像.jpg", "bad_name", "$"),
        ("$头像.jpg", "bad_name", "身份证号"),
        (
            f"{ID_A}$照片.jpg",
            "unknown_document",
            "报名表、身份证正面、身份证反面、工作年限证明、学历证书、头像",
        ),
        (f"{ID_A}$身份证.jpg", "unknown_document", "身份证"),
        (f"{ID_A}$头像.png", "bad_extension", "jpg/jpeg"),
        (f"{ID_A}$头像.pdf", "bad_extension", "jpg/jpeg"),
        (f"{ID_A}$报名表.docx", "bad_extension", ".docx"),
        (f"{ID_A}$报名表", "bad_extension", "无扩展名"),
    ],
)
def test_parse_bad_names(name: str, code: str, words: str) -> None:
    problem = parse_entry_name(name)
    assert isinstance(problem, NameProblem)
    assert problem.code == code
    assert words in problem.message


@pytest.mark.parametrize(
    "name", ["__MACOSX/x/._a.jpg", "a/.DS_Store", ".DS_Store", "Thumbs.db", "材料/", "._x.jpg"]
)
def test_junk_is_ignored(name: str) -> None:
    assert is_ignored(name)
    assert not is_ignored(f"{ID_A}$头像.jpg")


def test_complete_batch() -> None:
    entries = [*full_set(ID_A, "材料/"), *full_set(ID_B), "__MACOSX/._x", ".DS_Store"]
    report = materials_report(entries, [ID_A, ID_B])
    assert report.complete
    assert report.messages() == []
    assert list(report.applicants) == [ID_A, ID_B]
    a = report.applicants[ID_A]
    assert a.complete and a.missing == () and set(a.found) == set(MATERIAL_DOCUMENTS)
    assert a.found["头像"] == f"材料/{ID_A}$头像.jpg"
    assert report.ignored == ("__MACOSX/._x", ".DS_Store")


def test_report_of_every_problem() -> None:
    entries = [
        *full_set(ID_A),
        f"{ID_A}$头像.jpeg",  # duplicate head photo
        *[e for e in full_set(ID_B) if "学历证书" not in e and "头像" not in e],  # two missing
        f"{ID_B}$照片.jpg",  # unknown document
        "readme.txt",  # no $
        f"{ID_C}$头像.jpg",  # not in this batch
    ]
    report = materials_report(entries, [ID_A, ID_B.lower()])
    assert not report.complete
    assert report.incomplete_applicants == [ID_A, ID_B]

    a = report.applicants[ID_A]
    assert not a.complete and a.missing == () and a.duplicated == ("头像",)
    [duplicate] = report.duplicates
    assert (duplicate.id_number, duplicate.document) == (ID_A, "头像")
    assert duplicate.entries == (f"{ID_A}$头像.jpg", f"{ID_A}$头像.jpeg")

    b = report.applicants[ID_B]
    assert b.missing == ("学历证书", "头像") and not b.complete
    assert "缺少材料：学历证书、头像" in b.messages

    assert {(u.entry, u.code) for u in report.unknown} == {
        (f"{ID_B}$照片.jpg", "unknown_document"),
        ("readme.txt", "bad_name"),
    }
    [foreign] = report.not_in_batch
    assert foreign.id_number == ID_C and "不在本批次" in foreign.message

    lines = report.messages()
    assert any(line.startswith(f"{ID_B}：缺少材料") for line in lines)
    assert any("不在本批次" in line for line in lines)
    assert len(lines) == 5


def test_applicant_without_any_file() -> None:
    report = materials_report([], [ID_A])
    assert report.applicants[ID_A].missing == MATERIAL_DOCUMENTS
    assert not report.complete


# ---- the upload's problems: most important first, grouped, few examples ----


def batch_of(count: int) -> list[str]:
    return [f"{330106199001010000 + 10 * i:018d}" for i in range(count)]


def test_one_bad_entry_comes_before_fifty_missing_documents() -> None:
    """A .png head photo in a zip for a batch of nine: the fifty-odd missing documents are a consequence; the
    entry that cannot be used is the reason, and it comes first (in the report and its summary)."""
    batch = batch_of(9)
    report = materials_report([f"{batch[0]}$头像.png"], batch)
    problems = ordered(report.problems())
    assert [p.code for p in problems][:2] == ["bad_extension", "missing_documents"]
    assert problems[0].entry == f"{batch[0]}$头像.png" and "jpg/jpeg" in problems[0].message
    assert report.messages()[0] == problems[0].message
    groups = grouped(problems)
    assert [(g["code"], g["count"]) for g in groups] == [("bad_extension", 1), ("missing_documents", 9)]
    text = summary(groups, head="压缩包中没有可用的报名资料")
    assert text.startswith("压缩包中没有可用的报名资料：1 个文件的格式不被接受：文件“")
    assert "头像.png" in text.split("；")[0] and "另有 9 处其他问题" in text


@pytest.mark.parametrize(
    ("codes", "first"),
    [
        (["missing_documents", "not_in_batch", "bad_name"], "bad_name"),
        (["missing_documents", "too_large", "duplicate_document"], "duplicate_document"),
        (["missing_documents", "head_photo_locked", "not_white"], "not_white"),
        (["missing_documents", "head_photo_locked"], "head_photo_locked"),
        (["unknown_document", "bad_extension"], "bad_extension"),
    ],
)
def test_problem_order(codes: list[str], first: str) -> None:
    problems = [Problem(code, f"问题 {code}") for code in codes]
    assert ordered(problems)[0].code == first
    assert grouped(problems)[0]["code"] == first


def test_repeated_problems_are_grouped_with_counts_and_few_examples() -> None:
    """Ten thousand wrongly named entries make three groups of at most ten examples each: a small report."""
    batch = batch_of(2)
    entries = [f"{batch[0]}$照片{i}.jpg" for i in range(5000)]
    entries += [f"{330206199001010000 + i:018d}$头像.jpg" for i in range(4000)]
    entries += [f"readme{i}.txt" for i in range(1000)]
    report = materials_report(entries, batch)
    groups = grouped(report.problems(), max_examples=10)
    assert [(g["code"], g["count"]) for g in groups] == [
        ("unknown_document", 5000),
        ("bad_name", 1000),
        ("not_in_batch", 4000),
        ("missing_documents", 2),
    ]
    assert all(len(g["examples"]) <= 10 for g in groups)
    assert (
        groups[0]["message"].startswith("5,000 个文件的材料名称无法识别：文件“")
        and "等" in groups[0]["message"]
    )
    assert groups[0]["examples"][0] == {
        "entry": f"{batch[0]}$照片0.jpg",
        "message": groups[0]["examples"][0]["message"],
    }
    assert groups[3]["examples"][0]["id_number"] == batch[0]
    assert len(json.dumps(groups, ensure_ascii=False).encode()) < 8 * 1024
