"""One paging model for every list endpoint, and the bounded base for request bodies.

`skip` is bounded (a skip of 2^63 used to reach the database driver and fail with a 500): a list is read by
filters and pages, never by skipping hundreds of thousands of rows. `limit` is bounded by `MAX_LIMIT`; an
endpoint may choose a smaller default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

MAX_SKIP = 100_000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100

# The longest free text any request may carry (a reason, a remark, an address); fields with a natural bound
# (a name, a serial number, a code) declare a tighter `max_length` of their own.
MAX_TEXT_LENGTH = 2000


@dataclass(frozen=True)
class Page:
    """Where a list starts and how many rows it returns."""

    skip: int = 0
    limit: int = DEFAULT_LIMIT

    def apply(self, cursor: Any) -> Any:
        """Apply to a Motor/PyMongo cursor (after its sort)."""
        return cursor.skip(self.skip).limit(self.limit)


def page_params(
    skip: Annotated[
        int, Query(ge=0, le=MAX_SKIP, description=f"跳过的条数（0–{MAX_SKIP}）；更深的翻页请改用筛选条件")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"每页条数（1–{MAX_LIMIT}）")
    ] = DEFAULT_LIMIT,
) -> Page:
    return Page(skip=skip, limit=limit)


Paging = Annotated[Page, Depends(page_params)]
"""The dependency a list endpoint declares: `page: Paging`, then `page.apply(cursor)`."""


class BoundedModel(BaseModel):
    """Base for request bodies: every string at most `MAX_TEXT_LENGTH` characters (a field declares a tighter
    `max_length` where it has a natural bound: a name, a serial number, a code)."""

    model_config = ConfigDict(str_max_length=MAX_TEXT_LENGTH)
