from __future__ import annotations

from pydantic import Field, model_validator
from servicekit.settings import ServiceSettings


class PaymentSettings(ServiceSettings):
    service_name: str = Field(default="payment", validation_alias="SERVICE_NAME")
    # The sandbox payment provider (a development adapter: its cashier pays without moving money). Off
    # unless PAYMENT_SANDBOX=1; `make run` and the integration tests turn it on; refused with
    # PLATFORM_ENV=production. Off, online payment answers 503 and the sandbox's routes do not exist.
    # See docs/payments.md.
    payment_sandbox: bool = Field(default=False, validation_alias="PAYMENT_SANDBOX")

    @model_validator(mode="after")
    def _no_sandbox_in_production(self) -> PaymentSettings:
        if self.payment_sandbox and self.environment == "production":
            raise ValueError(
                "PAYMENT_SANDBOX is on with PLATFORM_ENV=production: the sandbox payment provider marks "
                "orders paid without any money moving and is for development only; unset PAYMENT_SANDBOX "
                "and plug in a real provider (docs/payments.md)"
            )
        return self
