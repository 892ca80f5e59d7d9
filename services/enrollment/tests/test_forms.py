"""Printable 附件2 报名表 and 附件3 工作年限证明: one pre-filled A4 page per applicant."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from enrollment.adapters.forms import (
    FORM_TITLE,
    PROOF_TITLE,
    FormApplicant,
    enrollment_forms_pdf,
    work_years_proofs_pdf,
)
from events.enrollment import ImportedApplicant
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

APPLICANTS = [
    FormApplicant(
        name="张三丰",
        gender="男",
        id_number="33010619900307123X",
        mobile="13800138000",
        education="大专",
        employer="浙江省第一建设工程有限公司",
        major="建筑装饰工程技术专业",
        graduated_on=date(2012, 6, 30),
        years_in_post=5,
        position="施工员",
        specialisation="土建施工",
        address="浙江省杭州市西湖区文三路100号",
        email="zsf@example.com",
    ),
    FormApplicant(
        name="李小红",
        gender="女",
        id_number="330203199511224528",
        mobile="13912345678",
        education="本科",
        employer="宁波市城建集团有限公司",
        major="",
        graduated_on=None,
        years_in_post=None,
        position="资料员",
    ),
    FormApplicant(
        name="欧阳明",
        gender="男",
        id_number="330781198805160014",
        mobile="15057112345",
        education="中专",
        employer="金华市华东建筑安装工程有限责任公司第三工程处",
        major="建筑工程施工",
        graduated_on=date(2006, 7, 1),
        years_in_post=12,
        position="质量员",
        specialisation="设备安装",
    ),
]


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.5)
    return [page.extract_text() for page in reader.pages]


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_enrollment_forms_one_page_per_applicant() -> None:
    texts = pages(enrollment_forms_pdf(APPLICANTS))
    assert len(texts) == len(APPLICANTS)
    for applicant, text in zip(APPLICANTS, texts, strict=True):
        assert FORM_TITLE in text
        for label in ("填表时间", "姓名", "性别", "出生年月", "身份证号", "所学专业", "学历", "毕业时间"):
            assert label in text
        for label in ("报考岗位", "岗位工作年限", "工作单位", "通讯地址", "联系手机", "邮箱", "本人承诺"):
            assert label in text
        for label in (
            "承诺人（签名）",
            "二代身份证复印件粘贴处",
            "所在单位意见",
            "公章",
            "备注",
            "电子照片要求",
        ):
            assert label in text
        assert applicant.name in text
        assert applicant.id_number in text
        assert applicant.position in text
        assert compact(applicant.employer) in compact(text)
        others = [a for a in APPLICANTS if a is not applicant]
        assert not any(o.name in text or o.id_number in text or o.employer in text for o in others)


def test_enrollment_form_prefills_the_applicant() -> None:
    first, second, third = pages(enrollment_forms_pdf(APPLICANTS))
    assert "1990年03月" in first  # 出生年月 from ID digits 7–14
    assert "施工员（土建施工）" in first
    assert "5年" in first and "2012年06月" in first and "大专" in first
    assert compact("浙江省杭州市西湖区文三路100号") in compact(first)
    assert "zsf@example.com" in first and "13800138000" in first
    assert "1995年11月" in second and "资料员（" not in second
    assert "质量员（设备安装）" in third and "12年" in third
    assert compact("金华市华东建筑安装工程有限责任公司第三工程处") in compact(third)


def test_work_years_proofs_one_page_per_applicant() -> None:
    texts = pages(work_years_proofs_pdf(APPLICANTS))
    assert len(texts) == len(APPLICANTS)
    for applicant, text in zip(APPLICANTS, texts, strict=True):
        flat = compact(text)
        assert PROOF_TITLE in text
        assert applicant.name in text
        assert compact(applicant.employer) in flat
        assert "起止年月" in flat and "从事何种岗位工作" in text
        assert flat.count("年月——年月") == 5
        assert "特此证明。" in text and "企业（盖章）" in flat and "负责人（签名）" in flat
        years = "" if applicant.years_in_post is None else str(applicant.years_in_post)
        assert (
            f"我单位{applicant.name}同志,已累计从事住房城乡建设行业施工现场专业岗位工作共{years}年。" in flat
        )


def test_empty_and_from_imported() -> None:
    with pytest.raises(ValueError):
        enrollment_forms_pdf([])
    with pytest.raises(ValueError):
        work_years_proofs_pdf([])
    record = ImportedApplicant(applicant_id="a1", name="王五", gender="男", id_number="330106199001011234")
    applicant = FormApplicant.from_imported(record, position="安全员")
    (text,) = pages(enrollment_forms_pdf([applicant]))
    assert "王五" in text and "安全员" in text and "330106199001011234" in text
