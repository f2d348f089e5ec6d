"""The image processor: what a tokenizer is for text, for images. It turns an image (a file, a Pillow
image or ``(c, H, W)`` pixels in ``[0, 1]``) into the model's input: the run's mode (``L`` or ``RGB``),
resized to the run's size (bicubic), each channel standardised with the training images' mean and
standard deviation (computed once, when the run is created: "training" the processor).

A run saves it in ``RUN/tokenizer/image_processor.json`` (``{"kind": "image", "mode", "size", "mean",
"std"}``). An image has no token vocabulary; the processor still carries the five special tokens
(``vocab``) so that the parts of a run that read its vocabulary (the padding id, run.json's
``vocab_size``) work unchanged. The ViT's ``[CLS]`` is a learned vector, not a row of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from scratchlm.data.images import ImageExample, _to_pixels, open_image
from scratchlm.errors import DataError
from scratchlm.io import atomic_write_json
from scratchlm.tokenizers.vocab import SPECIALS, Vocab

FILE = "image_processor.json"


@dataclass
class ImageProcessor:
    mode: str
    """``L`` (1 channel) or ``RGB`` (3)."""
    size: int
    """Side in pixels of the images the model reads."""
    mean: list[float]
    std: list[float]
    kind: str = "image"
    vocab: Vocab = field(default_factory=lambda: Vocab(SPECIALS), repr=False)

    @property
    def channels(self) -> int:
        return 1 if self.mode == "L" else 3

    @classmethod
    def train(cls, examples: Sequence[ImageExample], mode: str, size: int) -> ImageProcessor:
        """Per-channel mean and standard deviation of the training pixels."""
        if not examples:
            raise DataError("no training images to compute the pixel statistics from")
        stack = np.stack([ex.pixels for ex in examples]).astype(np.float64)  # (n, c, H, W)
        mean = stack.mean(axis=(0, 2, 3))
        std = np.maximum(stack.std(axis=(0, 2, 3)), 1e-6)
        return cls(mode, size, [round(float(m), 6) for m in mean], [round(float(s), 6) for s in std])

    def normalize(self, pixels: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(..., c, H, W)`` in ``[0, 1]`` -> standardised float32 tensor."""
        x = torch.as_tensor(np.asarray(pixels), dtype=torch.float32)
        mean = torch.tensor(self.mean).view(-1, 1, 1)
        std = torch.tensor(self.std).view(-1, 1, 1)
        return (x - mean) / std

    def check(self, example: ImageExample) -> None:
        """An image of another shape than the run's is an error naming it."""
        want = (self.channels, self.size, self.size)
        if tuple(example.pixels.shape) != want:
            c, h, w = example.pixels.shape
            raise DataError(
                f"{example.source}: {w}x{h} pixels with {c} channel(s); this run reads {self.size}x{self.size} "
                f"{self.mode} images"
            )

    def read(self, path: str | Path) -> np.ndarray:
        """One image file as the run's ``(c, size, size)`` pixels in ``[0, 1]`` (converted and resized)."""
        return _to_pixels(open_image(path), self.mode, self.size, str(path))

    def read_image(self, image, source: str) -> np.ndarray:
        """A Pillow image as the run's pixels."""
        return _to_pixels(image, self.mode, self.size, source)

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"kind": self.kind, "mode": self.mode, "size": self.size, "mean": self.mean, "std": self.std}
        atomic_write_json(directory / FILE, meta)

    @classmethod
    def load(cls, directory: str | Path) -> ImageProcessor:
        directory = Path(directory)
        if (directory / "tokenizer").is_dir():
            directory = directory / "tokenizer"  # a run directory
        path = directory / FILE
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            return cls(meta["mode"], int(meta["size"]), list(meta["mean"]), list(meta["std"]))
        except FileNotFoundError:
            raise DataError(f"{path}: missing; not an image run's processor") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: unreadable image processor ({exc})") from None
