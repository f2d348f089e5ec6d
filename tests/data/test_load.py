"""Loading classification data (data.dataset / train_file / dev_file / test_file): a single file split by
the sha1 rule, held-out files replacing the held-out parts, labels checked across splits, dataset names."""

from __future__ import annotations

import hashlib
import json

import pytest

from scratchlm.config import DataConfig
from scratchlm.data import load_classification_data
from scratchlm.errors import DataError


def _split(key: str) -> str:
    h = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 10
    return "test" if h == 0 else "dev" if h == 1 else "train"


def _jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def _rows(n=300):
    return [
        {"text": f"  评论 {i} 号  " if i % 7 == 0 else f"评论{i}", "label": ["neg", "pos"][i % 2]}
        for i in range(n)
    ]


def test_single_file_is_split_by_the_sha1_rule(tmp_path):
    f = _jsonl(tmp_path / "all.jsonl", _rows())
    data = load_classification_data(DataConfig(dataset=str(f)))
    assert data.labels == ["neg", "pos"]
    assert sum(len(v) for v in data.splits.values()) == 300
    for split, examples in data.splits.items():
        for ex in examples:
            assert _split(ex.text.strip()) == split
    assert all(len(v) > 0 for v in data.splits.values())
    # the same through train_file
    again = load_classification_data(DataConfig(train_file=str(f)))
    assert {k: [e.text for e in v] for k, v in again.splits.items()} == {
        k: [e.text for e in v] for k, v in data.splits.items()
    }


def test_dev_and_test_files_replace_the_held_out_parts(tmp_path):
    train = _jsonl(tmp_path / "train.jsonl", _rows())
    dev = _jsonl(tmp_path / "dev.jsonl", [{"text": "d1", "label": "pos"}, {"text": "d2", "label": "neg"}])
    test = _jsonl(tmp_path / "test.csv.jsonl", [{"text": "t1", "label": "neg"}])
    data = load_classification_data(DataConfig(train_file=str(train), dev_file=str(dev), test_file=str(test)))
    assert len(data.splits["train"]) == 300
    assert [e.text for e in data.splits["dev"]] == ["d1", "d2"]
    assert [e.text for e in data.splits["test"]] == ["t1"]


def test_unknown_label_in_dev_file_names_file_and_line(tmp_path):
    train = _jsonl(tmp_path / "train.jsonl", _rows())
    dev = tmp_path / "dev.jsonl"
    dev.write_text('{"text": "a", "label": "pos"}\n\n{"text": "b", "label": "neutral"}\n', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_classification_data(DataConfig(train_file=str(train), dev_file=str(dev)))
    msg = str(exc.value)
    assert f"{dev}:3" in msg and "'neutral'" in msg and "neg, pos" in msg
    assert f"{dev}:3: label 'neutral' in the dev data" in msg


def test_single_label_training_data_is_rejected(tmp_path):
    f = _jsonl(tmp_path / "one.jsonl", [{"text": f"t{i}", "label": "a"} for i in range(30)])
    with pytest.raises(DataError, match="1 label"):
        load_classification_data(DataConfig(train_file=str(f)))


def test_unknown_dataset_name_suggests_builtin():
    with pytest.raises(DataError, match="did you mean zh-reviews"):
        load_classification_data(DataConfig(dataset="zh-review"))
    with pytest.raises(DataError, match="unlabelled text"):
        load_classification_data(DataConfig(dataset="pd1998-text"))
