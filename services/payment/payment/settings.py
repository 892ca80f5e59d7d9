from __future__ import annotations

from pydantic import Field
from servicekit.settings import ServiceSettings


class PaymentSettings(ServiceSettings):
    service_name: str = Field(default="payment", validation_alias="SERVICE_NAME")
