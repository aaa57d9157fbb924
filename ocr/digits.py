"""A second reader for handwritten digits, independent of PP-OCR: three small CNNs.

Each digit is normalised the MNIST way (ink bounding box scaled into 20×20, centred by mass in 28×28) and read
by three small CNNs averaged in one onnxruntime graph (``ocr/models/digits_cnn.onnx``, trained by
``ocr/train_digit_cnn.py`` on MNIST digits outside the calib and eval splits — mnist-dev's train split and
MNIST's own 60,000 training digits — and handwriting fonts). They ship with the code, so users need no data set. The older reader, an
ensemble of two-layer perceptrons over HOG + coarse-pixel features (``ocr/models/digits_mlp.npz``,
``ocr/train_digits.py``), is kept for ``DigitClassifier.load(cnn_path=None)``: blended 0.2 with one CNN it
helped (MNIST calib split 98.9 -> 99.1 %), beside three it changes nothing measurable (digits cut from calib
forms: 15 wrong of 3,583 fused either way) and costs three times their time, so the pipeline does not run it.
Its use is agreement: a digit field read the same by PP-OCR and by this reader, character by character, is
far more likely right than either reading alone. Segmentation of a digit string into characters (and '-'
separators) is plain connected-component geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kakitori.errors import ConfigError

MODEL_PATH = Path(__file__).resolve().parent / "models" / "digits_mlp.npz"
CNN_PATH = Path(__file__).resolve().parent / "models" / "digits_cnn.onnx"


def normalise_digit(grey: np.ndarray) -> np.ndarray:
    """A digit crop (grey, ink dark on light, any size) → 28×28 float32 in 0..1, ink bright, MNIST-style."""
    ink = 255.0 - grey.astype(np.float32)
    ink[ink < 40] = 0
    ys, xs = np.nonzero(ink > 60)
    if len(xs) == 0:
        return np.zeros((28, 28), np.float32)
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = ink.shape
    s = 20.0 / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(ink, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((28, 28), np.float32)
    m = cv2.moments(small)
    cy, cx = (m["m01"] / m["m00"], m["m10"] / m["m00"]) if m["m00"] > 0 else (nh / 2, nw / 2)
    y0 = int(np.clip(round(14 - cy), 0, 28 - nh))
    x0 = int(np.clip(round(14 - cx), 0, 28 - nw))
    out[y0:y0 + nh, x0:x0 + nw] = small
    peak = out.max()
    return out / peak if peak > 0 else out


def hog(digits: np.ndarray, bins: int = 9, cell: int = 7) -> np.ndarray:
    """Histograms of oriented gradients, (N, 28, 28) → (N, 324): 4×4 cells of 7 px, 9 unsigned orientation
    bins, L2-normalised over 2×2-cell blocks (numpy; OpenCV 5 has no HOGDescriptor)."""
    gy, gx = np.gradient(digits.astype(np.float32), axis=(1, 2))
    mag = np.hypot(gx, gy)
    ang = np.mod(np.arctan2(gy, gx), np.pi)
    idx = np.minimum((ang / np.pi * bins).astype(int), bins - 1)
    onehot = np.eye(bins, dtype=np.float32)[idx] * mag[..., None]
    n, size = digits.shape[0], digits.shape[1] // cell
    cells = onehot.reshape(n, size, cell, size, cell, bins).sum(axis=(2, 4))
    blocks = np.concatenate([cells[:, i:i + 2, j:j + 2].reshape(n, -1)
                             for i in range(size - 1) for j in range(size - 1)], axis=1)
    blocks = blocks.reshape(n, -1, 4 * bins)
    blocks /= np.linalg.norm(blocks, axis=2, keepdims=True) + 1e-6
    return blocks.reshape(n, -1)


def features(digits: np.ndarray) -> np.ndarray:
    """HOG (324) + 14×14 pixels (196) per normalised 28×28 digit → (N, 520) float32."""
    digits = np.asarray(digits, dtype=np.float32)
    px = digits.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(digits), -1)
    return np.concatenate([hog(digits), px], axis=1).astype(np.float32)


@dataclass(frozen=True)
class MLP:
    """One two-layer perceptron: features → ReLU hidden → softmax over 10 digits."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x @ self.w1 + self.b1, 0) @ self.w2 + self.b2


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class DigitCNN:
    """The convolutional reader: (N, 28, 28) normalised digits → (N, 10) calibrated probabilities."""

    def __init__(self, path: Path = CNN_PATH, threads: int = 1) -> None:
        from ocr.recognize import onnx_session

        if not path.is_file():
            raise ConfigError("digit CNN weights missing (run: python -m ocr.train_digit_cnn)", file=path)
        self.session = onnx_session(path, threads)

    def proba_normalised(self, digits: np.ndarray) -> np.ndarray:
        x = np.asarray(digits, dtype=np.float32)[:, None]
        return self.session.run(None, {"digits": x})[0]


class DigitClassifier:
    """The second reader: the CNNs' probabilities; without a CNN, the mean of the perceptrons' softmaxes (each
    at the temperature fitted on the calib split)."""

    name = "digits-cnn"

    def __init__(self, members: Sequence[MLP], mean: np.ndarray, std: np.ndarray, temperature: float = 1.0,
                 cnn: DigitCNN | None = None):
        self.members = tuple(members)
        self.mean, self.std, self.temperature = mean, std, temperature
        self.cnn = cnn

    @classmethod
    def load(cls, path: Path = MODEL_PATH, cnn_path: Path | None = CNN_PATH) -> DigitClassifier:
        """The shipped readers; ``cnn_path=None``: the perceptrons alone (as trained by ``ocr.train_digits``)."""
        if not path.is_file():
            raise ConfigError("digit classifier weights missing (run: python -m ocr.train_digits)", file=path)
        z = np.load(path)
        n = int(z["members"])
        members = [MLP(z[f"w1_{i}"], z[f"b1_{i}"], z[f"w2_{i}"], z[f"b2_{i}"]) for i in range(n)]
        return cls(members, z["mean"], z["std"], float(z["temperature"]),
                   DigitCNN(cnn_path) if cnn_path is not None else None)

    def save(self, path: Path) -> None:
        arrays = {"members": np.array(len(self.members)), "mean": self.mean, "std": self.std,
                  "temperature": np.array(self.temperature)}
        for i, m in enumerate(self.members):
            arrays.update({f"w1_{i}": m.w1.astype(np.float32), f"b1_{i}": m.b1.astype(np.float32),
                           f"w2_{i}": m.w2.astype(np.float32), f"b2_{i}": m.b2.astype(np.float32)})
        np.savez_compressed(path, **arrays)

    def proba_normalised(self, digits: np.ndarray) -> np.ndarray:
        """(N, 28, 28) normalised digits → (N, 10) probabilities."""
        if len(digits) == 0:
            return np.zeros((0, 10), np.float32)
        if self.cnn is not None:
            return self.cnn.proba_normalised(digits)
        x = (features(digits) - self.mean) / self.std
        return np.mean([softmax(m.logits(x) / self.temperature) for m in self.members], axis=0)

    def proba(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Digit crops (grey, ink dark) → (N, 10) probabilities."""
        return self.proba_normalised(np.stack([normalise_digit(c) for c in crops]) if crops else np.zeros((0, 28, 28)))


BORDER = 2   # white margin around a segmented glyph's ink, in px


@dataclass(frozen=True)
class Glyph:
    """One segmented character of a digit string: its crop and whether it looks like a '-' separator."""

    image: np.ndarray
    x: int
    separator: bool
    y: int = 0   # top of the ink in the line's crop (``image`` has a BORDER px white margin around it)

    @property
    def width(self) -> int:
        """The ink's width (the crop without its margin)."""
        return self.image.shape[1] - 2 * BORDER

    @property
    def height(self) -> int:
        """The ink's height (the crop without its margin)."""
        return self.image.shape[0] - 2 * BORDER


def segment(grey: np.ndarray) -> list[Glyph]:
    """Split a cleaned digit-string crop (ink dark on white) into characters, left to right.

    Connected components whose horizontal extents overlap are one character (a broken 5 or 4); a component
    that is much shorter than the digits is a separator (- , .). A hyphen written so that it touches the
    digit beside it is cut off that digit (``_dash_columns``): left on, it turns an 8 into something else.
    """
    ink = (grey < 160).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return []
    comps = sorted((stats[i, 0], stats[i, 0] + stats[i, 2], i) for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 4)
    heights = [stats[i, 3] for *_, i in comps]
    line_h = float(np.percentile(heights, 75)) if heights else 1.0
    groups: list[list[int]] = []
    span: list[tuple[int, int]] = []
    for x0, x1, i in comps:
        if groups and _overlap((x0, x1), span[-1]) > 0.5 * min(x1 - x0, span[-1][1] - span[-1][0]):
            groups[-1].append(i)
            span[-1] = (min(span[-1][0], x0), max(span[-1][1], x1))
        else:
            groups.append([i])
            span.append((x0, x1))
    pieces = []
    for ids, (x0, x1) in zip(groups, span):
        y0 = min(stats[i, 1] for i in ids)
        y1 = max(stats[i, 1] + stats[i, 3] for i in ids)
        pieces.append((x0, x1, y0, y1, np.isin(labels[y0:y1, x0:x1], ids)))
    tall = [(y0, y1) for _, _, y0, y1, _ in pieces if y1 - y0 >= 0.6 * line_h]
    band = (float(np.median([t for t, _ in tall])), float(np.median([b for _, b in tall]))) if tall else None
    glyphs = []
    for x0, x1, y0, y1, mask in pieces:
        cuts = _dash_columns(mask, y0, band) if band and y1 - y0 >= 0.6 * line_h else (0, 0)
        parts = [(0, cuts[0], True), (cuts[0], mask.shape[1] - cuts[1], False), (mask.shape[1] - cuts[1], mask.shape[1], True)]
        for a, b, dash in parts:
            if b <= a:
                continue
            rows = np.flatnonzero(mask[:, a:b].any(axis=1))
            ya, yb = int(rows[0]), int(rows[-1]) + 1
            crop = np.where(mask[ya:yb, a:b], grey[y0 + ya:y0 + yb, x0 + a:x0 + b], 255).astype(np.uint8)
            crop = cv2.copyMakeBorder(crop, BORDER, BORDER, BORDER, BORDER, cv2.BORDER_CONSTANT, value=255)
            separator = dash or yb - ya < 0.4 * line_h  # a hyphen, comma or dot: short beside the digits
            glyphs.append(Glyph(crop, int(x0 + a), bool(separator), int(y0 + ya)))
    return glyphs


def join(a: Glyph, b: Glyph) -> Glyph:
    """Two glyphs as one (a digit written in two strokes that segmentation kept apart), on a white canvas."""
    x0, y0 = min(a.x, b.x), min(a.y, b.y)
    x1 = max(a.x + a.image.shape[1], b.x + b.image.shape[1])
    y1 = max(a.y + a.image.shape[0], b.y + b.image.shape[0])
    canvas = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    for g in (a, b):
        h, w = g.image.shape
        region = canvas[g.y - y0:g.y - y0 + h, g.x - x0:g.x - x0 + w]
        np.minimum(region, g.image, out=region)
    return Glyph(canvas, x0, False, y0)


def _dash_columns(mask: np.ndarray, top: int, band: tuple[float, float]) -> tuple[int, int]:
    """How many columns at the left and at the right of a digit's ink are a touching hyphen: thin ink
    (under a quarter of the line's height) around the middle of the line, for at least a third of the
    line's height in length (a written hyphen is half to two thirds of it), with a digit left beside it.
    (0, 0) for none."""
    line_top, line_bottom = band
    height = line_bottom - line_top
    has = mask.any(axis=0)
    first = np.where(has, mask.argmax(axis=0), 0) + top
    last = np.where(has, mask.shape[0] - 1 - mask[::-1].argmax(axis=0), 0) + top
    mid = (first + last) / 2
    dash = has & (last - first + 1 <= 0.25 * height) & (mid > line_top + 0.3 * height) & (mid < line_top + 0.75 * height)

    def run(cols: np.ndarray) -> int:
        n = int(np.argmin(cols)) if not cols.all() else len(cols)
        return n if n >= 0.35 * height else 0

    left, right = run(dash), run(dash[::-1])
    if mask.shape[1] - left - right < 0.25 * height:
        return 0, 0
    return left, right


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))
