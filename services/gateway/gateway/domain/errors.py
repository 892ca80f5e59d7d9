"""The gateway's refusals: stable codes, zh-CN messages."""

from __future__ import annotations

from typing import Any

from servicekit.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized


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


class InvalidIdNumber(DomainError):
    status = 422
    code = "invalid_id_number"


class PersonNotFound(NotFound):
    code = "person_not_found"

    def __init__(self) -> None:
        super().__init__(
            "尚未获知该身份证号的人员：学员须先由企业报名（导入报名名单），旧版证书持证人须先由培训机构或管理员"
            "录入其证书，之后才能激活账号；刚导入的名单或证书正在处理中，请稍后再试"
        )


class PersonAlreadyActive(Conflict):
    code = "person_already_active"

    def __init__(self) -> None:
        super().__init__("该身份证号的学员账号已经激活，请直接登录；忘记密码请联系报名的企业或培训机构")


class InvalidActivationCode(Unauthorized):
    code = "invalid_activation_code"

    def __init__(self, remaining_attempts: int | None = None) -> None:
        message = "身份证号或激活码不正确"
        if remaining_attempts is not None:
            message += f"，还可尝试 {remaining_attempts} 次"
        details = None if remaining_attempts is None else {"remaining_attempts": remaining_attempts}
        super().__init__(message, details=details)


class ActivationLocked(DomainError):
    status = 423
    code = "activation_locked"

    def __init__(self) -> None:
        super().__init__("激活码输错次数过多，已作废，请联系报名的企业或培训机构重新获取激活码")


class ActivationExpired(DomainError):
    status = 410
    code = "activation_expired"

    def __init__(self) -> None:
        super().__init__("激活码已过期，请联系报名的企业或培训机构重新获取激活码")


class NotPersonsOrganisation(Forbidden):
    code = "not_owner"

    def __init__(self, *, legacy_holder: bool = False) -> None:
        if legacy_holder:  # known (also) from an old-style certificate
            super().__init__(
                "只有录入该持证人旧版岗位证书的培训机构、为其报名的企业、其报名的培训机构或管理员才能为其生成激活码"
            )
        else:
            super().__init__("只有为该学员报名的企业、学员报名的培训机构或管理员才能为其生成激活码")


class LoginThrottled(DomainError):
    """Too many wrong passwords from this client for this account (or from unknown clients): wait."""

    status = 429
    code = "login_throttled"

    def __init__(self, retry_after: int) -> None:
        wait = f"{retry_after} 秒" if retry_after < 120 else f"{(retry_after + 59) // 60} 分钟"
        super().__init__(
            f"登录失败次数过多，请 {wait}后再试；忘记密码请联系管理员或报名的企业、培训机构",
            details={"retry_after": retry_after},
        )
        self.retry_after = retry_after
