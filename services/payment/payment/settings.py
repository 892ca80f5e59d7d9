from __future__ import annotations

from pydantic import Field
from servicekit.settings import ServiceSettings


class PaymentSettings(ServiceSettings):
    service_name: str = Field(default="payment", validation_alias="SERVICE_NAME")
    # Fee per applicant in fen by "position:mode", "*:mode" or "*". Until institutions publish their offers
    # (enrollment issue), this table stands in for them; set PAYMENT_FEES as JSON to change it.
    payment_fees: dict[str, int] = Field(
        default_factory=lambda: {"*:online": 60000, "*:offline": 90000}, validation_alias="PAYMENT_FEES"
    )
