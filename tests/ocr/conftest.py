"""Fixtures of the OCR tests: the shipped sample templates, one engine with the real models (loaded once),
and filled forms made by the sample generator into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kakitori.config import OcrConfig
from ocr.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "samples" / "templates"
MNIST = ROOT.parent / "shared" / "data" / "mnist-dev" / "mnist_test_first5000.npz"
KLEE = "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"


def text_line(text: str, size: int = 44) -> np.ndarray:
    """One line of text in the Klee handwriting font, dark on white, as a recogniser's crop."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(KLEE, size)
    im = Image.new("L", (int(font.getlength(text)) + 20, size + 20), 255)
    ImageDraw.Draw(im).text((10, 8), text, font=font, fill=0)
    return np.asarray(im)


@pytest.fixture(scope="session")
def juminido():
    return load_template(TEMPLATES / "juminido.yaml")


@pytest.fixture(scope="session")
def reference_image(juminido) -> np.ndarray:
    return cv2.imread(str(juminido.reference), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="session")
def engine():
    """The real engine: PP-OCRv6 small through onnxruntime, the shipped digit classifier and trust rule."""
    from ocr.pipeline import OcrEngine

    return OcrEngine(OcrConfig(templates_dirs=[TEMPLATES], save_crops=False))


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """Make filled forms with the sample generator: generated(template, count, seed, **options) → folder."""
    from ocr.template import load_template as load
    from samples.forms.generator import Options, generate

    cache: dict[tuple, Path] = {}

    def make(template: str = "juminido", count: int = 2, seed: int = 5, **options) -> Path:
        key = (template, count, seed, tuple(sorted(options.items())))
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{template}-{seed}")
            generate(load(TEMPLATES / f"{template}.yaml"), Options(count=count, seed=seed, out=out, **options))
            cache[key] = out
        return cache[key]

    return make


def warp(image: np.ndarray, angle_deg: float = 0.0, scale: float = 1.0, shift=(0.0, 0.0), out_shape=None):
    """The image turned by ``angle_deg`` about its centre, scaled and shifted (px), on white paper; with the
    2x3 matrix used."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, scale)
    m[:, 2] += shift
    oh, ow = out_shape or (h, w)
    return cv2.warpAffine(image, m, (ow, oh), flags=cv2.INTER_LINEAR, borderValue=255), m
