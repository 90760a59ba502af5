"""The light diagonal watermark, drawn from the font's glyph outlines as vector paths.

Drawn as paths rather than text so that it never mixes into the receipt's text when a
reader copies, searches or extracts it, and so that it needs no extra font resource."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.drawing import DeviceRGB
from fpdf.enums import PathPaintRule

from shebao.receipts.fonts import CollectionFace

MM_PER_PT = 25.4 / 72
Point = tuple[float, float]


class _RecordingPen(BasePen):
    """Records an outline as move/line/cubic/close operations (quadratic curves are
    turned into cubic ones by ``BasePen``)."""

    def __init__(self, glyph_set: object) -> None:
        super().__init__(glyph_set)
        self.ops: list[tuple[str, tuple[Point, ...]]] = []

    def _moveTo(self, pt: Point) -> None:
        self.ops.append(("M", (pt,)))

    def _lineTo(self, pt: Point) -> None:
        self.ops.append(("L", (pt,)))

    def _curveToOne(self, pt1: Point, pt2: Point, pt3: Point) -> None:
        self.ops.append(("C", (pt1, pt2, pt3)))

    def _closePath(self) -> None:
        self.ops.append(("Z", ()))


@dataclass(frozen=True)
class Outline:
    """A line of text as outlines in font units (y up), with its total advance."""

    units_per_em: int
    advance: float
    ops: tuple[tuple[str, tuple[Point, ...]], ...]


@cache
def text_outline(face: CollectionFace, text: str) -> Outline:
    """The outlines of ``text`` set in ``face`` without kerning, cached per process."""
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    try:
        cmap = font.getBestCmap()
        glyph_set = font.getGlyphSet()
        ops: list[tuple[str, tuple[Point, ...]]] = []
        pen_x = 0.0
        for char in text:
            glyph = glyph_set[cmap[ord(char)]]
            pen = _RecordingPen(glyph_set)
            glyph.draw(pen)
            ops.extend((op, tuple((x + pen_x, y) for x, y in points)) for op, points in pen.ops)
            pen_x += glyph.width
        return Outline(units_per_em=font["head"].unitsPerEm, advance=pen_x, ops=tuple(ops))
    finally:
        font.close()


def draw_watermark(
    pdf: FPDF,
    face: CollectionFace,
    text: str,
    anchors: list[Point],
    *,
    size_pt: float,
    angle_deg: float,
    rgb: tuple[int, int, int],
    opacity: float,
) -> None:
    """Paint ``text`` once per anchor (the left end of its baseline, in mm), rotated
    ``angle_deg`` counter-clockwise, as one translucent filled path."""
    outline = text_outline(face, text)
    scale = size_pt * MM_PER_PT / outline.units_per_em
    cos, sin = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    with pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:
        path.style.fill_color = DeviceRGB(*(c / 255 for c in rgb))
        path.style.fill_opacity = opacity
        path.style.stroke_color = None
        for ax, ay in anchors:

            def place(point: Point, ax: float = ax, ay: float = ay) -> Point:
                # font units (y up) -> page mm (y down), rotated about the anchor
                lx, ly = point[0] * scale, -point[1] * scale
                return ax + lx * cos + ly * sin, ay - lx * sin + ly * cos

            for op, points in outline.ops:
                placed = [coord for point in points for coord in place(point)]
                if op == "M":
                    path.move_to(*placed)
                elif op == "L":
                    path.line_to(*placed)
                elif op == "C":
                    path.curve_to(*placed)
                else:
                    path.close()
