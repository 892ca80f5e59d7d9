"""Login lockout rule (pure): consecutive failures lock an account for a while; a success resets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lockout_seconds: int = 900


@dataclass(frozen=True)
class LoginState:
    """What the lockout rule needs to know. `disabled` is a lock without end (`locked_until=None`)."""

    failed_logins: int = 0
    locked_until: datetime | None = None
    disabled: bool = False


def is_locked(state: LoginState, now: datetime) -> bool:
    if state.disabled:
        return True
    return state.locked_until is not None and now < state.locked_until


def minutes_left(state: LoginState, now: datetime) -> int | None:
    """Whole minutes (rounded up, at least 1) until the lock ends; None when the lock is permanent."""
    if state.disabled or state.locked_until is None:
        return None
    seconds = (state.locked_until - now).total_seconds()
    return max(1, math.ceil(seconds / 60))


def after_failure(state: LoginState, now: datetime, policy: LockoutPolicy) -> LoginState:
    """The state after a wrong password. A lock in force is not extended; an expired one starts afresh."""
    if is_locked(state, now):
        return state
    failures = state.failed_logins
    if state.locked_until is not None:  # a past lock: the count starts again
        failures = 0
    failures += 1
    if failures >= policy.max_failures:
        return LoginState(failures, now + timedelta(seconds=policy.lockout_seconds), state.disabled)
    return LoginState(failures, None, state.disabled)


def after_success(state: LoginState) -> LoginState:
    return LoginState(0, None, state.disabled)


# --- login throttling (what login uses): a progressive delay per client and account ----------------------
#
# A wrong password from a client counts against the pair (client, username); after `free_failures` of them
# the pair must wait before its next attempt, twice as long after each further failure, at most
# `max_delay_seconds`. Failures from clients the account does not know (no successful login from there in
# `known_client_days`) also count against the username as a whole: past `account_free_failures` every
# unknown client waits too (many clients guessing one password). A client the account logged in from before
# is never held back by failures elsewhere: an attacker cannot lock the owner out. Nothing is locked: a wait
# ends by itself, and failures are forgotten `window_seconds` after the last one.


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3
    account_free_failures: int = 10
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 900.0
    window_seconds: int = 3600
    known_client_days: int = 30


@dataclass(frozen=True)
class Failures:
    count: int = 0
    last_at: datetime | None = None

    def current(self, now: datetime, policy: ThrottlePolicy) -> Failures:
        """These failures as counted now (forgotten `window_seconds` after the last one)."""
        if self.last_at is None or (now - self.last_at).total_seconds() > policy.window_seconds:
            return Failures()
        return self

    def after_failure(self, now: datetime, policy: ThrottlePolicy) -> Failures:
        return Failures(self.current(now, policy).count + 1, now)


@dataclass(frozen=True)
class ThrottleState:
    """Failures of the pair (client, username), failures of the username from unknown clients, and whether
    the client is known to the account."""

    pair: Failures = Failures()
    account: Failures = Failures()
    known_client: bool = False


def delay_after(failures: int, free: int, policy: ThrottlePolicy) -> float:
    """Seconds to wait after the last of `failures` failures (0 while within the free ones)."""
    if failures < free:
        return 0.0
    exponent = min(failures - free, 30)
    return float(min(policy.max_delay_seconds, policy.base_delay_seconds * 2**exponent))


def _remaining(failures: Failures, free: int, now: datetime, policy: ThrottlePolicy) -> float:
    current = failures.current(now, policy)
    if current.last_at is None:
        return 0.0
    waited = (now - current.last_at).total_seconds()
    return max(0.0, delay_after(current.count, free, policy) - waited)


def wait_seconds(state: ThrottleState, now: datetime, policy: ThrottlePolicy) -> float:
    """How long this client must wait before it may try a password for this username (0: now)."""
    wait = _remaining(state.pair, policy.free_failures, now, policy)
    if not state.known_client:
        wait = max(wait, _remaining(state.account, policy.account_free_failures, now, policy))
    return wait


def retry_after_seconds(wait: float) -> int:
    """The `Retry-After` value: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait))
