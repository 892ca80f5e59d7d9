from __future__ import annotations

import pytest
from payment.settings import PaymentSettings
from pydantic import ValidationError


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PAYMENT_SANDBOX", "PLATFORM_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_the_sandbox_is_off_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PaymentSettings().payment_sandbox is False
    monkeypatch.setenv("PAYMENT_SANDBOX", "1")
    assert PaymentSettings().payment_sandbox is True


def test_the_sandbox_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_ENV", "production")
    assert PaymentSettings().payment_sandbox is False  # production without the sandbox starts
    monkeypatch.setenv("PAYMENT_SANDBOX", "1")
    with pytest.raises(ValidationError) as refused:
        PaymentSettings()
    assert "PAYMENT_SANDBOX" in str(refused.value) and "PLATFORM_ENV=production" in str(refused.value)
