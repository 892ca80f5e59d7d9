"""The notifications' settings (environment NOTIFY_*), apart from the gateway's own."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.templates import DEFAULTS_FILE, Template, TemplateError, load_templates

SMS_PROVIDERS = ("local",)
DEFAULT_EXAM_BRING = "本人身份证原件、准考信息、黑色签字笔"


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # The SMS adapter: `local` (append to NOTIFY_SMS_FILE and keep in the `notifications` collection) is the
    # only one built; another provider is refused at start until its adapter exists.
    sms_provider: str = Field(default="local", validation_alias="NOTIFY_SMS_PROVIDER")
    # Where the local adapter appends each SMS as one JSON line (the launcher sets
    # <data dir>/sms-outbox.jsonl; an app started otherwise writes to the system's temporary directory).
    sms_file: Path = Field(
        default=Path(tempfile.gettempdir()) / "platform-sms-outbox.jsonl", validation_alias="NOTIFY_SMS_FILE"
    )
    # A TOML file of templates laid over the defaults (templates.toml in the package).
    templates_file: Path | None = Field(default=None, validation_alias="NOTIFY_TEMPLATES_FILE")
    # What a candidate is told to bring to the exam ({bring} of the exam_scheduled templates).
    exam_bring: str = Field(default=DEFAULT_EXAM_BRING, min_length=1, validation_alias="NOTIFY_EXAM_BRING")
    # Events older than this tell nobody (a first start on a platform with a history reads the topics from
    # their beginning: old events only fill the lookups).
    max_event_age_hours: float = Field(default=72.0, gt=0, validation_alias="NOTIFY_MAX_EVENT_AGE_HOURS")
    # How often the SMS dispatcher looks for messages to send (it is also woken by the consumer).
    dispatch_seconds: float = Field(default=1.0, gt=0, validation_alias="NOTIFY_DISPATCH_SECONDS")

    def check_provider(self) -> None:
        if self.sms_provider not in SMS_PROVIDERS:
            raise ValueError(
                f"NOTIFY_SMS_PROVIDER={self.sms_provider!r}: no adapter for this SMS provider exists yet "
                f"(available: {', '.join(SMS_PROVIDERS)}); see docs/notifications.md, 'The SMS port'"
            )

    def templates(self) -> dict[str, Template]:
        """The checked templates (raises TemplateError naming the template that is wrong)."""
        overrides = None
        if self.templates_file is not None:
            try:
                overrides = self.templates_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise TemplateError(f"NOTIFY_TEMPLATES_FILE={self.templates_file} 无法读取：{exc}") from exc
        return load_templates(DEFAULTS_FILE.read_text(encoding="utf-8"), overrides)
