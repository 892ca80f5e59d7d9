"""Identity checks: cell text, GB 11643-1999 ID numbers (corpus of mutations built here), ages, mobiles."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from enrollment.domain.identity import (
    ID_CHECK_CHARACTERS,
    ID_WEIGHTS,
    PROVINCE_CODES,
    IdInfo,
    age_on,
    id_check_character,
    id_number_problem,
    mobile_problem,
    normalize_cell,
    normalize_id_number,
    parse_id_number,
)

TODAY = date(2025, 6, 1)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
FULL_WIDTH_DIGITS = "０１２３４５６７８９"
FULL_WIDTH_UPPER = "".join(chr(ord("Ａ") + i) for i in range(26))
FULL_WIDTH_LOWER = "".join(chr(ord("ａ") + i) for i in range(26))


def reference_check(first17: str) -> str:
    """The check character computed the slow, obvious way (independent of the module's shortcut)."""
    total = 0
    for digit, weight in zip(first17, ID_WEIGHTS, strict=True):
        total += int(digit) * weight
    return "10X98765432"[total % 11]


def make_id(region: str = "330106", birth: str = "19900115", sequence: str = "123") -> str:
    first17 = region + birth + sequence
    return first17 + reference_check(first17)


VALID_IDS = [
    make_id(),
    make_id("110101", "19800101", "001"),
    make_id("440305", "20000229", "998"),  # a leap day
    make_id("650102", "19651231", "450"),
    make_id("810000", "19880808", "777"),  # Hong Kong
    make_id("910000", "19950505", "246"),  # residence permit
    "11010519491231002X",  # the standard's own example
]


def problem(raw: str) -> str | None:
    found = id_number_problem(raw, today=TODAY)
    assert found is None or CHINESE.search(found), found
    return found


# --- normalize_cell ---


def test_normalize_cell_basics() -> None:
    assert normalize_cell(None) == ""
    assert normalize_cell("") == ""
    assert normalize_cell(123) == "123"
    assert normalize_cell("  张三  ") == "张三"
    assert normalize_cell("\u3000张三\u3000") == "张三"
    assert normalize_cell("\u00a0张三\u00a0\t\n") == "张三"
    assert normalize_cell("\ufeff张三\u200b") == "张三"
    assert normalize_cell("欧阳 娜娜") == "欧阳 娜娜"  # spaces inside are kept
    assert normalize_cell("浙江\u3000建设") == "浙江 建设"


@pytest.mark.parametrize("index", range(10))
def test_normalize_cell_full_width_digits(index: int) -> None:
    assert normalize_cell(FULL_WIDTH_DIGITS[index]) == str(index)
    assert normalize_cell(f"\u3000１３８{FULL_WIDTH_DIGITS[index]}\u3000") == f"138{index}"


@pytest.mark.parametrize("index", range(26))
def test_normalize_cell_full_width_letters(index: int) -> None:
    assert normalize_cell(FULL_WIDTH_UPPER[index]) == chr(ord("A") + index)
    assert normalize_cell(FULL_WIDTH_LOWER[index]) == chr(ord("a") + index)


def test_normalize_cell_keeps_other_text() -> None:
    assert normalize_cell("浙江（杭州）建设有限公司") == "浙江（杭州）建设有限公司"
    assert normalize_cell("Ｘ") == "X"


# --- check character ---


def test_check_character_table() -> None:
    assert ID_CHECK_CHARACTERS == "10X98765432"
    assert ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert id_check_character("11010519491231002") == "X"


@pytest.mark.parametrize("seed", range(200))
def test_check_character_matches_the_reference(seed: int) -> None:
    first17 = f"{(seed * 7919) % 10**17:017d}"
    assert id_check_character(first17) == reference_check(first17)


@pytest.mark.parametrize("bad", ["", "1234", "1101051949123100X", "１１０１０５１９４９１２３１００２"])
def test_check_character_refuses_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        id_check_character(bad)


# --- valid numbers and their normal forms ---


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_numbers(number: str) -> None:
    assert problem(number) is None


def test_lower_case_x_full_width_and_spaces_are_accepted() -> None:
    number = "11010519491231002X"
    variants = [
        number.lower(),
        " " + number + " ",
        "\u3000" + number + "\u3000",
        "110105 19491231 002x",
        number[:17].translate(str.maketrans("0123456789", FULL_WIDTH_DIGITS)) + "Ｘ",
        number[:17] + "ｘ",
    ]
    for variant in variants:
        assert problem(variant) is None, variant
        assert normalize_id_number(variant) == number


# --- generated corpus of bad numbers ---


def test_empty() -> None:
    assert problem("") == "身份证号为空"
    assert problem("   ") == "身份证号为空"


@pytest.mark.parametrize("length", [*range(1, 18), 19, 20, 25])
def test_every_wrong_length(length: int) -> None:
    number = (VALID_IDS[0] * 2)[:length]
    found = problem(number)
    assert found is not None
    if length == 15:
        assert "15 位" in found and "18 位" in found
    else:
        assert found == f"身份证号应为 18 位，实际为 {length} 位"


@pytest.mark.parametrize("position", range(17))
@pytest.mark.parametrize("character", ["A", "X", "-", "中", "."])
def test_every_non_digit_in_the_first_17(position: int, character: str) -> None:
    number = VALID_IDS[0]
    mutated = number[:position] + character + number[position + 1 :]
    found = problem(mutated)
    assert found is not None
    assert f"第 {position + 1} 位应为数字" in found
    assert character in found


@pytest.mark.parametrize("character", ["A", "Y", "-", "中", "*"])
def test_bad_check_character(character: str) -> None:
    found = problem(VALID_IDS[0][:17] + character)
    assert found is not None and "第 18 位" in found and "数字或 X" in found


@pytest.mark.parametrize("position", range(17))
def test_every_single_digit_substitution_is_caught(position: int) -> None:
    number = VALID_IDS[1]
    for digit in "0123456789":
        if digit == number[position]:
            continue
        mutated = number[:position] + digit + number[position + 1 :]
        found = problem(mutated)
        assert found is not None, mutated
        if position >= 14:  # the sequence: only the check character can tell
            expected = reference_check(mutated[:17])
            assert found == f"身份证号校验位不正确：第 18 位应为 {expected}，实际为 {mutated[17]}"


@pytest.mark.parametrize("number", VALID_IDS)
def test_every_wrong_check_character(number: str) -> None:
    right = number[17]
    for wrong in "0123456789X":
        if wrong == right:
            continue
        found = problem(number[:17] + wrong)
        assert found == f"身份证号校验位不正确：第 18 位应为 {right}，实际为 {wrong}"


@pytest.mark.parametrize("position", range(14, 16))
def test_adjacent_transpositions_in_the_sequence_are_caught(position: int) -> None:
    number = make_id(sequence="127")
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    assert swapped != number
    assert "校验位" in (problem(swapped) or "")


@pytest.mark.parametrize("prefix", [f"{n:02d}" for n in range(100)])
def test_every_province_prefix(prefix: str) -> None:
    number = make_id(region=prefix + "0106")
    found = problem(number)
    if prefix in PROVINCE_CODES:
        assert found is None
    else:
        assert found is not None
        assert "地区码" in found and f"“{prefix}”不是有效的省级行政区划代码" in found


def test_province_codes_are_those_of_the_standard() -> None:
    expected = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    expected |= {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91}
    assert {int(code) for code in PROVINCE_CODES} == expected


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",
        "19900231",
        "19900431",
        "19901301",
        "19900001",
        "19900100",
        "20230229",
        "19000229",
        "19999999",
    ],
)
def test_impossible_birth_dates(birth: str) -> None:
    found = problem(make_id(birth=birth))
    assert found == f"身份证号第 7–14 位出生日期“{birth}”不是有效的日期"


def test_leap_days() -> None:
    assert problem(make_id(birth="20000229")) is None
    assert problem(make_id(birth="19960229")) is None


def test_future_birth_date() -> None:
    tomorrow = TODAY + timedelta(days=1)
    found = problem(make_id(birth=f"{tomorrow:%Y%m%d}"))
    assert found is not None and "晚于今天" in found and tomorrow.isoformat() in found
    assert problem(make_id(birth=f"{TODAY:%Y%m%d}")) is None


def test_birth_before_1900() -> None:
    found = problem(make_id(birth="18991231"))
    assert found is not None and "早于 1900 年" in found
    assert problem(make_id(birth="19000101")) is None


# --- parse_id_number and age ---


@pytest.mark.parametrize("digit", "0123456789")
def test_gender_from_the_17th_digit(digit: str) -> None:
    info = parse_id_number(make_id(sequence="12" + digit))
    assert info.gender == ("男" if int(digit) % 2 else "女")


def test_parse_id_number() -> None:
    assert parse_id_number("11010519491231002x") == IdInfo(
        region="110105", birth_date=date(1949, 12, 31), gender="女"
    )
    assert parse_id_number(make_id("330106", "19900115", "123")).region == "330106"


WRONG_CHECK = make_id()[:17] + ("1" if make_id()[17] != "1" else "2")


@pytest.mark.parametrize("bad", ["", "123", make_id(birth="19900230"), WRONG_CHECK])
def test_parse_id_number_refuses_invalid_numbers(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_id_number(bad)
    assert CHINESE.search(str(caught.value))


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (date(1990, 6, 1), date(2025, 6, 1), 35),
        (date(1990, 6, 2), date(2025, 6, 1), 34),
        (date(1990, 5, 31), date(2025, 6, 1), 35),
        (date(2000, 2, 29), date(2025, 2, 28), 24),
        (date(2000, 2, 29), date(2025, 3, 1), 25),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2025, 6, 1), date(2025, 6, 1), 0),
    ],
)
def test_age_on(birth: date, today: date, age: int) -> None:
    assert age_on(birth, today) == age


# --- mobile ---


@pytest.mark.parametrize(
    "mobile",
    [
        "13800001111",
        "19912345678",
        " 138 0000 1111 ",
        "138-0000-1111",
        "+8613800001111",
        "008613800001111",
        "１３８００００１１１１",
        "\u300013800001111\u3000",
    ],
)
def test_valid_mobiles(mobile: str) -> None:
    assert mobile_problem(mobile) is None


@pytest.mark.parametrize("second", "3456789")
def test_every_allowed_second_digit(second: str) -> None:
    assert mobile_problem(f"1{second}000001111") is None


@pytest.mark.parametrize("second", "012")
def test_refused_second_digits(second: str) -> None:
    assert mobile_problem(f"1{second}000001111") == f"手机号第 2 位应为 3–9，实际为 {second}"


@pytest.mark.parametrize("length", [1, 5, 10, 12, 13])
def test_mobile_wrong_length(length: int) -> None:
    assert mobile_problem(("13800001111" * 2)[:length]) == f"手机号应为 11 位数字，实际为 {length} 位"


@pytest.mark.parametrize("first", "023456789")
def test_mobile_must_start_with_1(first: str) -> None:
    assert mobile_problem(f"{first}3800001111") == f"手机号应以 1 开头，实际以 {first} 开头"


@pytest.mark.parametrize("position", range(11))
def test_mobile_letters_anywhere(position: int) -> None:
    number = "13800001111"
    found = mobile_problem(number[:position] + "a" + number[position + 1 :])
    assert found is not None and "只能包含数字" in found


def test_mobile_empty() -> None:
    assert mobile_problem("") == "手机号为空"
    assert mobile_problem("  ") == "手机号为空"
