"""Small real files for the document tests, made on the fly (no fixtures on disk)."""

from __future__ import annotations

import io

from PIL import Image


def jpeg(size: tuple[int, int] = (60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, "JPEG")
    return out.getvalue()


def png(size: tuple[int, int] = (60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()
