"""Rows of Arrow batches as records: 1-based row numbers across batches, absent optional fields None,
and every column for ``predict --input``."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from scratchlm.data.table_rows import all_batch_records, check_columns, iter_batch_records
from scratchlm.errors import DataError


def test_rows_count_across_batches_and_absent_fields_are_none():
    batches = [pa.record_batch({"text": ["a", "b"]}), pa.record_batch({"text": ["c"]})]
    rows = list(iter_batch_records(Path("f.parquet"), batches, ["text", "label"]))
    assert rows == [
        ("f.parquet:row 1", {"text": "a", "label": None}),
        ("f.parquet:row 2", {"text": "b", "label": None}),
        ("f.parquet:row 3", {"text": "c", "label": None}),
    ]
    assert list(all_batch_records(Path("f"), [pa.table({"x": [1], "y": ["z"]})])) == [(1, {"x": 1, "y": "z"})]


def test_check_columns_names_the_setting():
    check_columns(Path("f"), ["text"], {"text": "text_field"})
    with pytest.raises(DataError, match=r"f: no column 'label' \(columns: text\); set data.label_field"):
        check_columns(Path("f"), ["text"], {"label": "label_field"})
