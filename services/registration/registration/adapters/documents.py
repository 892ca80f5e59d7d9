"""Decoding checks of uploaded documents: an image must decode (and not be a decompression bomb), a PDF must
be a complete PDF file. Pure checks of type and size are in the domain (`domain/documents.py`)."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from ..domain.documents import KINDS, DocumentProblem


def check_decodable(kind: str, data: bytes, content_type: str, *, max_pixels: int) -> DocumentProblem | None:
    label = KINDS[kind].label
    if content_type == "application/pdf":
        tail = data[-2048:]
        if b"%%EOF" not in tail:
            return DocumentProblem(kind, f"{label}：PDF 文件不完整或已损坏，请重新导出后上传", "corrupt_file")
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    return DocumentProblem(
                        kind, f"{label}：图片尺寸过大（{width}×{height}），请压缩后上传", "image_too_large"
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return DocumentProblem(kind, f"{label}：图片尺寸异常，疑似压缩炸弹，已拒绝", "image_too_large")
    except Exception:
        return DocumentProblem(kind, f"{label}：图片无法打开，文件可能已损坏", "corrupt_file")
    return None
