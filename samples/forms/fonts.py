"""The fonts the sample forms use: Noto Sans CJK for the printed form, Debian's handwriting-style fonts for
what a resident writes, and an embeddable TrueType CJK font for born-digital PDFs.

All come from Debian packages (fonts-noto-cjk, fonts-klee, fonts-kiloji, fonts-droid-fallback,
fonts-dejavu-core); nothing is downloaded. A missing font is a ConfigError naming the package to install.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from kakitori.errors import ConfigError

NOTO_REGULAR = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
NOTO_JP_INDEX = 0  # face 0 of the collection is "Noto Sans CJK JP"
# Born-digital PDFs embed TrueType fonts (reportlab cannot embed Noto's CFF outlines): CJK + Latin.
PDF_FONT = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
PDF_LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# Handwriting-style faces: (path, package). Klee One looks like a pencil; kiloji like a felt pen.
HANDWRITING = (
    (Path("/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"), "fonts-klee"),
    (Path("/usr/share/fonts/truetype/klee/KleeOne-SemiBold.ttf"), "fonts-klee"),
    (Path("/usr/share/fonts/truetype/kiloji/kiloji.ttf"), "fonts-kiloji"),
    (Path("/usr/share/fonts/truetype/kiloji/kiloji_p.ttf"), "fonts-kiloji"),
    (Path("/usr/share/fonts/truetype/kiloji/kiloji_b.ttf"), "fonts-kiloji"),
)


def require(path: Path, package: str) -> Path:
    if not path.exists():
        raise ConfigError(f"font missing: install the Debian package {package}", file=path)
    return path


@lru_cache(maxsize=256)
def printed(size_px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK JP at ``size_px`` (em size in pixels)."""
    path = require(NOTO_BOLD if bold else NOTO_REGULAR, "fonts-noto-cjk")
    return ImageFont.truetype(str(path), max(1, size_px), index=NOTO_JP_INDEX)


@lru_cache(maxsize=512)
def handwriting(index: int, size_px: int) -> ImageFont.FreeTypeFont:
    path, package = HANDWRITING[index]
    return ImageFont.truetype(str(require(path, package)), max(1, size_px))


def handwriting_faces() -> tuple[int, ...]:
    """Indices of the handwriting faces installed on this machine (at least one, or a ConfigError)."""
    found = tuple(i for i, (path, _) in enumerate(HANDWRITING) if path.exists())
    if not found:
        raise ConfigError("no handwriting font installed: install fonts-klee and fonts-kiloji",
                          file=HANDWRITING[0][0].parent)
    return found


@lru_cache(maxsize=8192)
def has_glyph(index: int, char: str) -> bool:
    """Whether handwriting face ``index`` draws ``char`` (rather than its .notdef box)."""
    font = handwriting(index, 48)
    return bytes(font.getmask(char)) != _notdef(index) or char.isspace()


@lru_cache(maxsize=16)
def _notdef(index: int) -> bytes:
    return bytes(handwriting(index, 48).getmask("\U0010fffd"))


def text_width_mm(text: str, size_mm: float, bold: bool = False) -> float:
    """Advance width of printed ``text`` at ``size_mm`` em, in mm (measured at 100 px per em)."""
    return printed(100, bold).getlength(text) / 100.0 * size_mm
