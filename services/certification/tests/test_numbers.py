from __future__ import annotations

import pytest
from certification.domain.numbers import (
    certificate_number,
    is_valid_number,
    mask_id_number,
    mask_name,
    mod11_2,
    same_name,
)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def test_mod11_2_is_the_id_number_scheme() -> None:
    for body in ("11010519491231002", "44052418800101001", "33010619900517001"):
        expected = "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
        assert mod11_2(body) == expected


def test_number_format_and_check() -> None:
    number = certificate_number(2026, "施工员", 123)
    assert number.startswith("33202601" + "0000123") and len(number) == 16
    assert is_valid_number(number)
    for i in range(15):
        for d in "0123456789":
            if d != number[i]:
                assert not is_valid_number(number[:i] + d + number[i + 1 :])
    swapped = number[:9] + number[10] + number[9] + number[11:]
    assert swapped == number or not is_valid_number(swapped)
    with pytest.raises(ValueError):
        certificate_number(2026, "施工员", 0)


def test_masking() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_id_number("33010619900517001X") == "330106********001X"


def test_same_name_ignores_spaces_and_dot_variants_only() -> None:
    assert same_name("欧阳娜娜", " 欧阳 娜娜 ")
    assert same_name("欧阳娜娜", "欧阳\u3000娜娜")
    assert same_name("买买提·艾力", "买买提•艾力") and same_name("买买提·艾力", "买买提・艾力")
    assert same_name("Anna Li", "anna li")
    assert not same_name("欧阳娜娜", "欧阳娜")
    assert not same_name("欧阳娜娜", "欧*娜娜")
    assert not same_name("欧阳娜娜", "   ")
