"""The cache: a directory that loads in milliseconds because the matrix is memory-mapped.

```
CACHE/
  vectors.safetensors   tensor "vectors" (n, d) F32 or F16; metadata: format, source, skipped
  tokens.txt            n words, one a line (UTF-8)
```
This is the same layout ``model.init: word2vec`` has always written to a run's ``vectors/``, so those
directories are caches too. The safetensors header is read here directly (8-byte little-endian length,
then JSON) so that the tensor can be mapped with ``np.memmap`` instead of read; ``safetensors`` itself
loads these files as well (``safetensors.numpy.load_file``).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from scratchlm.errors import DataError
from scratchlm.io import atomic_write_text, atomic_writer
from scratchlm.vectors.base import MAX_DIM, Vectors, finite_rows

MATRIX_FILE = "vectors.safetensors"
WORDS_FILE = "tokens.txt"
TENSOR = "vectors"
_NP_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8"), "BF16": np.dtype("<u2")}
_ST_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}


def is_cache(path: str | Path) -> bool:
    path = Path(path)
    return (path / MATRIX_FILE).is_file() if path.is_dir() else path.suffix == ".safetensors"


def read_safetensors_header(path: Path) -> tuple[dict, int]:
    """``(header, data_start)``; DataError when the file is not safetensors."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8)
            (length,) = struct.unpack("<Q", head) if len(head) == 8 else (None,)
            if length is None or length > min(size - 8, 100_000_000):
                raise DataError(f"{path}: not a safetensors file (bad header length)")
            header = json.loads(fh.read(length))
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DataError(f"{path}: not a safetensors file (the header is not JSON)") from None
    if not isinstance(header, dict):
        raise DataError(f"{path}: not a safetensors file (the header is not a JSON object)")
    return header, 8 + length


def map_tensor(path: Path, name: str, header: tuple[dict, int] | None = None) -> np.ndarray:
    """A read-only memory map of one 2-d float tensor of a safetensors file (bf16 is widened to float32)."""
    header, start = header or read_safetensors_header(path)
    entry = header.get(name)
    if not isinstance(entry, dict):
        raise DataError(
            f"{path}: no tensor named {name!r} (has: {', '.join(k for k in header if k != '__metadata__')})"
        )
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _NP_DTYPES or not _naturals(shape, 2):
        raise DataError(f"{path}: tensor {name!r} is {dtype} {shape}; expected a 2-d float tensor")
    np_dtype = _NP_DTYPES[dtype]
    rows, cols = shape
    if not 1 <= cols <= MAX_DIM:
        raise DataError(f"{path}: tensor {name!r} has {cols} dimensions (expected 1 to {MAX_DIM})")
    nbytes = rows * cols * np_dtype.itemsize
    if (
        not _naturals(offsets, 2)
        or offsets[1] - offsets[0] != nbytes
        or start + offsets[1] > path.stat().st_size
    ):
        raise DataError(f"{path}: tensor {name!r} does not fit the file (truncated?)")
    if nbytes == 0:
        arr = np.zeros((rows, cols), np_dtype)
    else:
        arr = np.memmap(path, dtype=np_dtype, mode="r", offset=start + offsets[0], shape=(rows, cols))
    if dtype == "BF16":  # bfloat16 is the top half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def _naturals(value, n: int) -> bool:
    return isinstance(value, list) and len(value) == n and all(type(x) is int and x >= 0 for x in value)


def read_cache(path: str | Path) -> Vectors:
    path = Path(path)
    matrix_path = path / MATRIX_FILE if path.is_dir() else path
    words_path = matrix_path.with_name(WORDS_FILE)
    if not matrix_path.is_file():
        raise DataError(f"{path}: not a vectors cache (no {MATRIX_FILE})")
    if not words_path.is_file():
        raise DataError(f"{matrix_path}: no {WORDS_FILE} beside the vectors file")
    header = read_safetensors_header(matrix_path)
    matrix = map_tensor(matrix_path, TENSOR, header)
    meta = header[0].get("__metadata__")
    meta = meta if isinstance(meta, dict) else {}
    try:
        words = words_path.read_bytes().decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        line = words_path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(f"{words_path}:{line}: not UTF-8 ({exc.reason})") from None
    if words and words[-1] == "":
        words.pop()
    if len(words) != matrix.shape[0]:
        raise DataError(
            f"{words_path}:{len(words)}: {len(words)} words for {matrix.shape[0]} vectors in {matrix_path.name}"
        )
    _check_rows(words, matrix, words_path, matrix_path)
    try:
        skipped = {str(k): int(v) for k, v in json.loads(meta.get("skipped", "{}")).items()}
    except (ValueError, TypeError, AttributeError):
        skipped = {}
    return Vectors(words, matrix, "cache", str(path), skipped)


def _check_rows(words: list[str], matrix: np.ndarray, words_path: Path, matrix_path: Path) -> None:
    """What the text readers refuse, refused in a cache too (a cache edited or damaged after it was
    written): an empty or repeated word, a row with NaN or inf."""
    seen: dict[str, int] = {}
    for line, word in enumerate(words, 1):
        if not word.strip() or word != word.strip():
            raise DataError(f"{words_path}:{line}: the word {word!r} is empty or has spaces around it")
        if seen.setdefault(word, line) != line:
            raise DataError(f"{words_path}:{line}: the word {word!r} repeats line {seen[word]}")
    bad = np.flatnonzero(~finite_rows(matrix))
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{matrix_path}: the vector of {words[row]!r} ({words_path.name}:{row + 1}) holds NaN or inf "
            f"({len(bad)} such rows); rebuild the cache from its source"
        )


def cache_metadata(path: str | Path) -> dict:
    """What the cache says about itself (the format and source it was converted from)."""
    path = Path(path)
    matrix_path = path / MATRIX_FILE if path.is_dir() else path
    meta = read_safetensors_header(matrix_path)[0].get("__metadata__")
    return dict(meta) if isinstance(meta, dict) else {}


def write_cache(directory: str | Path, vectors: Vectors) -> Path:
    """Write ``vectors`` as a cache directory; each file appears complete or not at all."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise DataError(f"{directory}: exists and is not a directory; a cache is a directory")
    matrix = np.ascontiguousarray(vectors.matrix)
    if matrix.dtype not in _ST_DTYPES:
        matrix = matrix.astype(np.float32)
    for i, word in enumerate(vectors.words):
        if "\n" in word:
            raise DataError(
                f"{vectors.source or 'vectors'}: word {i + 1} {word!r} contains a newline and "
                f"cannot be stored one a line in {WORDS_FILE}"
            )
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": vectors.format,
        "source": vectors.source,
        "skipped": json.dumps(vectors.skipped),
        "written_by": "scratchlm vectors cache 1",
    }
    header = {
        "__metadata__": meta,
        TENSOR: {
            "dtype": _ST_DTYPES[matrix.dtype],
            "shape": list(matrix.shape),
            "data_offsets": [0, matrix.nbytes],
        },
    }
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # data starts 8-byte aligned, as the safetensors writer does
    atomic_write_text(directory / WORDS_FILE, "\n".join(vectors.words) + "\n" if vectors.words else "")
    _write_matrix(directory / MATRIX_FILE, struct.pack("<Q", len(blob)) + blob, matrix)
    return directory / MATRIX_FILE


def _write_matrix(path: Path, header: bytes, matrix: np.ndarray) -> None:
    """Like ``scratchlm.io.atomic_write_bytes``, but streams the matrix instead of copying it to bytes."""
    with atomic_writer(path) as fh:
        fh.write(header)
        matrix.astype(matrix.dtype.newbyteorder("<"), copy=False).tofile(fh)
