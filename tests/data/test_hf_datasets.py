"""Folders saved by HF ``datasets``: a Dataset read like a jsonl file, a DatasetDict's splits used as the
train/dev/test splits, and errors that say what to give instead."""

from __future__ import annotations

import datasets
import pytest

from scratchlm.config import DataConfig
from scratchlm.data.files import read_examples
from scratchlm.data.hf_datasets import dict_splits, is_dataset_folder
from scratchlm.data.load import load_classification_data, load_texts
from scratchlm.errors import DataError


def _save(path, **columns):
    datasets.Dataset.from_dict(columns).save_to_disk(str(path))
    return path


def test_dataset_folder_fields_and_rows(tmp_path):
    d = _save(tmp_path / "ds", sentence=["好", "差", "中"], y=[1, 0, 1])
    assert is_dataset_folder(d) and not is_dataset_folder(tmp_path)
    ex = read_examples(d, text_field="sentence", label_field="y")
    assert [(e.text, e.label, e.source) for e in ex] == [
        ("好", "1", f"{d}:row 1"),
        ("差", "0", f"{d}:row 2"),
        ("中", "1", f"{d}:row 3"),
    ]
    with pytest.raises(DataError, match=r"no column 'text' \(columns: sentence, y\); set data.text_field"):
        load_texts(str(d))


def test_dataset_dict_gives_its_splits(tmp_path):
    train = datasets.Dataset.from_dict({"text": [f"训练{i}" for i in range(6)], "label": ["a", "b"] * 3})
    dev = datasets.Dataset.from_dict({"text": ["验证"], "label": ["a"]})
    test = datasets.Dataset.from_dict({"text": ["测试1", "测试2"], "label": ["b", "a"]})
    root = tmp_path / "dd"
    datasets.DatasetDict({"train": train, "validation": dev, "test": test}).save_to_disk(str(root))
    assert dict_splits(root) == {"train": root / "train", "dev": root / "validation", "test": root / "test"}
    data = load_classification_data(DataConfig(dataset=str(root)))
    assert [len(data.splits[s]) for s in ("train", "dev", "test")] == [6, 1, 2]
    assert data.labels == ["a", "b"]
    with pytest.raises(DataError, match=r"a DatasetDict folder .* give one split's folder, e.g. .*dd/train"):
        read_examples(root)


def test_errors(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state.json").write_text("{}", encoding="utf-8")
    with pytest.raises(DataError, match=r"broken: not a readable datasets folder"):
        read_examples(tmp_path / "broken")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(DataError, match=r"plain: unknown data format '\(none\)'.*save_to_disk"):
        read_examples(plain)
    d = _save(tmp_path / "ds", text=["a", ""], label=["x", "y"])
    with pytest.raises(DataError, match=r"ds:row 2: empty text in field 'text'"):
        read_examples(d)
