"""structlog configuration: JSON lines, correlation ids, personal data masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)

# Personal data in log lines and in what the operators' commands print (servicekit.dlq, servicekit.rebuild):
#
# - resident ID numbers (GB 11643, 18 characters; the old 15-digit ones too) keep region (6) and last 4:
#   330102********1234;
# - any other run of 10 or more digits that starts like an ID number (a province code, 4 more region
#   digits, a birth year 18xx/19xx/20xx) is a cut-off or mangled ID number (error messages shorten long
#   values): only the region stays, 330102****…;
# - mainland mobile numbers (11 digits starting 13-19, also after +86/86) keep 3 + 4: 138****5678;
# - names (the value of a key such as `name`, `applicant_name`, `姓名`, in a dict or as `key: "value"` /
#   `key='value'` text) keep their first character: 张*, 欧阳** .
# Digits inside longer alphanumeric tokens (uuids, hashes) are left alone.
_PROVINCES = r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3]|91)"
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?\d{10,}[0-9Xx]?(?![0-9A-Za-z])")
_ID_PREFIX = re.compile(_PROVINCES + r"\d{4}(?:18|19|20)\d{2}")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
NAME_KEYS = frozenset(
    {
        "name",
        "applicant_name",
        "full_name",
        "real_name",
        "person_name",
        "holder_name",
        "student_name",
        "trainee_name",
        "candidate_name",
        "contact_name",
        "contact_person",
        "legal_representative",
        "payer_name",
        "姓名",
    }
)
_NAME_IN_TEXT = re.compile(
    r"""(?P<key>["']?\b(?:"""
    + "|".join(sorted((k for k in NAME_KEYS if k.isascii()), key=len, reverse=True))
    + r"""|姓名)["']?\s*[:=]\s*)(?P<quote>["']?)(?P<value>[^"',;}\]\s]{1,50})"""
)


def mask_name(name: str) -> str:
    """Keep a name's first character: 张三 → 张*, 欧阳娜娜 → 欧***."""
    name = name.strip()
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def _mask_digits(match: re.Match[str]) -> str:
    token = match.group(0)
    digits = re.sub(r"^\+?86[- ]?", "", token) if re.match(r"\+?86[- ]?1[3-9]\d{9}$", token) else token
    if len(digits) == 11 and _MOBILE.fullmatch(digits):
        return token[: len(token) - 11] + f"{digits[:3]}****{digits[-4:]}"
    if len(token) in (15, 18) and token[:-1].isdigit():
        return f"{token[:6]}{'*' * (len(token) - 10)}{token[-4:]}"
    if _ID_PREFIX.match(token):
        return token[:6] + "*" * (len(token) - 6)
    return token


def mask_personal_data(text: str) -> str:
    """Mask ID numbers (keep region and last 4; a cut-off one keeps its region only), mobile numbers (keep
    3 + 4) and names given as `name: value` in free text."""
    text = _DIGIT_RUN.sub(_mask_digits, text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return _NAME_IN_TEXT.sub(lambda m: m.group("key") + m.group("quote") + mask_name(m.group("value")), text)


def mask_value(value: Any, key: str | None = None) -> Any:
    """`mask_personal_data` through dicts, lists and tuples; a string under a name key (`NAME_KEYS`) is
    masked as a name."""
    if isinstance(value, str):
        if key is not None and key.lower() in NAME_KEYS:
            return mask_name(value)
        return mask_personal_data(value)
    if isinstance(value, dict):
        return {k: mask_value(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, key) for v in value]
    return value


_mask_value = mask_value


def _mask_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        event_dict[key] = mask_value(value, key)
    return event_dict


def _context_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    correlation_id = correlation_id_var.get()
    if correlation_id and "correlation_id" not in event_dict:
        event_dict["correlation_id"] = correlation_id
    return event_dict


def configure_logging(service: str, level: str = "INFO", json_output: bool = True) -> None:
    """Configure structlog (and the stdlib root logger) for one process."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _context_processor,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _mask_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(name)s %(message)s")


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
