"""Images: the built-in digits (its split counts), folders of PNG/JPEG and .npz files, and a clear error
naming the file for each kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from scratchlm.data.images import load_digits_data, load_image_data, read_images, write_npz
from scratchlm.errors import DataError


def test_digits_split_counts_and_scale():
    data = load_digits_data()
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 1445, "dev": 193, "test": 159}
    assert data.labels == [str(d) for d in range(10)] and (data.mode, data.size, data.pixel_max) == (
        "L",
        8,
        16.0,
    )
    ex = data.splits["test"][0]
    assert ex.pixels.shape == (1, 8, 8) and ex.pixels.dtype == np.float32
    assert 0.0 <= ex.pixels.min() and ex.pixels.max() <= 1.0


def _folder(root, images: dict[str, list[np.ndarray]], suffix=".png"):
    for label, arrays in images.items():
        (root / label).mkdir(parents=True)
        for i, a in enumerate(arrays):
            Image.fromarray(a).save(root / label / f"{i}{suffix}")
    return root


def _gray(n, size=8, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size), dtype=np.uint8) for _ in range(n)]


def test_folder_of_images_labels_by_subfolder(tmp_path):
    root = _folder(tmp_path / "imgs", {"cat": _gray(12), "dog": _gray(12, seed=1)})
    data = load_image_data(root)
    assert data.labels == ["cat", "dog"] and data.mode == "L" and data.size == 8
    assert sum(len(v) for v in data.splits.values()) == 24
    ex = data.splits["train"][0]
    assert ex.source.endswith(".png") and ex.pixels.shape == (1, 8, 8)


def test_rgb_jpeg_and_resizing(tmp_path):
    rng = np.random.default_rng(0)
    rgb = [rng.integers(0, 256, (10, 14, 3), dtype=np.uint8) for _ in range(4)]
    root = _folder(tmp_path / "imgs", {"a": rgb[:2], "b": rgb[2:]}, suffix=".jpg")
    data = load_image_data(root, size=12)
    assert data.mode == "RGB" and data.splits["train"][0].pixels.shape == (3, 12, 12)
    with pytest.raises(DataError, match=r"14x10 pixels is not square; set data.image_size"):
        load_image_data(root)


def test_npz_round_trip(tmp_path):
    data = load_digits_data()
    path = tmp_path / "d.npz"
    write_npz(path, data.splits["test"])
    back = read_images(path)
    assert len(back) == 159 and [e.label for e in back] == [e.label for e in data.splits["test"]]
    assert np.abs(back[0].pixels - data.splits["test"][0].pixels).max() <= 0.5 / 255 + 1e-6
    assert back[3].source == f"{path}[3]"


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"images": np.zeros((3, 8, 8), np.uint8)}, "no array 'labels'"),
        ({"images": np.zeros((3, 8), np.uint8), "labels": np.zeros(3)}, r"expected \(n, H, W\)"),
        ({"images": np.zeros((3, 8, 8), np.uint8), "labels": np.zeros(2)}, r"labels has shape \(2,\)"),
        ({"images": np.full((3, 8, 8), 1.5, np.float32), "labels": np.zeros(3)}, r"d.npz\[0\]: float pixels"),
        ({"images": np.full((3, 8, 8), 300, np.int32), "labels": np.zeros(3)}, "uint8 0-255"),
    ],
)
def test_bad_npz_files_name_the_problem(tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        read_images(path)


def test_bad_folders_name_the_file(tmp_path):
    root = _folder(tmp_path / "imgs", {"a": _gray(2), "b": _gray(2, size=6)})
    with pytest.raises(DataError, match=r"b/0.png: 6x6 pixels .* set data.image_size"):
        load_image_data(root)
    (root / "a" / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="notes.txt: not an image file"):
        read_images(root)
    (root / "a" / "notes.txt").unlink()
    (root / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="broken.png: not an image Pillow can read"):
        read_images(root)
    with pytest.raises(DataError, match="no such folder or .npz"):
        read_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images found"):
        read_images(tmp_path / "empty")


def test_dev_labels_must_be_training_labels(tmp_path):
    train = _folder(tmp_path / "train", {"a": _gray(3), "b": _gray(3, seed=1)})
    dev = _folder(tmp_path / "dev", {"a": _gray(1), "zebra": _gray(1, seed=2)})
    with pytest.raises(DataError, match="label 'zebra' in the dev data"):
        load_image_data(train, dev=dev)
