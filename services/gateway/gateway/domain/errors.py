"""The gateway's refusals: stable codes, zh-CN messages."""

from __future__ import annotations

from typing import Any

from servicekit.errors import Conflict, DomainError, Forbidden, Unauthorized


class UsernameTaken(Conflict):
    code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(f"用户名“{username}”已被使用，请换一个")


class InvalidUsername(DomainError):
    status = 422
    code = "invalid_username"


class WeakPassword(DomainError):
    """The password breaks one or more rules of the policy; `details` names each broken rule."""

    status = 422
    code = "weak_password"

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        text = "；".join(v["message"] for v in violations)
        super().__init__(f"密码不符合要求：{text}", details=violations)
        self.violations = violations


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("用户名或密码不正确")


class WrongPassword(Forbidden):
    code = "wrong_password"

    def __init__(self) -> None:
        super().__init__("原密码不正确")


class AccountLocked(DomainError):
    status = 423
    code = "account_locked"

    def __init__(self, minutes_left: int | None, locked_until_iso: str | None) -> None:
        if minutes_left is None:
            message = "账号已被停用，请联系管理员"
        else:
            message = f"连续登录失败次数过多，账号已被锁定，请 {minutes_left} 分钟后再试"
        super().__init__(message, details={"minutes_left": minutes_left, "locked_until": locked_until_iso})
        self.minutes_left = minutes_left


class InvalidAccountData(DomainError):
    status = 422
    code = "invalid_account"


class TokenRevoked(Unauthorized):
    code = "token_revoked"

    def __init__(self, message: str = "登录凭证已失效，请重新登录") -> None:
        super().__init__(message)
