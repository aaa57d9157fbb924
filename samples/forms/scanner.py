"""What a scanner or copier does to a filled form: skew, an occasional quarter turn, shift, copier scale,
paper tone, noise, blur and JPEG compression; colour or grey output.

``light`` is a good office scanner; ``heavy`` a tired multifunction copier fed by hand. The chosen values are
returned (``Scan``) and written to the truth file, so a registration failure can be traced to its cause.
"""

from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from PIL import Image

LEVELS = ("none", "light", "heavy")


@dataclass(frozen=True)
class Scan:
    """The artefacts applied to one page (degrees, ratio, mm)."""

    rotation: int = 0          # 0, 90, 180, 270 (counter-clockwise, as the page lies in the file)
    skew_deg: float = 0.0
    scale: float = 1.0
    shift_mm: tuple[float, float] = (0.0, 0.0)
    noise: float = 0.0         # grey levels (σ)
    blur: float = 0.0          # Gaussian σ in px
    jpeg_quality: int = 0      # 0 = no JPEG round trip

    def to_dict(self) -> dict:
        d = asdict(self)
        d["shift_mm"] = list(self.shift_mm)
        return d


def choose(level: str, rng: random.Random) -> Scan:
    """Draw a page's artefacts for ``level`` (none / light / heavy)."""
    if level == "none":
        return Scan()
    heavy = level == "heavy"
    r = rng.uniform
    turn_p = 0.12 if heavy else 0.04
    rotation = rng.choice((90, 180, 270)) if rng.random() < turn_p else 0
    return Scan(
        rotation=rotation,
        skew_deg=round(r(-5, 5) if heavy else r(-1.5, 1.5), 2),
        scale=round(r(0.97, 1.03) if heavy else r(0.99, 1.01), 4),
        shift_mm=(round(r(-8, 8) if heavy else r(-3, 3), 2), round(r(-8, 8) if heavy else r(-3, 3), 2)),
        noise=round(r(4, 14), 2) if heavy else 0.0,  # a good office scanner cleans its own noise
        blur=round(r(0.4, 1.2) if heavy else r(0.0, 0.5), 2),
        jpeg_quality=rng.randrange(35, 70) if heavy else (rng.randrange(75, 95) if rng.random() < 0.5 else 0),
    )


def apply(page: Image.Image, scan: Scan, dpi: int, rng: random.Random, *, grey: bool) -> Image.Image:
    """The page as the scanner delivers it (RGB, or L when ``grey``)."""
    img = np.asarray(page.convert("RGB"), np.float32)
    h, w = img.shape[:2]
    k = dpi / 25.4
    if scan != Scan():
        # paper tone: scanners rarely give pure white
        white = rng.uniform(236, 252)
        tone = np.array([white, white - rng.uniform(0, 3), white - rng.uniform(1, 9)], np.float32)  # warm white
        img = img * (tone / 255.0)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), scan.skew_deg, scan.scale)
        m[:, 2] += (scan.shift_mm[0] * k, scan.shift_mm[1] * k)
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                             borderValue=tuple(float(v) for v in tone))
        if scan.blur > 0:
            img = cv2.GaussianBlur(img, (0, 0), scan.blur)
        if scan.noise > 0:
            gen = np.random.default_rng(rng.randrange(2**32))
            img = img + gen.normal(0, scan.noise, img.shape[:2])[..., None].astype(np.float32)
    out = np.clip(img, 0, 255).round().astype(np.uint8)
    if scan.rotation:
        out = np.ascontiguousarray(np.rot90(out, scan.rotation // 90))
    result = Image.fromarray(out, "RGB")
    if grey:
        result = result.convert("L")
    if scan.jpeg_quality:
        buf = io.BytesIO()
        result.save(buf, "JPEG", quality=scan.jpeg_quality)
        buf.seek(0)
        result = Image.open(buf)
        result.load()
    return result
