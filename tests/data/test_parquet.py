"""Parquet datasets: the fields jsonl has, labels as strings, only the asked-for columns read, and
file-level errors naming the file (and the row)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scratchlm.data.files import read_examples
from scratchlm.data.parquet import parquet_batches
from scratchlm.errors import DataError


def _parquet(path, **columns):
    pq.write_table(pa.table(columns), path)
    return path


def test_custom_fields_int_labels_and_rows(tmp_path):
    f = _parquet(
        tmp_path / "d.parquet", review=["很好", "很差", "一般"], stars=[1, 0, 2], extra=[1.5, 2.5, 3.5]
    )
    ex = read_examples(f, text_field="review", label_field="stars")
    assert [(e.text, e.label) for e in ex] == [("很好", "1"), ("很差", "0"), ("一般", "2")]
    assert [e.source for e in ex] == [f"{f}:row 1", f"{f}:row 2", f"{f}:row 3"]


def test_reads_only_the_fields_asked_for_in_batches(tmp_path, monkeypatch):
    import scratchlm.data.parquet as mod

    monkeypatch.setattr(mod, "BATCH_ROWS", 2)
    f = _parquet(
        tmp_path / "d.parquet", text=[f"t{i}" for i in range(5)], label=list("ababa"), big=[b"x"] * 5
    )
    batches = list(parquet_batches(f, ["text"]))
    assert [b.num_rows for b in batches] == [2, 2, 1] and batches[0].schema.names == ["text"]
    assert [e.source.rsplit(":", 1)[1] for e in read_examples(f)] == [f"row {i}" for i in range(1, 6)]


def test_unlabelled_reading(tmp_path):
    f = _parquet(tmp_path / "u.parquet", text=["a", "b"])
    assert [(e.text, e.label) for e in read_examples(f, need_label=False)] == [("a", ""), ("b", "")]


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        ({"txt": ["a"], "label": ["x"]}, r"no column 'text' \(columns: txt, label\); set data.text_field"),
        ({"text": ["a"], "y": ["x"]}, r"no column 'label' .*; set data.label_field"),
        ({"text": ["a", "  "], "label": ["x", "y"]}, r":row 2: empty text in field 'text'"),
        ({"text": ["a", None], "label": ["x", "y"]}, r":row 2: field 'text' must be a string, got NoneType"),
        ({"text": [1], "label": ["x"]}, r":row 1: field 'text' must be a string, got int"),
        ({"text": ["a"], "label": [None]}, r":row 1: empty label in field 'label'"),
        ({"text": pa.array([], pa.string()), "label": pa.array([], pa.string())}, "no examples"),
    ],
)
def test_errors_name_file_row_and_setting(tmp_path, columns, match):
    f = _parquet(tmp_path / "bad.parquet", **columns)
    with pytest.raises(DataError, match=match):
        read_examples(f)


def test_file_level_errors(tmp_path):
    with pytest.raises(DataError, match=r"missing.parquet: file not found"):
        read_examples(tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet", encoding="utf-8")
    with pytest.raises(DataError, match=r"junk.parquet: not a readable Parquet file"):
        read_examples(tmp_path / "junk.parquet")
    (tmp_path / "dir.parquet").mkdir()
    with pytest.raises(DataError, match=r"dir.parquet: is a directory"):
        read_examples(tmp_path / "dir.parquet")
