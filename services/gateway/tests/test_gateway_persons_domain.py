"""Pure rules of person accounts: ID-number check character, activation-code expiry and attempts, who may
ask for a code, masking, the demo data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from gateway.adapters.passwords import generate_activation_code
from gateway.demo import DEMO_INSTITUTIONS, DEMO_MARK, DEMO_REVIEWERS, institution, institutions_in
from gateway.domain.activation import (
    CODE_LENGTH,
    ActivationCode,
    CodeState,
    after_attempt,
    code_state,
    expiry,
    hours_valid,
    is_exhausted,
    is_expired,
    is_well_formed_code,
    normalize_code,
    remaining_attempts,
)
from gateway.domain.errors import InvalidIdNumber
from gateway.domain.persons import (
    Person,
    id_number_check_character,
    is_valid_id_number,
    mask_id_number,
    mask_mobile,
    may_issue_activation_code,
    validate_id_number,
)
from servicekit.auth import Identity, Role

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def reference_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 written the other way round: the character that makes the full sum ≡ 1 (mod 11)."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    for value, char in enumerate("0123456789X"):
        if (total + value) % 11 == 1:
            return char
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "number",
    ["11010519491231002X", "11010519491231002x", "440524188001010014", " 330102198001010018 "],
)
def test_valid_id_numbers(number: str) -> None:
    assert is_valid_id_number(number)
    assert validate_id_number(number) == number.strip().upper()


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("110105194912310021", "校验位"),
        ("440524188001010015", "校验位"),
        ("330106199005170015", "校验位"),
        ("11010519491231002", "18 位"),
        ("1101051949123100211", "18 位"),
        ("11010519491231X02X", "前 17 位"),
        ("１１０１０５１９４９１２３１００２X", "前 17 位"),  # full-width digits are not digits here
        ("", "18 位"),
    ],
)
def test_invalid_id_numbers(number: str, message: str) -> None:
    assert not is_valid_id_number(number)
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(number)
    assert caught.value.code == "invalid_id_number" and caught.value.status == 422
    assert message in caught.value.message


def test_check_character_agrees_with_mod_11_2() -> None:
    rng = random.Random(11643)
    for _ in range(2000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert id_number_check_character(first17) == reference_check_character(first17)
    with pytest.raises(ValueError):
        id_number_check_character("1234")


def test_every_remainder_maps_to_its_character() -> None:
    seen = {id_number_check_character(f"{n:017d}") for n in range(200)}
    assert seen == set("10X98765432")


def code(attempts: int = 0, ttl: int = 3600) -> ActivationCode:
    return ActivationCode("11010519491231002X", "$argon2id$x", NOW, expiry(NOW, ttl), attempts)


def test_code_expiry() -> None:
    c = code(ttl=72 * 3600)
    assert c.expires_at == NOW + timedelta(hours=72)
    assert not is_expired(c, NOW + timedelta(hours=71, minutes=59))
    assert is_expired(c, NOW + timedelta(hours=72))
    assert code_state(c, NOW, 5) is CodeState.USABLE
    assert code_state(c, NOW + timedelta(hours=73), 5) is CodeState.EXPIRED
    assert hours_valid(72 * 3600) == 72 and hours_valid(60) == 1


def test_code_attempts() -> None:
    c = code()
    for n in range(1, 5):
        c = after_attempt(c)
        assert c.attempts == n and remaining_attempts(c, 5) == 5 - n
        assert code_state(c, NOW, 5) is CodeState.USABLE
    c = after_attempt(c)
    assert is_exhausted(c, 5) and remaining_attempts(c, 5) == 0
    assert code_state(c, NOW, 5) is CodeState.EXHAUSTED
    # a guessed-at code stays void after it expired as well
    assert code_state(c, NOW + timedelta(days=10), 5) is CodeState.EXHAUSTED
    assert remaining_attempts(after_attempt(c), 5) == 0
    assert "argon2" not in repr(c)


def test_code_format() -> None:
    codes = {generate_activation_code() for _ in range(200)}
    assert len(codes) > 190
    assert all(len(c) == CODE_LENGTH and c.isdigit() for c in codes)
    assert normalize_code(" 1234-5678 ") == "12345678"
    assert is_well_formed_code("1234 5678") and not is_well_formed_code("1234567")
    assert not is_well_formed_code("1234567a")


PERSON = Person(
    "11010519491231002X",
    "张三",
    "13800001111",
    enterprise_ids=frozenset({"ent-1"}),
    institution_ids=frozenset({"inst-1"}),
)


@pytest.mark.parametrize(
    ("role", "org_id", "allowed"),
    [
        (Role.ADMIN, None, True),
        (Role.ENTERPRISE, "ent-1", True),
        (Role.ENTERPRISE, "ent-2", False),
        (Role.ENTERPRISE, None, False),
        (Role.INSTITUTION, "inst-1", True),
        (Role.INSTITUTION, "inst-2", False),
        (Role.INSTITUTION, "ent-1", False),  # an institution id, not an enterprise id, is what counts
        (Role.ENTERPRISE, "inst-1", False),
        (Role.REVIEWER, "ent-1", False),
        (Role.PERSON, "11010519491231002X", False),
    ],
)
def test_who_may_issue_a_code(role: Role, org_id: str | None, allowed: bool) -> None:
    assert may_issue_activation_code(Identity("acc", role, org_id), PERSON) is allowed


def test_masking() -> None:
    assert mask_mobile("13800001111") == "138****1111"
    assert mask_mobile("123") == "****"
    assert mask_id_number("11010519491231002x") == "110105********002X"


def test_demo_data_is_marked_and_consistent() -> None:
    assert len(DEMO_REVIEWERS) == 11 and len({r.city for r in DEMO_REVIEWERS}) == 11
    assert [i.id for i in DEMO_INSTITUTIONS] == ["demo-inst-yuren"] + [
        f"demo-inst-hz-{n}" for n in range(1, 9)
    ]
    assert all(i.name.endswith(DEMO_MARK) for i in DEMO_INSTITUTIONS)
    assert all(r.display_name.endswith(DEMO_MARK) for r in DEMO_REVIEWERS)
    assert institutions_in("杭州市") == institutions_in("杭州") == DEMO_INSTITUTIONS
    assert institutions_in("宁波") == ()
    hz8 = institution("demo-inst-hz-8")
    assert hz8 is not None and hz8.name == "杭州市示范培训机构八（演示数据）" and hz8.username == "demo-hz-8"
