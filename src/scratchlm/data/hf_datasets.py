"""Folders written by Hugging Face ``datasets`` (``Dataset.save_to_disk``) as datasets, read through
``datasets.load_from_disk`` (memory-mapped Arrow files) in batches. A ``DatasetDict`` folder (one
subfolder per split) gives its splits: ``train``, ``validation`` or ``dev``, ``test``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scratchlm.errors import DataError

BATCH_ROWS = 4096
SPLIT_NAMES = {"train": ("train",), "dev": ("validation", "dev", "valid"), "test": ("test",)}


def is_dataset_folder(path: Path) -> bool:
    """A ``Dataset`` or ``DatasetDict`` folder written by ``save_to_disk``."""
    return path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file())


def dict_splits(path: Path) -> dict[str, Path] | None:
    """``{train|dev|test: folder}`` of a ``DatasetDict`` folder, ``None`` for a single ``Dataset``."""
    meta = path / "dataset_dict.json"
    if not meta.is_file():
        return None
    try:
        names = json.loads(meta.read_text(encoding="utf-8"))["splits"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{meta}: unreadable DatasetDict metadata ({exc})") from None
    out = {}
    for ours, theirs in SPLIT_NAMES.items():
        found = next((n for n in theirs if n in names), None)
        if found is not None:
            out[ours] = path / found
    if "train" not in out:
        raise DataError(f"{path}: a DatasetDict without a 'train' split (splits: {', '.join(names)})")
    return out


def load_dataset_folder(path: Path) -> Any:
    """The ``datasets.Dataset`` saved in ``path``; a ``DatasetDict`` root asks for one split's folder."""
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"{path}: reading a saved datasets folder needs `datasets` (pip install -e '.[data]')"
        ) from None
    splits = dict_splits(path)
    if splits is not None:
        raise DataError(
            f"{path}: a DatasetDict folder (splits: {', '.join(p.name for p in splits.values())}); "
            f"give one split's folder, e.g. {splits['train']}"
        )
    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises FileNotFoundError, ValueError, ArrowInvalid, ...
        raise DataError(f"{path}: not a readable datasets folder ({str(exc).splitlines()[0]})") from None
    return ds


def dataset_columns(path: Path) -> list[str]:
    return list(load_dataset_folder(path).column_names)


def dataset_batches(path: Path, columns: list[str] | None = None) -> Iterator[Any]:
    """Arrow tables of ``BATCH_ROWS`` rows holding ``columns`` (all when ``None``)."""
    ds = load_dataset_folder(path)
    if columns is not None:
        ds = ds.select_columns([c for c in columns if c in ds.column_names])
    yield from ds.with_format("arrow").iter(batch_size=BATCH_ROWS)
