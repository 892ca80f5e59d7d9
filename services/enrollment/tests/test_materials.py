from __future__ import annotations

import pytest
from enrollment.domain.materials import (
    NameProblem,
    ParsedName,
    is_ignored,
    materials_report,
    parse_entry_name,
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
