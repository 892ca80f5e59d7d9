"""Decoding checks of uploaded documents (servicekit.documents: an image decodes completely and is not a
decompression bomb, a PDF is a complete PDF file). Pure checks of type and size are in the domain
(`domain/documents.py`)."""

from __future__ import annotations

from servicekit import documents

from ..domain.documents import KINDS, DocumentProblem


def check_decodable(kind: str, data: bytes, content_type: str, *, max_pixels: int) -> DocumentProblem | None:
    label = KINDS[kind].label
    if content_type == "application/pdf":
        found = documents.pdf_problem(data, label=label)
    else:
        found = documents.image_problem(data, label=label, max_pixels=max_pixels)
    return DocumentProblem(kind, found.message, found.code) if found else None
