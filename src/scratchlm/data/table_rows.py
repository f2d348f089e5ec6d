"""Records from Arrow record batches (a Parquet file, a saved HF ``datasets`` folder), in the shape
:func:`scratchlm.data.files.iter_records` gives for jsonl/csv: ``(where, {field: value})`` with ``where``
= ``path:row N`` (1-based), the same missing-field errors naming the setting to change."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from scratchlm.data.hf_datasets import dataset_batches, dataset_columns, is_dataset_folder
from scratchlm.data.parquet import is_parquet, parquet_batches, parquet_columns
from scratchlm.errors import DataError


def is_table(path: Path) -> bool:
    """A Parquet file or a saved datasets folder (read here, not as text)."""
    return is_parquet(path) or is_dataset_folder(path)


def _open(path: Path) -> tuple[list[str], Any]:
    if is_parquet(path):
        return parquet_columns(path), parquet_batches
    return dataset_columns(path), dataset_batches


def table_records(
    path: Path, required: dict[str, str], optional: tuple[str, ...] = ()
) -> Iterator[tuple[str, dict[str, object]]]:
    """:func:`iter_batch_records` of a Parquet file or datasets folder, reading only the fields asked for."""
    columns, batches = _open(path)
    check_columns(path, columns, required)
    names = [*required, *optional]
    yield from iter_batch_records(path, batches(path, [n for n in names if n in columns]), names)


def table_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every row with all its columns (``predict --input``)."""
    _, batches = _open(path)
    yield from all_batch_records(path, batches(path))


def check_columns(path: Path, columns: list[str], required: dict[str, str]) -> None:
    """A one-line error for the first required field that is not a column."""
    for key, setting in required.items():
        if key not in columns:
            raise DataError(f"{path}: no column {key!r} (columns: {', '.join(columns)}); set data.{setting}")


def iter_batch_records(
    path: Path, batches: Iterable[Any], names: list[str]
) -> Iterator[tuple[str, dict[str, object]]]:
    """``(path:row N, {name: value})`` for each row of ``batches`` (pyarrow record batches or tables
    holding the present ``names``); a name no batch holds is ``None``."""
    row = 0
    for batch in batches:
        present = [n for n in names if n in batch.schema.names]
        cols = {n: batch.column(n).to_pylist() for n in present}
        for i in range(batch.num_rows):
            row += 1
            yield f"{path}:row {row}", {n: cols[n][i] if n in cols else None for n in names}


def all_batch_records(path: Path, batches: Iterable[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row N, every column's value)`` for each row (``predict --input`` keeps all the columns)."""
    row = 0
    for batch in batches:
        for rec in batch.to_pylist():
            row += 1
            yield row, rec
