"""Parquet files (``.parquet``) as datasets: read in record batches through pyarrow, only the columns
asked for, so a large file is never held whole. Errors name the file (and the row)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scratchlm.errors import DataError

SUFFIX = ".parquet"
BATCH_ROWS = 4096


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX


def open_parquet(path: Path) -> Any:
    """The ``pyarrow.parquet.ParquetFile``; a missing, unreadable or non-Parquet file is a ``DataError``."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{path}: reading Parquet needs pyarrow (pip install -e '.[data]')") from None
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a .parquet file")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None


def parquet_columns(path: Path) -> list[str]:
    return list(open_parquet(path).schema_arrow.names)


def parquet_batches(path: Path, columns: list[str] | None = None) -> Iterator[Any]:
    """Record batches of ``columns`` (all when ``None``); a corrupt page is a ``DataError``."""
    import pyarrow as pa

    pf = open_parquet(path)
    try:
        yield from pf.iter_batches(batch_size=BATCH_ROWS, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: corrupt Parquet data ({str(exc).splitlines()[0]})") from None
