"""The receipt's QR code, drawn as vector rectangles so it prints sharp at any size."""

from __future__ import annotations

import segno
from fpdf import FPDF
from fpdf.drawing import DeviceGray
from fpdf.enums import PathPaintRule

QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks


def dark_runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The symbol for ``url`` (error correction M) as its width in modules and the
    horizontal runs of dark modules, each ``(row, first_column, length)``."""
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    runs: list[tuple[int, int, int]] = []
    for row_index, row in enumerate(qr.matrix):
        start: int | None = None
        for col, dark in enumerate([*row, 0]):  # the sentinel closes a run at the edge
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append((row_index, start, col - start))
                start = None
    return len(qr.matrix[0]), runs


def draw_qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """Draw the QR code for ``url`` in the square (x, y, size), quiet zone included:
    a white square first (so no watermark shows through), then one filled path."""
    width, runs = dark_runs(url)
    module = size / (width + 2 * QUIET_ZONE)
    origin_x = x + QUIET_ZONE * module
    origin_y = y + QUIET_ZONE * module
    with pdf.local_context(fill_color=255):
        pdf.rect(x, y, size, size, style="F")
    with pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:
        path.style.fill_color = DeviceGray(0)
        path.style.stroke_color = None
        for row, col, length in runs:
            path.rectangle(origin_x + col * module, origin_y + row * module, length * module, module)
