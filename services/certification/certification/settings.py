"""Settings of the certification service (all from the environment)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from servicekit.settings import ServiceSettings

from .domain.hours import HoursRules


class CertificationSettings(ServiceSettings):
    service_name: str = Field(default="certification", validation_alias="SERVICE_NAME")
    # Base64 of the 32-byte Ed25519 seed that signs the QR payloads. Required: `make run` generates it once
    # into .data/secrets.json; in production it comes from the secret store.
    signing_key: SecretStr = Field(default=SecretStr(""), validation_alias="CERTIFICATION_SIGNING_KEY")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", validation_alias="CERTIFICATION_PUBLIC_BASE_URL"
    )
    # the page the certificate's QR code opens (the web application's public 证书查验 page, which calls
    # GET /api/certification/verify?token=…); `/api/certification/verify` makes the QR open the API itself
    verify_page_path: str = Field(default="/verify", validation_alias="CERTIFICATION_VERIFY_PAGE_PATH")
    ce_hours_per_cycle: float = Field(default=32.0, validation_alias="CERTIFICATION_CE_HOURS_PER_CYCLE")
    ce_professional_hours: float = Field(default=22.0, validation_alias="CERTIFICATION_CE_PROFESSIONAL_HOURS")
    ce_lapse_hours_two_cycles: float = Field(
        default=64.0, validation_alias="CERTIFICATION_CE_LAPSE_HOURS_TWO_CYCLES"
    )
    ce_first_cycle_offset_years: int = Field(
        default=1, ge=0, validation_alias="CERTIFICATION_CE_FIRST_CYCLE_OFFSET_YEARS"
    )
    ce_min_record_hours: float = Field(default=0.5, validation_alias="CERTIFICATION_CE_MIN_RECORD_HOURS")
    ce_max_record_hours: float = Field(default=12.0, validation_alias="CERTIFICATION_CE_MAX_RECORD_HOURS")
    renewal_rule: Literal["either", "last_cycle", "last_12_months"] = Field(
        default="either", validation_alias="CERTIFICATION_RENEWAL_RULE"
    )
    renewal_hours: float = Field(default=32.0, validation_alias="CERTIFICATION_RENEWAL_HOURS")
    renewal_professional_hours: float = Field(
        default=22.0, validation_alias="CERTIFICATION_RENEWAL_PROFESSIONAL_HOURS"
    )
    renewal_window_months: int = Field(
        default=12, ge=1, validation_alias="CERTIFICATION_RENEWAL_WINDOW_MONTHS"
    )
    # retraining after a lapse (README: Certification): `training_plan` or `off`; the hours it takes (unset:
    # one cycle's CERTIFICATION_CE_HOURS_PER_CYCLE / CERTIFICATION_CE_PROFESSIONAL_HOURS)
    reinstatement_rule: Literal["training_plan", "off"] = Field(
        default="training_plan", validation_alias="CERTIFICATION_REINSTATEMENT_RULE"
    )
    reinstatement_hours: float | None = Field(
        default=None, validation_alias="CERTIFICATION_REINSTATEMENT_HOURS"
    )
    reinstatement_professional_hours: float | None = Field(
        default=None, validation_alias="CERTIFICATION_REINSTATEMENT_PROFESSIONAL_HOURS"
    )
    # a passed exam for a position the person holds a valid certificate for: `renew` the old one or `refuse`
    second_certificate: Literal["renew", "refuse"] = Field(
        default="renew", validation_alias="CERTIFICATION_SECOND_CERTIFICATE"
    )
    # tests only: a file holding seconds added to certification's clock (refused with PLATFORM_ENV=production)
    test_clock_offset_file: str | None = Field(
        default=None, validation_alias="CERTIFICATION_TEST_CLOCK_OFFSET_FILE"
    )
    lapse_check_seconds: float = Field(default=3600.0, validation_alias="CERTIFICATION_LAPSE_CHECK_SECONDS")
    max_sheet_bytes: int = Field(default=10 * 1024 * 1024, validation_alias="CERTIFICATION_MAX_SHEET_BYTES")
    max_sheet_rows: int = Field(default=5000, validation_alias="CERTIFICATION_MAX_SHEET_ROWS")

    def hours_rules(self) -> HoursRules:
        return HoursRules(
            hours_per_cycle=self.ce_hours_per_cycle,
            professional_hours_per_cycle=self.ce_professional_hours,
            lapse_hours_two_cycles=self.ce_lapse_hours_two_cycles,
            first_cycle_offset_years=self.ce_first_cycle_offset_years,
            min_record_hours=self.ce_min_record_hours,
            max_record_hours=self.ce_max_record_hours,
            renewal_rule=self.renewal_rule,
            renewal_hours=self.renewal_hours,
            renewal_professional_hours=self.renewal_professional_hours,
            renewal_window_months=self.renewal_window_months,
            reinstatement_rule=self.reinstatement_rule,
            reinstatement_hours=self.reinstatement_hours,
            reinstatement_professional_hours=self.reinstatement_professional_hours,
        )

    @model_validator(mode="after")
    def _no_test_clock_in_production(self) -> CertificationSettings:
        if self.test_clock_offset_file and self.environment == "production":
            raise ValueError(
                "CERTIFICATION_TEST_CLOCK_OFFSET_FILE is set with PLATFORM_ENV=production: the test clock is "
                "for the platform's integration tests only; unset it"
            )
        return self
