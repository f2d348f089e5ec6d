"""The image processor: statistics from the training images, standardising, reading files at the run's
mode and size, save/load, and errors for images of another shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from scratchlm.data.image_processor import ImageProcessor
from scratchlm.data.images import ImageExample
from scratchlm.errors import DataError


def _examples():
    rng = np.random.default_rng(0)
    return [ImageExample(rng.random((1, 4, 4), dtype=np.float32), "a", f"x{i}") for i in range(20)]


def test_train_normalize_save_load(tmp_path):
    examples = _examples()
    p = ImageProcessor.train(examples, "L", 4)
    stack = torch.stack([p.normalize(e.pixels) for e in examples])
    assert abs(float(stack.mean())) < 1e-4 and abs(float(stack.std(unbiased=False)) - 1) < 1e-3
    p.save(tmp_path / "tok")
    q = ImageProcessor.load(tmp_path / "tok")
    assert (q.mode, q.size, q.mean, q.std) == (p.mode, p.size, p.mean, p.std)
    assert len(q.vocab) == 5 and q.vocab.pad_id == 0 and q.channels == 1


def test_read_converts_and_resizes(tmp_path):
    p = ImageProcessor("L", 8, [0.5], [0.25])
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "x.png")
    assert p.read(tmp_path / "x.png").shape == (1, 8, 8)
    with pytest.raises(DataError, match="not an image Pillow can read"):
        (tmp_path / "y.png").write_bytes(b"no")
        p.read(tmp_path / "y.png")


def test_check_and_load_errors(tmp_path):
    p = ImageProcessor("RGB", 8, [0.5] * 3, [0.2] * 3)
    with pytest.raises(DataError, match="x0: 4x4 pixels with 1 channel"):
        p.check(_examples()[0])
    with pytest.raises(DataError, match="image_processor.json: missing"):
        ImageProcessor.load(tmp_path)
    (tmp_path / "image_processor.json").write_text("{}")
    with pytest.raises(DataError, match="unreadable image processor"):
        ImageProcessor.load(tmp_path)
