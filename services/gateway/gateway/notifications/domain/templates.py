"""Message templates: one per kind, an inbox title and body and a short SMS text, with `{placeholders}`.

The defaults live in `templates.toml` beside this package; an operator's file (NOTIFY_TEMPLATES_FILE) may
replace any part of any kind. Every placeholder is checked when the service starts (`parse_templates`): an
unknown kind, an unknown placeholder or a malformed text is refused with a message naming the template, so a
typo never reaches a person as a broken message.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "templates.toml"

# The placeholders each kind's templates may use (the values `rules.plan` gives).
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "registration_approved": frozenset({"enterprise_name"}),
    "registration_rejected": frozenset({"enterprise_name", "reason"}),
    "applicant_qualified": frozenset({"name", "position", "enterprise_name"}),
    "applicant_rejected": frozenset({"applicant_id", "reason", "enterprise_name"}),
    "voucher_confirmed": frozenset({"order_number", "amount", "applicant_count", "enterprise_name"}),
    "voucher_rejected": frozenset({"reason", "enterprise_name"}),
    "training_planned": frozenset(
        {"name", "starts_on", "ends_on", "place", "training_mode", "enterprise_name"}
    ),
    "exam_scheduled": frozenset({"name", "position", "starts_at", "room", "address", "seat", "bring"}),
    "exam_passed": frozenset({"name", "position", "score", "pass_mark", "enterprise_name"}),
    "exam_failed": frozenset({"name", "position", "score", "pass_mark", "enterprise_name"}),
    "certificate_issued": frozenset({"name", "position", "certificate_number", "issued_on"}),
    "ce_reminder": frozenset(
        {"name", "position", "certificate_number", "cycle_ends_on", "hours", "required_hours", "days_before"}
    ),
    "person_blacklisted": frozenset({"name", "until", "reason"}),
    "certificate_revoked": frozenset({"certificate_number", "reason"}),
}
KINDS = frozenset(PLACEHOLDERS)
PARTS = ("title", "body", "sms")
SMS_SEGMENT_CHARS = 70  # one SMS segment of Chinese text (UCS-2); longer texts go as several segments


class TemplateError(ValueError):
    """A template set that cannot be used (the message names the template and what is wrong)."""


@dataclass(frozen=True)
class Template:
    title: str
    body: str
    sms: str


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    sms: str


def placeholders_of(text: str, where: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"通知模板 {where} 格式错误：{exc}") from exc
    names: set[str] = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"通知模板 {where} 的占位符 {{{name}}} 不合法（只允许 {{名称}}）")
        names.add(name)
    return names


def parse_templates(
    defaults: Mapping[str, object], overrides: Mapping[str, object] | None = None
) -> dict[str, Template]:
    """The templates of every kind: `defaults` (all kinds, all parts) with `overrides` laid over them, each
    placeholder checked against the kind's (raises TemplateError naming the template)."""
    merged: dict[str, dict[str, str]] = {}
    for source, table in (("默认模板", defaults), ("NOTIFY_TEMPLATES_FILE", overrides or {})):
        for kind, parts in table.items():
            if kind not in KINDS:
                raise TemplateError(f"{source} 中的通知模板 {kind} 不是已知的消息类型")
            if not isinstance(parts, Mapping):
                raise TemplateError(f"{source} 中的通知模板 {kind} 应为表（title、body、sms）")
            for part, text in parts.items():
                if part not in PARTS:
                    raise TemplateError(f"通知模板 {kind}.{part} 不是已知部分（只有 title、body、sms）")
                if not isinstance(text, str) or not text.strip():
                    raise TemplateError(f"通知模板 {kind}.{part} 应为非空文本")
                merged.setdefault(kind, {})[part] = text
    templates: dict[str, Template] = {}
    for kind in sorted(KINDS):
        parts = merged.get(kind, {})
        for part in PARTS:
            if part not in parts:
                raise TemplateError(f"通知模板 {kind}.{part} 缺失")
            unknown = placeholders_of(parts[part], f"{kind}.{part}") - PLACEHOLDERS[kind]
            if unknown:
                names = "、".join(f"{{{n}}}" for n in sorted(unknown))
                allowed = "、".join(f"{{{n}}}" for n in sorted(PLACEHOLDERS[kind]))
                raise TemplateError(f"通知模板 {kind}.{part} 使用了未知占位符 {names}（可用：{allowed}）")
        templates[kind] = Template(title=parts["title"], body=parts["body"], sms=parts["sms"])
    return templates


def load_templates(defaults_text: str, overrides_text: str | None = None) -> dict[str, Template]:
    """Templates from TOML texts (the package's defaults, maybe an operator's file)."""
    try:
        defaults = tomllib.loads(defaults_text)
        overrides = tomllib.loads(overrides_text) if overrides_text is not None else None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"通知模板文件不是合法的 TOML：{exc}") from exc
    return parse_templates(defaults, overrides)


def render(template: Template, values: Mapping[str, str]) -> Rendered:
    """The texts with `values` in place (a value the kind has but the event lacked renders empty)."""
    filled = _Values(values)
    return Rendered(
        title=string.Formatter().vformat(template.title, (), filled),
        body=string.Formatter().vformat(template.body, (), filled),
        sms=string.Formatter().vformat(template.sms, (), filled),
    )


def sms_segments(text: str) -> int:
    """How many SMS segments a text takes (70 characters for one, 67 each when split)."""
    if len(text) <= SMS_SEGMENT_CHARS:
        return 1
    return -(-len(text) // 67)


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""
