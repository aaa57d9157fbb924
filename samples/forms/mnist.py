"""Real handwritten digits from MNIST (the shared ``mnist-dev`` file), drawn only from one agreed split.

Split of ``mnist_test_first5000.npz`` (forms spec): train = 0–2999, calib = 3000–3999, eval = 4000–4999. The
generator for a figure that is reported uses ``eval``; anything trained or tuned uses ``train``/``calib``.
``calib2`` is a second, larger calib pool outside mnist-dev: the other half of MNIST's test set (5,000 digits,
``scripts/fetch_mnist_calib.sh`` writes it to ``data/mnist-calib/mnist_test_last5000.npz``). The 1,000 calib
digits, drawn again and again over a thousand forms, show too few hands to count rare errors by.
"""

from __future__ import annotations

import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kakitori.errors import ConfigError

# calib2: the whole of its own file
SPLITS = {"train": (0, 3000), "calib": (3000, 4000), "eval": (4000, 5000), "calib2": (0, None)}
DEFAULT_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist-dev" / "mnist_test_first5000.npz"
CALIB2_PATH = Path(__file__).resolve().parents[2] / "data" / "mnist-calib" / "mnist_test_last5000.npz"


def default_path(split: str) -> Path:
    """Where a split's digits are by default: mnist-dev for its three splits, the fetched file for calib2."""
    return CALIB2_PATH if split == "calib2" else DEFAULT_PATH


@dataclass(frozen=True)
class Digit:
    """One MNIST sample: its index in the file (for audits) and its ink (uint8, 255 = ink), cropped to the ink."""

    index: int
    label: int
    ink: np.ndarray


class MnistDigits:
    """Digits of one split, by label; ``draw`` picks a random sample of the wanted digit."""

    def __init__(self, path: Path | None = None, split: str = "eval") -> None:
        if split not in SPLITS:
            raise ConfigError(f"unknown MNIST split '{split}' (expected one of {', '.join(SPLITS)})")
        path = Path(path) if path is not None else default_path(split)
        if not path.exists():
            hint = ("bash scripts/fetch_mnist_calib.sh fetches the calib2 digits" if split == "calib2" else
                    "--digits mnist needs the shared mnist-dev data (or pass --mnist-path); use --digits font "
                    "without it")
            raise ConfigError(f"MNIST digits file not found: {hint}", file=path)
        try:
            with np.load(path) as data:
                images, labels = data["images"], data["labels"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ConfigError(f"not an MNIST digits file (an .npz with images and labels): {exc}", file=path) from None
        if split == "calib2" and _holds_mnist_dev(images):
            raise ConfigError("the calib2 split must not be drawn from mnist-dev (its eval digits would choose the "
                              "trust thresholds): use scripts/fetch_mnist_calib.sh's file", file=path)
        lo, hi = SPLITS[split]
        hi = len(labels) if hi is None else hi
        if len(labels) < hi:
            raise ConfigError(f"MNIST file holds {len(labels)} digits, split '{split}' needs indices {lo}–{hi - 1}",
                              file=path)
        self.split = split
        self.range = (lo, hi)
        self._images = images
        self._by_label = {d: [i for i in range(lo, hi) if labels[i] == d] for d in range(10)}

    def draw(self, digit: int, rng: random.Random) -> Digit:
        index = rng.choice(self._by_label[digit])
        img = self._images[index]
        ys, xs = np.nonzero(img > 40)
        crop = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        return Digit(index, digit, crop.copy())


def _holds_mnist_dev(images: np.ndarray) -> bool:
    """Whether a digits file holds any of 20 digits spread over mnist-dev (when mnist-dev is here to compare)."""
    if not DEFAULT_PATH.exists():
        return False
    with np.load(DEFAULT_PATH) as data:
        probes = data["images"][::max(1, len(data["images"]) // 20)]
    return any((images == p).all(axis=(1, 2)).any() for p in probes)
