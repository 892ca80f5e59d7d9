"""Pure rules: password policy, lockout, account scope, proxy header filtering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from gateway.adapters.passwords import generate_password
from gateway.domain.accounts import (
    Account,
    AccountStatus,
    normalize_city,
    validate_account_scope,
    validate_username,
)
from gateway.domain.errors import InvalidAccountData, InvalidUsername, WeakPassword
from gateway.domain.http_headers import filter_request_headers, filter_response_headers, replace_header
from gateway.domain.lockout import (
    LockoutPolicy,
    LoginState,
    after_failure,
    after_success,
    is_locked,
    minutes_left,
)
from gateway.domain.passwords import ensure_strong_password, password_violations
from servicekit.auth import Role

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def rules(password: str, username: str = "") -> set[str]:
    return {v.rule for v in password_violations(password, username)}


@pytest.mark.parametrize(
    ("password", "username", "broken"),
    [
        ("Abcdef1234", "someone", {"too_guessable"}),  # a keyboard run and a sequence
        ("Jianshe2026!", "someone", set()),
        ("建设工程2025abc", "someone", set()),
        ("Ab1", "someone", {"min_length"}),
        ("abcdefghijk", "someone", {"letters_and_digits"}),
        ("12345678", "someone", {"min_length", "letters_and_digits", "not_common"}),
        ("111111", "someone", {"min_length", "letters_and_digits", "not_common"}),
        ("123456", "someone", {"min_length", "letters_and_digits", "not_common"}),
        ("password", "someone", {"min_length", "letters_and_digits", "not_common"}),
        ("Password1", "someone", {"min_length", "not_common"}),
        ("abcd1234", "someone", {"min_length", "not_common"}),
        ("Password2026", "someone", {"not_common"}),
        ("qwertyuiop1", "someone", {"not_common"}),
        ("woaini131420", "someone", {"not_common"}),
        ("aaaaaaaaa1", "someone", {"too_guessable"}),
        ("zhang20251", "ZHANG20251", {"not_username"}),
        (" Zhejiang2025", "someone", {"no_surrounding_spaces"}),
        ("A1" * 65, "someone", {"max_length"}),
    ],
)
def test_password_policy(password: str, username: str, broken: set[str]) -> None:
    assert rules(password, username) == broken


def test_weak_password_names_each_rule_in_chinese() -> None:
    with pytest.raises(WeakPassword) as caught:
        ensure_strong_password("111111", "root")
    error = caught.value
    assert error.code == "weak_password" and error.status == 422
    assert "长度至少 10 位" in error.message and "常见的弱密码" in error.message
    assert {v["rule"] for v in error.violations} == {"min_length", "letters_and_digits", "not_common"}


def test_new_password_must_differ_from_old() -> None:
    with pytest.raises(WeakPassword) as caught:
        ensure_strong_password("Zhejiang2025", "someone", old_password="Zhejiang2025")
    assert [v["rule"] for v in caught.value.violations] == ["not_previous"]


def test_generated_passwords_follow_the_policy() -> None:
    passwords = {generate_password(16, "root") for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) == 16 and not password_violations(p, "root") for p in passwords)


POLICY = LockoutPolicy(max_failures=5, lockout_seconds=900)


def test_lockout_after_consecutive_failures() -> None:
    state = LoginState()
    for expected in range(1, 5):
        state = after_failure(state, NOW, POLICY)
        assert state.failed_logins == expected and not is_locked(state, NOW)
    state = after_failure(state, NOW, POLICY)
    assert is_locked(state, NOW)
    assert state.locked_until == NOW + timedelta(seconds=900)
    assert minutes_left(state, NOW) == 15
    assert minutes_left(state, NOW + timedelta(seconds=14 * 60 + 1)) == 1


def test_failures_during_a_lock_do_not_extend_it() -> None:
    locked = LoginState(5, NOW + timedelta(minutes=15))
    assert after_failure(locked, NOW + timedelta(minutes=5), POLICY) == locked


def test_lock_expires_and_counting_starts_again() -> None:
    locked = LoginState(5, NOW + timedelta(minutes=15))
    later = NOW + timedelta(minutes=15)
    assert not is_locked(locked, later)
    state = after_failure(locked, later, POLICY)
    assert state == LoginState(1, None)


def test_success_resets_the_counter() -> None:
    state = LoginState()
    for _ in range(4):
        state = after_failure(state, NOW, POLICY)
    state = after_success(state)
    assert state == LoginState(0, None)
    for _ in range(4):  # four more failures after the success: still not locked
        state = after_failure(state, NOW, POLICY)
    assert state.failed_logins == 4 and not is_locked(state, NOW)


def test_disabled_account_is_locked_without_end() -> None:
    state = LoginState(0, None, disabled=True)
    assert is_locked(state, NOW) and minutes_left(state, NOW) is None


def test_account_status_follows_login_state() -> None:
    account = Account(
        id="a1",
        username="ent1",
        role=Role.ENTERPRISE,
        display_name="企业",
        password_hash="$argon2id$secret",
        created_at=NOW,
        password_changed_at=NOW,
    )
    locked = account.with_login_state(LoginState(5, NOW + timedelta(minutes=15)))
    assert locked.status is AccountStatus.LOCKED and not locked.login_state.disabled
    assert locked.with_login_state(LoginState()).status is AccountStatus.ACTIVE
    assert "argon2" not in repr(account)
    assert account.identity().role is Role.ENTERPRISE


def test_usernames_and_cities() -> None:
    assert validate_username("  Root ") == "root"
    for bad in ("ab", "-root", "张三", "a b c"):
        with pytest.raises(InvalidUsername):
            validate_username(bad)
    assert (
        normalize_city("杭州市") == "杭州"
        and normalize_city("丽水") == "丽水"
        and normalize_city(" ") is None
    )
    with pytest.raises(InvalidAccountData):
        normalize_city("上海")


def test_account_scope_rules() -> None:
    validate_account_scope(Role.REVIEWER, None, "杭州")
    validate_account_scope(Role.INSTITUTION, "inst-1", None)
    validate_account_scope(Role.ADMIN, None, None)
    with pytest.raises(InvalidAccountData, match="城市"):
        validate_account_scope(Role.REVIEWER, None, None)
    with pytest.raises(InvalidAccountData, match="机构"):
        validate_account_scope(Role.INSTITUTION, None, "杭州")
    with pytest.raises(InvalidAccountData):
        validate_account_scope(Role.PERSON, "330106199001011234", None)


def test_request_header_filtering() -> None:
    headers = [
        ("Host", "gateway.example"),
        ("Connection", "keep-alive, X-Private-Hop"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("TE", "trailers"),
        ("Upgrade", "h2c"),
        ("Proxy-Authorization", "Basic abc"),
        ("X-Private-Hop", "1"),
        ("Authorization", "Bearer token"),
        ("X-Identity-Role", "admin"),
        ("x-identity-account", "forged"),
        ("Content-Type", "application/json"),
        ("Cookie", "a=1"),
        ("X-Correlation-ID", "c-1"),
    ]
    assert filter_request_headers(headers) == [
        ("Authorization", "Bearer token"),
        ("Content-Type", "application/json"),
        ("Cookie", "a=1"),
        ("X-Correlation-ID", "c-1"),
    ]


def test_response_header_filtering_keeps_repeated_headers() -> None:
    headers = [
        ("content-type", "application/json"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("transfer-encoding", "chunked"),
        ("connection", "close"),
        ("x-upstream", "yes"),
    ]
    assert filter_response_headers(headers) == [
        ("content-type", "application/json"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("x-upstream", "yes"),
    ]


def test_replace_header() -> None:
    headers = [("x-correlation-id", "old"), ("X-Correlation-ID", "older"), ("a", "1")]
    assert replace_header(headers, "X-Correlation-ID", "new") == [("a", "1"), ("X-Correlation-ID", "new")]
    assert replace_header(headers, "a", None) == [("x-correlation-id", "old"), ("X-Correlation-ID", "older")]


# --- login throttle (per client and account, progressive, no lock) ------------------------------------------

from gateway.domain.http_headers import client_address  # noqa: E402
from gateway.domain.lockout import (  # noqa: E402
    Failures,
    ThrottlePolicy,
    ThrottleState,
    delay_after,
    retry_after_seconds,
    wait_seconds,
)

THROTTLE = ThrottlePolicy(
    free_failures=3, account_free_failures=10, max_delay_seconds=900, window_seconds=3600
)


def test_delay_doubles_after_the_free_failures_and_is_capped() -> None:
    assert [delay_after(n, 3, THROTTLE) for n in range(7)] == [0, 0, 0, 1, 2, 4, 8]
    assert delay_after(40, 3, THROTTLE) == 900


def test_a_pair_waits_after_its_failures_and_the_wait_ends_by_itself() -> None:
    state = ThrottleState(pair=Failures(5, NOW))
    assert wait_seconds(state, NOW, THROTTLE) == 4
    assert wait_seconds(state, NOW + timedelta(seconds=3), THROTTLE) == 1
    assert wait_seconds(state, NOW + timedelta(seconds=4), THROTTLE) == 0
    assert retry_after_seconds(0.2) == 1


def test_failures_elsewhere_hold_back_unknown_clients_only() -> None:
    account_hammered = Failures(30, NOW)
    stranger = ThrottleState(account=account_hammered, known_client=False)
    owner = ThrottleState(account=account_hammered, known_client=True)
    assert wait_seconds(stranger, NOW, THROTTLE) == 900
    assert wait_seconds(owner, NOW, THROTTLE) == 0


def test_failures_are_forgotten_after_the_window() -> None:
    old = Failures(12, NOW - timedelta(seconds=3601))
    assert old.current(NOW, THROTTLE) == Failures()
    assert old.after_failure(NOW, THROTTLE) == Failures(1, NOW)
    assert wait_seconds(ThrottleState(pair=old), NOW, THROTTLE) == 0


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = frozenset({"10.0.0.1"})
    assert client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    assert client_address("10.0.0.1", "1.2.3.4, 198.51.100.7", trusted) == "198.51.100.7"
    assert client_address("10.0.0.1", "198.51.100.7, 10.0.0.1", trusted) == "198.51.100.7"
    assert client_address("10.0.0.1", None, trusted) == "10.0.0.1"
    assert client_address(None, None, trusted) == "unknown"
