"""Resolve ``DataConfig`` to splits of examples; list and describe datasets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scratchlm.data.builtin import BUILTINS, CLASSIFICATION_LOADERS, TAGGING_LOADERS, TEXT_LOADERS
from scratchlm.data.examples import ClassificationData, Example
from scratchlm.data.files import FORMATS, read_examples
from scratchlm.data.hf_datasets import dict_splits, is_dataset_folder
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError

if TYPE_CHECKING:
    from scratchlm.config import DataConfig


def list_datasets() -> list[dict[str, str]]:
    return [
        {"name": b.name, "kind": b.kind, "package": b.package, "description": b.description}
        for b in BUILTINS.values()
    ]


def _unknown_dataset(name: str) -> DataError:
    import difflib

    close = difflib.get_close_matches(name, list(BUILTINS), n=2)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return DataError(
        f"unknown dataset {name!r}{hint} Built-in: {', '.join(BUILTINS)}; or give a path to a "
        f"{'/'.join(f[1:] for f in FORMATS)} file or a saved datasets folder"
    )


def _check_labels(examples: list[Example], labels: list[str], split: str) -> None:
    known = set(labels)
    for ex in examples:
        if ex.label not in known:
            raise DataError(
                f"{ex.source}: label {ex.label!r} in the {split} data is not one of the training labels "
                f"({', '.join(labels)})"
            )


def load_classification_data(cfg: DataConfig) -> ClassificationData:
    """Built-in dataset by name, or user files (``train_file``/``dev_file``/``test_file`` or a path)."""
    train_file = cfg.train_file
    dev_file, test_file = cfg.dev_file, cfg.test_file
    if train_file is None and cfg.dataset not in CLASSIFICATION_LOADERS:
        saved = dict_splits(Path(cfg.dataset)) if is_dataset_folder(Path(cfg.dataset)) else None
        if saved is not None:  # a DatasetDict: its own train/validation/test splits
            train_file = str(saved["train"])
            dev_file = dev_file or (str(saved["dev"]) if "dev" in saved else None)
            test_file = test_file or (str(saved["test"]) if "test" in saved else None)
        elif Path(cfg.dataset).suffix.lower() in FORMATS or Path(cfg.dataset).exists():
            train_file = cfg.dataset
        elif cfg.dataset in TEXT_LOADERS:
            raise DataError(f"dataset {cfg.dataset!r} is unlabelled text; a classifier needs labelled data")
        elif cfg.dataset in TAGGING_LOADERS:
            raise DataError(
                f"dataset {cfg.dataset!r} is tagged (one tag per character), not labelled per text; "
                "train a tagger with data.task: tagging (or auto)"
            )
        else:
            raise _unknown_dataset(cfg.dataset)
    if train_file is None:
        data = CLASSIFICATION_LOADERS[cfg.dataset]()
    else:
        kw = {"text_field": cfg.text_field, "label_field": cfg.label_field}
        rows = read_examples(train_file, **kw)
        splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
        for ex in rows:
            part = split_of(ex.text.strip())
            if part == "test" and test_file:
                part = "train"
            if part == "dev" and dev_file:
                part = "train"
            splits[part].append(ex)
        if dev_file:
            splits["dev"] = read_examples(dev_file, **kw)
        if test_file:
            splits["test"] = read_examples(test_file, **kw)
        labels = sorted({ex.label for ex in splits["train"]})
        data = ClassificationData(name=str(train_file), splits=splits, labels=labels)
    if not data.splits["train"]:
        raise DataError(f"dataset {data.name}: the train split is empty")
    if len(data.labels) < 2:
        raise DataError(
            f"dataset {data.name}: the training data has {len(data.labels)} label(s); a classifier needs 2 or more"
        )
    for split in ("dev", "test"):
        _check_labels(data.splits[split], data.labels, split)
    return data


def load_texts(source: str, train_texts: list[str] | None = None) -> list[str]:
    """Raw texts for pretraining vectors: ``train``, a built-in text/classification dataset, or a file."""
    if source == "train":
        if train_texts is None:
            raise DataError("vectors.corpus 'train' is only available inside a training run")
        return list(train_texts)
    if source in TEXT_LOADERS:
        return TEXT_LOADERS[source]()
    if source in CLASSIFICATION_LOADERS:
        return [ex.text for ex in CLASSIFICATION_LOADERS[source]().splits["train"]]
    if source in TAGGING_LOADERS:
        return [ex.text for ex in TAGGING_LOADERS[source]().splits["train"]]
    path = Path(source)
    if not path.exists():
        raise _unknown_dataset(source)
    if path.suffix.lower() in FORMATS or is_dataset_folder(path):
        return [ex.text for ex in read_examples(path, need_label=False)]
    from scratchlm.data.builtin import _read_lines

    return [line.strip() for line in _read_lines(path) if line.strip()]


def _percentiles(values: list[int], qs=(50, 90, 99)) -> dict[str, float]:
    import numpy as np

    if not values:
        return {f"p{q}": 0.0 for q in qs}
    arr = np.asarray(values)
    return {f"p{q}": float(np.percentile(arr, q)) for q in qs} | {
        "max": int(arr.max()),
        "mean": round(float(arr.mean()), 1),
    }


def dataset_stats(data: ClassificationData) -> dict:
    """Sizes, label balance and length percentiles (characters) per split."""
    out: dict = {"name": data.name, "labels": data.labels, "splits": {}, "dropped": data.notes}
    for split, examples in data.splits.items():
        counts = {label: 0 for label in data.labels}
        for ex in examples:
            counts[ex.label] = counts.get(ex.label, 0) + 1
        out["splits"][split] = {
            "examples": len(examples),
            "labels": counts,
            "chars": _percentiles([len(ex.text) for ex in examples]),
        }
    return out
