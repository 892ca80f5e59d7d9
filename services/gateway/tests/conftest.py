"""Fixtures of the gateway tests: settings pointed at the test stack, with a database of their own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gateway.settings import GatewaySettings
from servicekit.settings import ServiceSettings
from servicekit.testing import unique_name


@pytest.fixture
def gateway_settings(make_settings: Callable[..., ServiceSettings]) -> Callable[..., GatewaySettings]:
    def make(**overrides: object) -> GatewaySettings:
        values = make_settings(unique_name("gateway")).model_dump()
        values.update(overrides)
        return GatewaySettings(**values)

    return make
