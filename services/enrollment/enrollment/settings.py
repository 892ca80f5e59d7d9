"""Settings of the enrollment service (all from the environment)."""

from __future__ import annotations

from pydantic import Field
from servicekit.settings import ServiceSettings

from .adapters.archive import ArchiveLimits
from .adapters.photos import HeadPhotoRules


class EnrollmentSettings(ServiceSettings):
    service_name: str = Field(default="enrollment", validation_alias="SERVICE_NAME")
    max_sheet_bytes: int = Field(default=20 * 1024 * 1024, validation_alias="ENROLLMENT_MAX_SHEET_BYTES")
    max_zip_bytes: int = Field(default=500 * 1024 * 1024, validation_alias="ENROLLMENT_MAX_ZIP_BYTES")
    zip_max_entries: int = Field(default=6 * 5000, validation_alias="ENROLLMENT_ZIP_MAX_ENTRIES")
    # files a batch's zip may hold beyond six per applicant of the batch
    zip_entry_margin: int = Field(default=20, ge=0, validation_alias="ENROLLMENT_ZIP_ENTRY_MARGIN")
    zip_max_entry_bytes: int = Field(
        default=20 * 1024 * 1024, validation_alias="ENROLLMENT_ZIP_MAX_ENTRY_BYTES"
    )
    zip_max_ratio: float = Field(default=100.0, validation_alias="ENROLLMENT_ZIP_MAX_RATIO")
    photo_max_bytes: int = Field(default=80 * 1024, validation_alias="ENROLLMENT_PHOTO_MAX_BYTES")
    photo_width: int = Field(default=295, validation_alias="ENROLLMENT_PHOTO_WIDTH")
    photo_height: int = Field(default=413, validation_alias="ENROLLMENT_PHOTO_HEIGHT")
    photo_min_sharpness: float = Field(default=60.0, validation_alias="ENROLLMENT_PHOTO_MIN_SHARPNESS")
    photo_max_tilt_degrees: float = Field(default=8.0, validation_alias="ENROLLMENT_PHOTO_MAX_TILT_DEGREES")
    person_upload_max_bytes: int = Field(
        default=5 * 1024 * 1024, validation_alias="ENROLLMENT_PERSON_UPLOAD_MAX_BYTES"
    )
    # images (ID cards, the materials zip's documents) with more pixels are refused before decoding
    max_image_pixels: int = Field(default=40_000_000, ge=1, validation_alias="ENROLLMENT_MAX_IMAGE_PIXELS")
    document_url_seconds: int = Field(default=300, validation_alias="ENROLLMENT_DOCUMENT_URL_SECONDS")
    # the longest suspension of an institution the administrator may record, in days (inclusive period)
    sanction_max_days: int = Field(
        default=365, ge=1, le=3650, validation_alias="ENROLLMENT_SANCTION_MAX_DAYS"
    )

    def archive_limits(self) -> ArchiveLimits:
        return ArchiveLimits(
            max_entries=self.zip_max_entries,
            max_total_bytes=self.max_zip_bytes * 4,
            max_entry_bytes=self.zip_max_entry_bytes,
            max_ratio=self.zip_max_ratio,
            entry_margin=self.zip_entry_margin,
        )

    def photo_rules(self) -> HeadPhotoRules:
        return HeadPhotoRules(
            max_bytes=self.photo_max_bytes,
            width=self.photo_width,
            height=self.photo_height,
            min_sharpness=self.photo_min_sharpness,
            max_tilt_degrees=self.photo_max_tilt_degrees,
        )
