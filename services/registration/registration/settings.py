"""Settings of the registration service (all from the environment)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from servicekit.settings import ServiceSettings


class InstitutionChoice(BaseModel):
    id: str
    name: str


def _demo_institutions() -> dict[str, list[InstitutionChoice]]:
    """Hangzhou's city institutions that a Hangzhou enterprise may pick (demo data until configured)."""
    choices = [InstitutionChoice(id="demo-inst-yuren", name="浙江育人专修学院（演示数据）")]
    numerals = "一二三四五六七八"
    choices += [
        InstitutionChoice(id=f"demo-inst-hz-{i}", name=f"杭州市示范培训机构{numerals[i - 1]}（演示数据）")
        for i in range(1, 9)
    ]
    return {"杭州": choices}


DEFAULT_SCOPE_KEYWORDS = (
    "建筑",
    "施工",
    "工程",
    "建设",
    "装饰",
    "装修",
    "安装",
    "市政",
    "房屋",
    "土木",
    "土石方",
    "园林",
    "幕墙",
    "钢结构",
    "机电",
    "水利",
    "公路",
    "桥梁",
    "隧道",
    "防水",
    "地基",
    "基础",
    "劳务",
    "总承包",
    "专业承包",
)


class RegistrationSettings(ServiceSettings):
    service_name: str = Field(default="registration", validation_alias="SERVICE_NAME")
    # Training institutions an enterprise of a city may pick at registration (JSON: {"杭州": [{id, name}]}).
    city_institutions: dict[str, list[InstitutionChoice]] = Field(
        default_factory=_demo_institutions, validation_alias="REGISTRATION_CITY_INSTITUTIONS"
    )
    max_document_bytes: int = Field(
        default=10 * 1024 * 1024, validation_alias="REGISTRATION_MAX_DOCUMENT_BYTES"
    )
    max_image_pixels: int = Field(default=40_000_000, validation_alias="REGISTRATION_MAX_IMAGE_PIXELS")
    document_url_seconds: int = Field(default=300, validation_alias="REGISTRATION_DOCUMENT_URL_SECONDS")
    # Words whose presence marks a business scope as construction activity (the reviewer's hint).
    scope_keywords: tuple[str, ...] = Field(
        default=DEFAULT_SCOPE_KEYWORDS, validation_alias="REGISTRATION_SCOPE_KEYWORDS"
    )
