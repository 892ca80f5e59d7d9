"""The certificate's QR code as an SVG image for the web application (the same code the PDF carries): the
module matrix from reportlab's encoder, drawn as one path of dark squares with a quiet zone."""

from __future__ import annotations

from reportlab.graphics.barcode import qrencoder


def qr_matrix(text: str, level: str = "M") -> list[list[bool]]:
    """The QR code's modules (True = dark), rows top to bottom; the smallest version that holds `text`."""
    code = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    code.addData(text)
    code.make()
    return [[bool(cell) for cell in row] for row in code.modules]


def qr_svg(text: str, border: int = 4, level: str = "M") -> str:
    """A square SVG (viewBox in modules, `border` modules of white around) that scales to any size."""
    matrix = qr_matrix(text, level)
    size = len(matrix) + 2 * border
    runs: list[str] = []
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            runs.append(f"M{start + border} {r + border}h{c - start}v1h-{c - start}z")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="证书查验二维码">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )
