"""Every text of every event has a length limit, enforced on new events and tolerated on stored ones."""

from __future__ import annotations

import contextlib
import importlib
from datetime import date
from typing import Any

import pytest
from events import DomainEvent, registry
from events.compat import schema_of
from events.enrollment import ApplicantQualified, ApplicantsImported, ImportedApplicant
from events.payment import VoucherUploaded
from pydantic import ValidationError

# The services' internal events too, where the workspace has them installed.
for _module in ("enrollment.domain.events", "exam.domain.events", "payment.domain.events"):
    with contextlib.suppress(ImportError):  # a partial installation
        importlib.import_module(_module)

MODELS = [m for m in registry.all_models() if not m.__module__.startswith(("kit_", "test"))]


def _strings_without_limit(schema: dict[str, Any], root: dict[str, Any], path: str) -> list[str]:
    found: list[str] = []
    plain = not {"format", "enum", "const", "maxLength"} & schema.keys()
    if schema.get("type") == "string" and plain:
        found.append(path or "(root)")
    for key in ("properties", "$defs"):
        for name, sub in (schema.get(key) or {}).items():
            found += _strings_without_limit(sub, root, f"{path}.{name}" if path else name)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _strings_without_limit(schema[key], root, f"{path}[]")
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or []:
            found += _strings_without_limit(sub, root, path)
    return found


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type_name())
def test_every_text_field_has_a_maximum_length(model: type[DomainEvent]) -> None:
    schema = schema_of(model)
    assert _strings_without_limit(schema, schema, "") == []


def _qualified(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "applicant_id": "app-1",
        "batch_id": "batch-1",
        "enterprise_id": "ent-1",
        "institution_id": "inst-1",
        "id_number": "330102199001011234",
        "name": "张三",
        "position": "施工员",
        "training_mode": "offline",
    }
    return data | overrides


def test_natural_limits_refuse_absurd_texts_in_new_events() -> None:
    with pytest.raises(ValidationError, match="at most 50 characters"):
        ApplicantQualified(**_qualified(name="张" * 50_000))
    with pytest.raises(ValidationError, match="at most 18 characters"):
        ApplicantQualified(**_qualified(id_number="3" * 19))
    with pytest.raises(ValidationError, match="at most 20 characters"):
        ImportedApplicant(applicant_id="a", name="李四", gender="男", id_number="1", mobile="1" * 21)
    with pytest.raises(ValidationError, match="at most 64 characters"):
        VoucherUploaded(
            order_id="o",
            enterprise_id="e",
            institution_id="i",
            voucher_id="v",
            object_key="k",
            content_type="image/png",
            payer_name="杭州建工有限公司",
            amount_fen=100,
            paid_on=date(2024, 5, 6),
            bank_serial="9" * 100_000,
        )

    class FreeText(DomainEvent):  # not registered: any event's plain `str` field
        text: str

    with pytest.raises(ValidationError, match="at most 4000 characters"):
        FreeText(text="x" * 4001)
    assert FreeText(text="x" * 4000).text == "x" * 4000


def test_stored_events_longer_than_today_s_limits_are_still_read_whole() -> None:
    legacy = _qualified(name="张" * 50_000, reviewer_id="r" * 5000)
    event = registry.decode(ApplicantQualified.type_name(), legacy)
    assert isinstance(event, ApplicantQualified)
    assert event.name == "张" * 50_000 and event.reviewer_id == "r" * 5000
    assert event.model_dump()["name"] == legacy["name"]
    nested = {
        "batch_id": "b",
        "enterprise_id": "e",
        "institution_id": "i",
        "position": "施工员",
        "training_mode": "offline",
        "applicants": [{"applicant_id": "a", "name": "赵" * 60, "gender": "男", "id_number": "1"}],
    }
    imported = registry.decode(ApplicantsImported.type_name(), nested)
    assert isinstance(imported, ApplicantsImported) and imported.applicants[0].name == "赵" * 60


def test_reading_still_refuses_what_is_wrong_for_other_reasons() -> None:
    with pytest.raises(ValidationError):
        registry.decode(
            ApplicantQualified.type_name(), _qualified(name="张" * 60, continuing_education="maybe")
        )
    with pytest.raises(ValidationError):
        registry.decode(
            ApplicantQualified.type_name(), {k: v for k, v in _qualified().items() if k != "name"}
        )
