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
        # Every gateway app runs the `persons` consumer; Tansu answers a group join after half the session
        # timeout, and an app stopped while its consumer joins waits for that: keep it short in the tests.
        values = make_settings(unique_name("gateway"), kafka_session_timeout_ms=2000).model_dump()
        values.update(overrides)
        return GatewaySettings(**values)

    return make
