"""The QR code the web application shows (SVG) holds the verification page's URL: its matrix decodes back to
the URL with OpenCV, and the SVG draws exactly the dark modules."""

from __future__ import annotations

import re

import numpy as np
import pytest
from certification.adapters.qr_image import qr_matrix, qr_svg
from certification.application.rendering import verify_url
from certification.settings import CertificationSettings

URL = "http://127.0.0.1:8000/verify?token=eyJuIjoiMzMyMDI2MDEwMDAwMTIzNiJ9.c2lnbmF0dXJl"


def raster(matrix: list[list[bool]], scale: int = 8, border: int = 4) -> np.ndarray:
    """The matrix as a grey image (dark modules black, quiet zone white)."""
    modules = np.array(matrix, dtype=bool)
    image = np.full((modules.shape[0] + 2 * border,) * 2, 255, dtype=np.uint8)
    image[border:-border, border:-border][modules] = 0
    return np.kron(image, np.ones((scale, scale), dtype=np.uint8))


def test_matrix_decodes_back_to_the_url() -> None:
    cv2 = pytest.importorskip("cv2")
    data, _, _ = cv2.QRCodeDetector().detectAndDecode(raster(qr_matrix(URL)))
    assert data == URL


def test_svg_draws_every_dark_module_and_nothing_else() -> None:
    matrix = qr_matrix(URL)
    svg = qr_svg(URL, border=4)
    size = len(matrix) + 8
    assert f'viewBox="0 0 {size} {size}"' in svg and svg.startswith("<svg")
    drawn: set[tuple[int, int]] = set()
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        drawn.update((int(y) - 4, int(x) - 4 + i) for i in range(int(width)))
    dark = {(r, c) for r, row in enumerate(matrix) for c, cell in enumerate(row) if cell}
    assert drawn == dark


def test_the_qr_opens_the_verification_page_by_default() -> None:
    settings = CertificationSettings(CERTIFICATION_PUBLIC_BASE_URL="https://cert.example.cn/")
    assert verify_url(settings, "a.b") == "https://cert.example.cn/verify?token=a.b"
    api = CertificationSettings(
        CERTIFICATION_PUBLIC_BASE_URL="https://cert.example.cn",
        CERTIFICATION_VERIFY_PAGE_PATH="api/certification/verify/",
    )
    assert verify_url(api, "a+b") == "https://cert.example.cn/api/certification/verify?token=a%2Bb"
