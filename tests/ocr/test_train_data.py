"""The digit CNN's training data reader: MNIST's IDX files, and only the training-set ones."""

from __future__ import annotations

import numpy as np
import pytest

from ocr.train_digit_cnn import mnist_training_set


def _write_idx(folder, images: np.ndarray, labels: np.ndarray, image_magic: int = 2051) -> None:
    n = len(images)
    header = image_magic.to_bytes(4, "big") + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    (folder / "train-images-idx3-ubyte").write_bytes(header + images.astype(np.uint8).tobytes())
    (folder / "train-labels-idx1-ubyte").write_bytes((2049).to_bytes(4, "big") + n.to_bytes(4, "big")
                                                     + labels.astype(np.uint8).tobytes())


def test_the_training_set_is_read_from_its_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    images, labels = rng.integers(0, 256, (3, 28, 28)), np.array([7, 0, 4])
    _write_idx(tmp_path, images, labels)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"the test set: never read")
    got_images, got_labels = mnist_training_set(tmp_path)
    assert np.array_equal(got_images, images) and list(got_labels) == [7, 0, 4]


def test_files_that_are_not_mnist_are_refused_by_name(tmp_path):
    _write_idx(tmp_path, np.zeros((2, 28, 28)), np.array([1, 2]), image_magic=1234)
    with pytest.raises(SystemExit, match="not MNIST IDX"):
        mnist_training_set(tmp_path)
    with pytest.raises(SystemExit, match="train-images-idx3-ubyte: not found"):
        mnist_training_set(tmp_path / "missing")


def test_a_truncated_images_file_is_refused_by_name(tmp_path):
    _write_idx(tmp_path, np.zeros((2, 28, 28)), np.array([1, 2]))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SystemExit, match="train-images-idx3-ubyte: truncated"):
        mnist_training_set(tmp_path)
