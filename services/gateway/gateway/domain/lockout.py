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
