from __future__ import annotations

from pydantic import Field
from servicekit.settings import ServiceSettings


class ExamSettings(ServiceSettings):
    service_name: str = Field(default="exam", validation_alias="SERVICE_NAME")
    exam_full_marks: int = Field(default=100, validation_alias="EXAM_FULL_MARKS")
    exam_pass_mark: int = Field(default=60, validation_alias="EXAM_PASS_MARK")
