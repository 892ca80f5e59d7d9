"""Domain errors with a stable code and a Chinese message, rendered as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused a command. `code` is stable; `message` is for the user (zh-CN)."""

    status: int = 422
    code: str = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:zj-cert:error:{self.code}",
            "title": self.message,
            "status": self.status,
            "code": self.code,
            "detail": self.message,
        }
        if self.details is not None:
            body["errors"] = self.details
        return body


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ConcurrencyConflict(Conflict):
    """The stream moved on since it was read: the command may be retried on fresh state."""

    code = "concurrency_conflict"

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        super().__init__(
            f"数据已被他人修改（记录 {stream_id} 期望版本 {expected}，当前版本 {actual}），请刷新后重试",
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
