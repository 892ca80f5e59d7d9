from __future__ import annotations

from datetime import date, datetime

import pytest
from certification.adapters import spreadsheet
from certification.domain import sheets
from certification.settings import CertificationSettings
from servicekit.errors import DomainError


def test_templates_have_the_columns_the_validation_expects() -> None:
    header, rows = spreadsheet.read_rows(spreadsheet.hours_template(), max_rows=10)
    assert tuple(header) == sheets.HOURS_COLUMNS and len(rows) == 1
    header, _ = spreadsheet.read_rows(spreadsheet.legacy_template(), max_rows=10)
    assert tuple(header) == sheets.LEGACY_COLUMNS


def test_read_rows_keeps_row_numbers_and_refuses_what_is_not_a_workbook() -> None:
    data = spreadsheet.workbook(
        ["a", "b"], [["x", datetime(2026, 3, 1)], [None, None], ["y", 2.5], [None, None]]
    )
    header, rows = spreadsheet.read_rows(data, max_rows=10)
    assert header == ["a", "b"] and len(rows) == 3  # the blank row inside is kept, trailing ones dropped
    assert sheets.parse_date(rows[0][1]) == date(2026, 3, 1)
    assert sheets.parse_date("2026年3月2日") == date(2026, 3, 2) and sheets.parse_date("2026-02-30") is None
    with pytest.raises(DomainError) as too_many:
        spreadsheet.read_rows(data, max_rows=1)
    assert too_many.value.code == "too_many_rows"
    with pytest.raises(DomainError) as not_xlsx:
        spreadsheet.read_rows(b"%PDF-1.4 not a workbook", max_rows=10)
    assert not_xlsx.value.code == "not_xlsx"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CERTIFICATION_CE_HOURS_PER_CYCLE", "40")
    monkeypatch.setenv("CERTIFICATION_CE_LAPSE_HOURS_TWO_CYCLES", "70")
    monkeypatch.setenv("CERTIFICATION_RENEWAL_RULE", "last_cycle")
    monkeypatch.setenv("CERTIFICATION_SIGNING_KEY", "c2VlZA==")
    settings = CertificationSettings()
    rules = settings.hours_rules()
    assert (rules.hours_per_cycle, rules.lapse_hours_two_cycles, rules.renewal_rule) == (40, 70, "last_cycle")
    assert rules.professional_hours_per_cycle == 22 and settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.signing_key.get_secret_value() == "c2VlZA==" and "c2VlZA" not in repr(settings)
