"""A printed form as a list of drawing primitives in millimetres, and two renderers for it.

The same primitives become the blank reference PNG (Pillow, any dpi) and the vector page of a born-digital PDF
(reportlab), so the image, the PDF and the template's ``box_mm`` all come from one layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from PIL import Image, ImageDraw

from samples.forms import fonts


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    line_mm: float = 0.25
    fill: int | None = None      # grey level 0–255 of the fill; None = not filled
    stroke: bool = True


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    line_mm: float = 0.25
    dashed: bool = False


@dataclass(frozen=True)
class Text:
    """Printed text; (x, y) is the anchor point: ``anchor`` 'l', 'm' or 'r' horizontally, vertically centred."""

    x: float
    y: float
    text: str
    size_mm: float
    anchor: str = "l"
    bold: bool = False


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    line_mm: float = 0.25


Primitive = Union[Rect, Line, Text, Circle]


def render_png(items: tuple[Primitive, ...], page_mm: tuple[float, float], dpi: int) -> Image.Image:
    """Render the primitives onto a white greyscale page at ``dpi``."""
    k = dpi / 25.4
    page = Image.new("L", (round(page_mm[0] * k), round(page_mm[1] * k)), 255)
    draw = ImageDraw.Draw(page)

    def px(v: float) -> int:
        return round(v * k)

    def width(line_mm: float) -> int:
        return max(1, round(line_mm * k))

    for it in items:
        if isinstance(it, Rect):
            box = (px(it.x), px(it.y), px(it.x + it.w), px(it.y + it.h))
            if it.fill is not None:
                draw.rectangle(box, fill=it.fill)
            if it.stroke:
                draw.rectangle(box, outline=0, width=width(it.line_mm))
        elif isinstance(it, Line):
            if it.dashed:
                _dashed(draw, (it.x1 * k, it.y1 * k, it.x2 * k, it.y2 * k), width(it.line_mm), 1.2 * k)
            else:
                draw.line((px(it.x1), px(it.y1), px(it.x2), px(it.y2)), fill=0, width=width(it.line_mm))
        elif isinstance(it, Text):
            font = fonts.printed(round(it.size_mm * k), it.bold)
            draw.text((it.x * k, it.y * k), it.text, font=font, fill=0, anchor=it.anchor + "m")
        elif isinstance(it, Circle):
            box = (px(it.cx - it.r), px(it.cy - it.r), px(it.cx + it.r), px(it.cy + it.r))
            draw.ellipse(box, outline=0, width=width(it.line_mm))
    return page


def _dashed(draw: ImageDraw.ImageDraw, seg: tuple[float, float, float, float], width: int, dash: float) -> None:
    x1, y1, x2, y2 = seg
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    steps = max(1, int(length / dash))
    for i in range(0, steps, 2):
        a, b = i / steps, min(1.0, (i + 1) / steps)
        draw.line((x1 + (x2 - x1) * a, y1 + (y2 - y1) * a, x1 + (x2 - x1) * b, y1 + (y2 - y1) * b),
                  fill=0, width=width)


PDF_FONT_NAME = "KakitoriSans"          # CJK (Droid Sans Fallback: no Latin glyphs)
PDF_LATIN_FONT_NAME = "KakitoriLatin"   # Latin, digits and punctuation (DejaVu Sans)


def render_pdf(canvas, items: tuple[Primitive, ...], page_mm: tuple[float, float]) -> None:
    """Draw the primitives on a reportlab canvas (origin bottom-left, points) as vector graphics."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics

    register_pdf_font()
    height = page_mm[1]

    def y(v: float) -> float:
        return (height - v) * mm

    for it in items:
        canvas.saveState()
        if isinstance(it, Rect):
            canvas.setLineWidth(it.line_mm * mm)
            if it.fill is not None:
                canvas.setFillGray(it.fill / 255)
            canvas.rect(it.x * mm, y(it.y + it.h), it.w * mm, it.h * mm,
                        stroke=int(it.stroke), fill=int(it.fill is not None))
        elif isinstance(it, Line):
            canvas.setLineWidth(it.line_mm * mm)
            if it.dashed:
                canvas.setDash(1.2 * mm, 1.2 * mm)
            canvas.line(it.x1 * mm, y(it.y1), it.x2 * mm, y(it.y2))
        elif isinstance(it, Text):
            size = it.size_mm * mm
            base = y(it.y) - 0.36 * size  # vertical centre of a CJK em box → baseline
            runs = _runs(it.text)
            width = sum(pdfmetrics.stringWidth(t, f, size) for f, t in runs)
            x = it.x * mm - {"l": 0.0, "m": width / 2, "r": width}[it.anchor]
            for font, text in runs:
                canvas.setFont(font, size)
                canvas.drawString(x, base, text)
                x += pdfmetrics.stringWidth(text, font, size)
        elif isinstance(it, Circle):
            canvas.setLineWidth(it.line_mm * mm)
            canvas.circle(it.cx * mm, y(it.cy), it.r * mm, stroke=1, fill=0)
        canvas.restoreState()


def register_pdf_font() -> None:
    """Register the two embedded TrueType fonts of born-digital PDFs with reportlab (once)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT_NAME, str(fonts.require(fonts.PDF_FONT, "fonts-droid-fallback"))))
        pdfmetrics.registerFont(TTFont(PDF_LATIN_FONT_NAME, str(fonts.require(fonts.PDF_LATIN_FONT,
                                                                              "fonts-dejavu-core"))))


def _runs(text: str) -> list[tuple[str, str]]:
    """Split text into (font, run) pairs: what DejaVu draws (Latin, digits, ※, ○) in DejaVu, the rest in the CJK
    font."""
    from reportlab.pdfbase import pdfmetrics

    latin = pdfmetrics.getFont(PDF_LATIN_FONT_NAME).face.charToGlyph
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = PDF_LATIN_FONT_NAME if ord(ch) in latin and ord(ch) < 0x3000 else PDF_FONT_NAME
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs
