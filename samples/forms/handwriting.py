"""Handwriting on a form: characters from handwriting-style fonts (or real MNIST digits), ticks and circles.

A ``Writer`` is one resident's hand: a face, an ink colour, a slant, a size and a stroke weight, all drawn from
the seed. It draws onto an *ink layer* (uint8, 255 = full ink, page-sized) that is laid over the printed page
at the end (``lay_ink``), so that ink darkens the paper the way a pen does, never whitens a printed line.
Each character is jittered on its own (size, baseline, rotation), since no one writes two 3s alike.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from samples.forms import fonts
from samples.forms.mnist import MnistDigits

Box = tuple[int, int, int, int]  # x, y, w, h in px

INKS = ((25, 25, 30), (15, 20, 45), (30, 45, 120), (40, 40, 40), (20, 30, 80))


@dataclass(frozen=True)
class Style:
    """One writer's hand."""

    face: int
    ink: tuple[int, int, int]
    size: float          # character height as a share of the box height
    slant: float         # horizontal shear (positive leans right)
    weight: int          # extra stroke width in px at 200 dpi (0–1)
    jitter: float        # per-character baseline and size wobble, as a share of the character height
    spacing: float       # advance multiplier
    pressure: float      # ink opacity 0.8–1

    @classmethod
    def random(cls, rng: random.Random) -> "Style":
        return cls(face=rng.choice(fonts.handwriting_faces()), ink=rng.choice(INKS),
                   size=rng.uniform(0.62, 0.8), slant=rng.uniform(-0.08, 0.22), weight=rng.choice((0, 0, 1)),
                   jitter=rng.uniform(0.02, 0.07), spacing=rng.uniform(0.92, 1.12), pressure=rng.uniform(0.82, 1.0))


class Writer:
    """Writes one form's fields onto an ink layer at ``dpi``."""

    def __init__(self, shape: tuple[int, int], dpi: int, style: Style, rng: random.Random,
                 digits: MnistDigits | None = None) -> None:
        self.ink = np.zeros(shape, np.uint8)
        self.dpi = dpi
        self.k = dpi / 25.4
        self.style = style
        self.rng = rng
        self.digits = digits
        self.used_digits: list[int] = []   # MNIST indices drawn, for the split audit

    # --- text --------------------------------------------------------------------------------------------
    def write(self, box: Box, text: str, *, comb: int | None = None, mnist_digits: bool = False) -> None:
        """Write ``text`` in ``box``: one character per comb box if ``comb``, else left to right on one line."""
        if not text:
            return
        use_mnist = mnist_digits and self.digits is not None
        x, y, w, h = box
        if comb:
            cw = w / comb
            em = min(h * self.style.size * 1.1, cw * 1.05, 8.5 * self.k)
            start = comb - len(text)  # short values are written right-aligned, as the forms ask
            for i, ch in enumerate(text[-comb:]):
                cx = x + (start + i + 0.5) * cw + self.rng.uniform(-0.08, 0.08) * cw
                base = y + h / 2 + 0.36 * em + self.rng.uniform(-0.06, 0.06) * h
                g = self._glyph(ch, em, use_mnist)
                self._blit(g.ink, round(cx - g.ink.shape[1] / 2), round(base - g.base))
            return
        em = min(h * self.style.size, 8.5 * self.k)
        margin = self.rng.uniform(0.6, 3.5) * self.k
        glyphs = [self._glyph(ch, em, use_mnist) for ch in text]
        total = sum(g.advance for g in glyphs) * self.style.spacing
        room = w - margin - 1.5 * self.k
        for _ in range(4):  # shrink to fit the cell, as a writer squeezes a long address
            if total <= room:
                break
            margin = min(margin, 0.8 * self.k)
            room = w - margin - 1.5 * self.k
            em *= room / total * 0.97
            glyphs = [self._glyph(ch, em, use_mnist) for ch in text]
            total = sum(g.advance for g in glyphs) * self.style.spacing
        slope = math.tan(math.radians(self.rng.uniform(-1.2, 1.2)))
        base0 = y + h / 2 + 0.36 * em + self.rng.uniform(-0.08, 0.08) * (h - em)
        cursor = x + margin
        for g in glyphs:
            base = base0 + (cursor - x) * slope + self.rng.gauss(0, self.style.jitter) * em
            self._blit(g.ink, round(cursor - g.ox), round(base - g.base))
            cursor += g.advance * self.style.spacing

    def _glyph(self, ch: str, em: float, use_mnist: bool) -> "Glyph":
        """One character as this hand writes it."""
        em_j = em * (1 + self.rng.gauss(0, self.style.jitter))
        if ch.isspace():
            return Glyph(np.zeros((1, 1), np.uint8), 0, 0, em * 0.5)
        if use_mnist and ch.isdigit() and ch.isascii():
            return self._mnist(int(ch), em_j)
        if use_mnist and ch in "-/,.":
            return self._separator(ch, em_j)
        face = self.style.face if fonts.has_glyph(self.style.face, ch) else 0
        font = fonts.handwriting(face, max(6, round(em_j)))
        size = round(em_j * 2)
        img = Image.new("L", (size, size), 0)
        ImageDraw.Draw(img).text((em_j * 0.3, em_j * 1.3), ch, font=font, fill=255, anchor="ls")
        arr = np.asarray(img)
        arr = arr[: round(em_j * 1.3) + round(em_j * 0.35)]  # keep descenders, baseline at em*1.3
        return self._transform(arr, (em_j * 0.3, em_j * 1.3), font.getlength(ch))

    def _mnist(self, digit: int, em: float) -> "Glyph":
        d = self.digits.draw(digit, self.rng)  # type: ignore[union-attr]
        self.used_digits.append(d.index)
        height = em * self.rng.uniform(0.68, 0.8)
        scale = height / d.ink.shape[0]
        width = max(1, round(d.ink.shape[1] * scale))
        ink = cv2.resize(d.ink, (width, max(1, round(height))), interpolation=cv2.INTER_CUBIC)
        stroke = self.rng.choice((0, 0, 1)) if self.dpi < 300 else self.rng.choice((0, 1, 2))
        if stroke:
            ink = cv2.dilate(ink, np.ones((stroke + 1, stroke + 1), np.uint8))
        pad = np.zeros((ink.shape[0] + round(em * 0.1), ink.shape[1] + round(em * 0.3)), np.uint8)
        off = round(em * 0.15)
        pad[: ink.shape[0], off: off + ink.shape[1]] = ink
        return self._transform(pad, (off, ink.shape[0]), width + em * self.rng.uniform(0.12, 0.25))

    def _separator(self, ch: str, em: float) -> "Glyph":
        """A hyphen, slash, comma or full stop as a short pen stroke, sized to the MNIST digits."""
        w, h = round(em * 0.6), round(em * 0.95)
        img = np.zeros((h, w), np.uint8)
        t = max(2, round(em * 0.09))
        j = lambda v: v + self.rng.uniform(-0.06, 0.06) * em  # noqa: E731
        if ch == "-":
            y = 0.66 * h
            pts = [(j(0.1 * w), j(y)), (j(0.85 * w), j(y))]
        elif ch == "/":
            pts = [(j(0.75 * w), j(0.12 * h)), (j(0.2 * w), j(0.98 * h))]
        elif ch == ",":
            pts = [(j(0.45 * w), j(0.88 * h)), (j(0.3 * w), h * 1.0)]
        else:
            pts = [(0.4 * w, 0.9 * h), (0.45 * w, 0.93 * h)]
        poly = np.array([[round(px * 4), round(py * 4)] for px, py in pts], np.int32)
        cv2.polylines(img, [poly], False, 255, t, cv2.LINE_AA, shift=2)
        adv = em * (0.45 if ch in ",." else 0.65)
        return self._transform(img, (0.0, h * 0.98), adv)

    def _transform(self, arr: np.ndarray, origin: tuple[float, float], advance: float) -> "Glyph":
        """Slant and rotate a glyph image about its pen origin (x, baseline y); crop it to its ink."""
        ox0, baseline = origin
        angle = math.radians(self.rng.gauss(0, 2.0))
        shear = self.style.slant + self.rng.gauss(0, 0.03)
        h, w = arr.shape
        # forward map: rotate, then shear, about the pen origin
        a, b = math.cos(angle), -math.sin(angle)
        c, d = math.sin(angle), math.cos(angle)
        m = np.array([[a - shear * c, b - shear * d], [c, d]])
        corners = np.array([[-ox0, -baseline], [w - ox0, -baseline], [-ox0, h - baseline], [w - ox0, h - baseline]]).T
        moved = m @ corners
        minx, maxx = moved[0].min(), moved[0].max()
        miny, maxy = moved[1].min(), moved[1].max()
        t = np.array([-minx, -miny])
        mat = np.hstack([m, (m @ np.array([-ox0, -baseline]) + t).reshape(2, 1)])
        out_w, out_h = int(math.ceil(maxx - minx)) + 1, int(math.ceil(maxy - miny)) + 1
        out = cv2.warpAffine(arr, mat, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=0)
        if self.style.weight:
            out = cv2.dilate(out, np.ones((2, 2), np.uint8))
        cols = np.flatnonzero(out.max(axis=0) > 0)
        if cols.size == 0:
            return Glyph(np.zeros((1, 1), np.uint8), 0, 0, advance)
        return Glyph(out[:, cols[0]: cols[-1] + 1], round(-minx) - int(cols[0]), round(-miny), advance)

    def _blit(self, img: np.ndarray, x: int, y: int) -> None:
        h, w = img.shape
        H, W = self.ink.shape
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x0 >= x1 or y0 >= y1:
            return
        region = self.ink[y0:y1, x0:x1]
        np.maximum(region, img[y0 - y: y1 - y, x0 - x: x1 - x], out=region)

    # --- marks -------------------------------------------------------------------------------------------
    def tick(self, box: Box) -> None:
        """A ✓ (mostly) or ✗ over a checkbox, overshooting its square a little as people do."""
        x, y, w, h = box
        r = self.rng.uniform
        t = max(2, round(self.k * r(0.35, 0.6)))
        if self.rng.random() < 0.75:
            pts = [(x + r(0.05, 0.25) * w, y + r(0.4, 0.6) * h), (x + r(0.35, 0.5) * w, y + r(0.8, 1.0) * h),
                   (x + r(0.95, 1.35) * w, y - r(0.05, 0.35) * h)]
            self._stroke(pts, t)
        else:
            lo, hi = (0.0, 0.15), (0.85, 1.05)
            self._stroke([(x + r(*lo) * w, y + r(*lo) * h), (x + r(*hi) * w, y + r(*hi) * h)], t)
            self._stroke([(x + r(*hi) * w, y + r(*lo) * h), (x + r(*lo) * w, y + r(*hi) * h)], t)

    def circle(self, box: Box) -> None:
        """A hand-drawn ○ around a printed option: a wobbly ellipse whose ends overlap or leave a small gap."""
        x, y, w, h = box
        r = self.rng.uniform
        cx, cy = x + w / 2 + r(-0.6, 0.6) * self.k, y + h / 2 + r(-0.4, 0.4) * self.k
        ax, ay = w / 2 * r(1.05, 1.2) + r(0.2, 0.8) * self.k, h / 2 * r(1.1, 1.3) + r(0.2, 0.6) * self.k
        start = r(0, 2 * math.pi)
        sweep = 2 * math.pi * r(0.93, 1.1)
        tilt = math.radians(r(-8, 8))
        wobble = [r(-0.06, 0.06) for _ in range(4)]
        pts = []
        for i in range(64):
            a = start + sweep * i / 63
            rr = 1 + wobble[0] * math.sin(2 * a + wobble[1] * 20) + wobble[2] * math.cos(3 * a)
            px, py = ax * rr * math.cos(a), ay * rr * math.sin(a)
            pts.append((cx + px * math.cos(tilt) - py * math.sin(tilt), cy + px * math.sin(tilt) + py * math.cos(tilt)))
        self._stroke(pts, max(2, round(self.k * r(0.3, 0.5))))

    def _stroke(self, pts: list[tuple[float, float]], thickness: int) -> None:
        poly = np.array([[round(px * 4), round(py * 4)] for px, py in pts], np.int32)
        cv2.polylines(self.ink, [poly], False, 255, thickness, cv2.LINE_AA, shift=2)


@dataclass(frozen=True)
class Glyph:
    """One written character: its ink (cropped to the ink's columns), the pen origin's column ``ox`` and
    baseline row ``base`` inside that image, and how far the pen moves on (px)."""

    ink: np.ndarray
    ox: int
    base: int
    advance: float


def lay_ink(page: Image.Image, ink: np.ndarray, colour: tuple[int, int, int], pressure: float,
            rng: random.Random) -> Image.Image:
    """The page with the ink layer laid over it (multiplicative, like ink on paper), in RGB."""
    rgb = np.asarray(page.convert("RGB"), np.float32)
    alpha = ink.astype(np.float32) / 255.0 * pressure
    if alpha.any():
        grain = np.random.default_rng(rng.randrange(2**32)).normal(1.0, 0.08, alpha.shape).astype(np.float32)
        alpha = np.clip(alpha * grain, 0, 1)
    col = np.array(colour, np.float32)
    out = rgb * (1 - alpha[..., None]) + col * alpha[..., None]
    out = np.minimum(out, rgb)  # ink only darkens
    return Image.fromarray(out.round().astype(np.uint8), "RGB")
