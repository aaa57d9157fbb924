"""Train the digit classifier shipped in ``ocr/models/digits_mlp.npz`` (reproducible: fixed seeds).

    .venv/bin/python -m ocr.train_digits [--data ../shared/data/mnist-dev/mnist_test_first5000.npz] [--forms DIR]

The shipped model was made with (about two minutes on two cores):

    kakitori samples forms --template juminido --count 60 --seed 21 --out t1 --digits mnist --mnist-split train
    kakitori samples forms --template jidoteate --count 60 --seed 22 --out t2 --digits mnist --mnist-split train
    .venv/bin/python -m ocr.train_digits --forms t1 --forms t2

Uses MNIST indices 0–2999 (the **train** split of forms-spec.md) for the weights and 3000–3999 (**calib**)
only to fit the softmax temperature and to print a calib accuracy; 4000–4999 (eval) is never touched. Digits
drawn in the handwriting-style fonts installed from Debian (fonts-klee, fonts-kiloji) are added, so that
font-written sample forms are read as well as MNIST-composed ones. With ``--forms DIR`` (repeatable), digits
cut by the pipeline itself from generated forms are added too — only forms generated from the MNIST *train*
split with seeds < 1000 (``kakitori samples forms ... --digits mnist --mnist-split train --seed 21``). Each
training digit is pushed through what a scan does to it (affine jitter, scaling to 5–8 mm at 200 dpi, stroke
width, ink tone, blur, noise, JPEG) and through the same crop/normalisation the pipeline applies, so the
classifier learns the pipeline's domain rather than MNIST's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from ocr.digits import MLP, MODEL_PATH, DigitClassifier, features, normalise_digit, softmax

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mnist-dev" / "mnist_test_first5000.npz"
TRAIN = slice(0, 3000)
CALIB = slice(3000, 4000)


def as_scanned(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (white on black 28×28) as the pipeline would crop it from a scan (grey, ink dark)."""
    src = cv2.copyMakeBorder(digit, 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=0).astype(np.float32)
    c = 20.0
    angle = rng.uniform(-12, 12)
    scale = rng.uniform(0.85, 1.1)
    m = cv2.getRotationMatrix2D((c, c), angle, scale)
    m[0, 1] += rng.uniform(-0.25, 0.25)
    m[:, 2] += rng.uniform(-1.5, 1.5, size=2)
    src = cv2.warpAffine(src, m, (40, 40), flags=cv2.INTER_LINEAR)
    height = rng.uniform(35, 64)               # 5-8 mm at 200 dpi, on MNIST's 20 px digit body
    k = height / 20.0
    img = cv2.resize(src, (round(40 * k), round(40 * k)), interpolation=cv2.INTER_CUBIC)
    r = rng.random()
    if r < 0.25:
        img = cv2.dilate(img, np.ones((3, 3), np.uint8))
    elif r < 0.45:
        img = cv2.erode(img, np.ones((3, 3), np.uint8))
    ink = np.clip(img / 255.0, 0, 1) * rng.uniform(0.6, 1.0)
    paper = rng.uniform(225, 255)
    grey = paper * (1 - ink)
    if rng.random() < 0.5:
        grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(0.3, 1.2))
    grey = grey + rng.normal(0, rng.uniform(0, 8), grey.shape)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        _, buf = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
        grey = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    t = rng.uniform(130, 175)
    mask = cv2.dilate((grey < t).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return np.where(mask, grey, 255).astype(np.uint8)


FONTS = ("/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf", "/usr/share/fonts/truetype/klee/KleeOne-SemiBold.ttf",
         "/usr/share/fonts/truetype/kiloji/kiloji.ttf", "/usr/share/fonts/truetype/kiloji/kiloji_p.ttf",
         "/usr/share/fonts/truetype/kiloji/kiloji_b.ttf", "/usr/share/fonts/truetype/kiloji/kiloji_d.ttf")


def font_digits() -> tuple[np.ndarray, np.ndarray]:
    """Each digit in each installed handwriting font, white on black, cropped to its ink and set into 28×28
    like an MNIST digit (so that the same scan simulation applies)."""
    from PIL import Image, ImageDraw, ImageFont

    images, labels = [], []
    for path in FONTS:
        if not Path(path).exists():
            continue
        font = ImageFont.truetype(path, 80)
        for d in range(10):
            im = Image.new("L", (120, 120), 0)
            ImageDraw.Draw(im).text((20, 10), str(d), font=font, fill=255)
            arr = np.asarray(im)
            ys, xs = np.nonzero(arr > 40)
            arr = arr[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
            h, w = arr.shape
            s = 20.0 / max(h, w)
            small = cv2.resize(arr, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
            out = np.zeros((28, 28), np.uint8)
            y0, x0 = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
            out[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
            images.append(out)
            labels.append(d)
    return np.asarray(images), np.asarray(labels)


def pipeline_digits(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Digits as the pipeline crops them from generated forms (comb boxes, and digit strings whose glyphs
    line up one to one with the truth), normalised, with their true labels."""
    import json

    from kakitori.config import OcrConfig
    from ocr import align, crop
    from ocr.digits import segment
    from ocr.load import load_pages
    from ocr.pipeline import OcrEngine

    engine = OcrEngine(OcrConfig(save_crops=False))
    xs, ys = [], []
    for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        truth = json.loads(line)
        page = next(load_pages(folder / truth["file"]))
        aligned = align.register(page.image, page.dpi, list(engine.references.values()), min_score=0.35)
        template = engine.templates[aligned.template]
        crops = crop.crop_fields(aligned.image, engine.printed[template.name], template)
        for f in template.fields:
            value = str(truth["fields"].get(f.name, ""))
            digits = [int(ch) for ch in value if ch.isdigit()]
            c = crops.get(f.name)
            if not digits or c is None or c.empty or f.type.value not in ("postal", "phone", "amount", "digits",
                                                                          "individual_number"):
                continue
            pieces = ([x for x in c.cells if x is not None] if c.cells
                      else [g.image for g in segment(c.image) if not g.separator])
            if len(pieces) == len(digits):
                xs.extend(normalise_digit(p) for p in pieces)
                ys.extend(digits)
    return np.stack(xs), np.asarray(ys)


def dataset(images: np.ndarray, labels: np.ndarray, copies: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for img, y in zip(images, labels):
        for _ in range(copies):
            xs.append(normalise_digit(as_scanned(img, rng)))
            ys.append(y)
    return features(np.stack(xs)), np.asarray(ys)


def train_mlp(x: np.ndarray, y: np.ndarray, seed: int, hidden: int = 256, epochs: int = 30, lr: float = 1e-3,
              batch: int = 128, decay: float = 1e-4) -> MLP:
    """Plain numpy training: cross-entropy, Adam, L2 weight decay."""
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    params = [rng.normal(0, np.sqrt(2 / d), (d, hidden)).astype(np.float32), np.zeros(hidden, np.float32),
              rng.normal(0, np.sqrt(2 / hidden), (hidden, 10)).astype(np.float32), np.zeros(10, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(10, dtype=np.float32)[y]
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        rate = lr * (0.5 * (1 + np.cos(np.pi * epoch / epochs)))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            xb, tb = x[idx], onehot[idx]
            w1, b1, w2, b2 = params
            h_pre = xb @ w1 + b1
            h = np.maximum(h_pre, 0)
            p = softmax(h @ w2 + b2)
            g_out = (p - tb) / len(idx)
            g_w2 = h.T @ g_out + decay * w2
            g_b2 = g_out.sum(0)
            g_h = (g_out @ w2.T) * (h_pre > 0)
            g_w1 = xb.T @ g_h + decay * w1
            g_b1 = g_h.sum(0)
            step += 1
            for i, g in enumerate((g_w1, g_b1, g_w2, g_b2)):
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                mh = m[i] / (1 - 0.9 ** step)
                vh = v[i] / (1 - 0.999 ** step)
                params[i] -= rate * mh / (np.sqrt(vh) + 1e-8)
    return MLP(*params)


def fit_temperature(model: DigitClassifier, x_norm: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature that minimises the calib split's negative log-likelihood."""
    best_t, best_nll = 1.0, np.inf
    for t in np.arange(0.5, 3.01, 0.05):
        model.temperature = float(t)
        p = model.proba_normalised(x_norm)
        nll = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--members", type=int, default=2)
    ap.add_argument("--copies", type=int, default=10, help="augmented copies of each training digit")
    ap.add_argument("--font-copies", type=int, default=150, help="augmented copies of each font digit")
    ap.add_argument("--forms", type=Path, action="append", default=[],
                    help="generated forms (MNIST train split, seed < 1000) whose pipeline crops are added")
    args = ap.parse_args(argv)
    z = np.load(args.data)
    images, labels = z["images"], z["labels"].astype(int)
    t0 = time.time()
    members, mean, std = [], None, None
    f_images, f_labels = font_digits()
    cut = [pipeline_digits(folder) for folder in args.forms]
    if cut:
        print(f"{sum(len(c[1]) for c in cut)} digits cut from generated forms")
    for i in range(args.members):
        x, y = dataset(images[TRAIN], labels[TRAIN], args.copies, seed=100 + i)
        fx, fy = dataset(f_images, f_labels, args.font_copies, seed=400 + i)
        parts = [x, fx] + [features(c[0]) for c in cut for _ in range(3)]
        x = np.concatenate(parts)
        y = np.concatenate([y, fy] + [c[1] for c in cut for _ in range(3)])
        if mean is None:
            mean, std = x.mean(0), x.std(0) + 1e-6
        members.append(train_mlp((x - mean) / std, y, seed=200 + i))
        print(f"member {i + 1}/{args.members} trained ({time.time() - t0:.0f} s)")
    model = DigitClassifier(members, mean.astype(np.float32), std.astype(np.float32))
    rng = np.random.default_rng(300)
    calib_x = np.stack([normalise_digit(as_scanned(img, rng)) for img in images[CALIB]])
    calib_y = labels[CALIB]
    model.temperature = fit_temperature(model, calib_x, calib_y)
    acc = float((model.proba_normalised(calib_x).argmax(1) == calib_y).mean())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"calib accuracy {acc:.4f}, temperature {model.temperature:.2f}, saved {args.out} "
          f"({args.out.stat().st_size / 1e6:.2f} MB, {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
