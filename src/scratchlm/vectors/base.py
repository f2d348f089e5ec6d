"""The in-memory form of pretrained vectors, and the one place that decides "raise or skip".

Shapes: ``n`` words, ``d`` vector dimension. ``Vectors.matrix`` is ``(n, d)`` float32 or float16; it
may be a read-only memory map (caches, ``.npy`` files), so code that changes rows copies first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from scratchlm.errors import DataError

ON_ERROR = ("raise", "skip")
DTYPES = {"float32": np.float32, "float16": np.float16}


@dataclass
class Vectors:
    """Words and their vectors, in file order (for most files: most frequent first)."""

    words: list[str]
    matrix: np.ndarray  # (n, d)
    format: str = "memory"
    source: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    """Lines or records left out, by reason (``duplicate`` always; the others with ``on_error="skip"``)."""
    compression: str | None = None
    _index: dict[str, int] | None = field(default=None, repr=False)
    _unit: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.words):
            raise ValueError(f"{len(self.words)} words for a matrix of shape {self.matrix.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[str, int]:
        """word -> row; for a repeated word, its first row."""
        if self._index is None:
            n = len(self.words)
            self._index = dict(zip(reversed(self.words), range(n - 1, -1, -1), strict=True))
        return self._index

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def row(self, word: str) -> int:
        i = self.index.get(word)
        if i is None:
            raise DataError(
                f"{word!r} is not among the {len(self.words)} words of {self.source or 'the vectors'}"
            )
        return i

    def vector(self, word: str) -> np.ndarray:
        return np.asarray(self.matrix[self.row(word)], dtype=np.float32)

    @property
    def unit(self) -> np.ndarray:
        """``(n, d)`` float32 rows scaled to length 1 (all-zero rows stay zero); computed once."""
        if self._unit is None:
            m = np.asarray(self.matrix, dtype=np.float32)
            norms = np.linalg.norm(m, axis=1, keepdims=True)
            self._unit = m / np.where(norms > 0, norms, 1)
        return self._unit

    def head(self, max_words: int | None) -> Vectors:
        """The first ``max_words`` words (a view: no copy)."""
        if max_words is None or max_words >= len(self.words):
            return self
        return Vectors(
            self.words[:max_words],
            self.matrix[:max_words],
            self.format,
            self.source,
            dict(self.skipped),
            self.compression,
        )

    def info(self) -> dict:
        return {
            "source": self.source,
            "format": self.format,
            "compression": self.compression,
            "shape": list(self.shape),
            "dtype": str(self.matrix.dtype),
            "skipped": dict(self.skipped),
        }


class Problems:
    """Collects what is wrong with an input file: raises ``DataError("file:LINE: ...")`` at once when
    ``on_error="raise"``, counts it by reason when ``on_error="skip"``."""

    def __init__(self, path: str, on_error: str = "raise"):
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        self.path = path
        self.skip = on_error == "skip"
        self.counts: Counter[str] = Counter()

    def __call__(self, line: int | None, reason: str, message: str) -> None:
        if not self.skip:
            where = f"{self.path}:{line}" if line is not None else self.path
            raise DataError(f"{where}: {message}")
        self.counts[reason] += 1

    def fatal(self, line: int | None, message: str) -> DataError:
        where = f"{self.path}:{line}" if line is not None else self.path
        return DataError(f"{where}: {message}")


MAX_DIM = 1 << 20
"""The most dimensions a vectors file may declare: a header beyond it is refused before any allocation."""


def header_fits(count: int, min_record_bytes: int, size: int | None) -> bool:
    """Whether ``count`` records of at least ``min_record_bytes`` each could be in a file of ``size`` bytes
    (unknown size, a compressed stream: always). Only absurd counts fail (twice the file and more): a count
    a little off is reported by the readers where the records end, with the line."""
    return size is None or count * min_record_bytes <= 2 * size + 4096


def finite_rows(matrix: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """``(n,)`` bool: rows without NaN or inf (in blocks: no ``(n, d)`` temporary)."""
    out = np.empty(len(matrix), dtype=bool)
    for start in range(0, len(matrix), block):
        out[start : start + block] = np.isfinite(matrix[start : start + block]).all(axis=1)
    return out


def check_dtype(dtype: str | np.dtype | type) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float16)):
        raise ValueError(f"dtype must be float32 or float16, got {dt}")
    return dt


def first_occurrences(words: list[str]) -> tuple[dict[str, int], list[int] | None]:
    """``(word -> new row, positions kept)``; positions are ``None`` when no word repeats (one dict pass)."""
    index = dict(zip(words, range(len(words)), strict=True))
    if len(index) == len(words):
        return index, None
    index, keep = {}, []
    for pos, word in enumerate(words):
        if word not in index:
            index[word] = len(keep)
            keep.append(pos)
    return index, keep


class Deduplicator:
    """Streaming :func:`first_occurrences` that stops at ``max_words`` distinct words."""

    def __init__(self, max_words: int | None = None):
        self.index: dict[str, int] = {}
        self.duplicates = 0
        self.max_words = max_words

    @property
    def full(self) -> bool:
        return self.max_words is not None and len(self.index) >= self.max_words

    def add(self, words: list[str]) -> list[int]:
        """Register ``words``; returns the positions kept."""
        index, keep = self.index, []
        for pos, word in enumerate(words):
            if word in index:
                self.duplicates += 1
            elif not self.full:
                index[word] = len(index)
                keep.append(pos)
        return keep


class RowBuffer:
    """A growing ``(n, d)`` matrix: rows are appended in blocks and the array grows in place
    (``ndarray.resize`` reallocates, which the allocator can often do without a copy), so peak memory
    stays near one matrix instead of the two that a list of blocks plus ``np.concatenate`` needs."""

    def __init__(self, dim: int, dtype: np.dtype, capacity: int = 1024, limit: int | None = None):
        """``limit``: the byte size of the input when known (rows are allocated up to it); else a header
        may lie, and the first allocation is at most 64 MB."""
        capacity = min(capacity, (limit or (1 << 26)) // (dim * np.dtype(dtype).itemsize) + 1)
        self.data = np.empty((max(1, capacity), dim), dtype=dtype)
        self.n = 0

    def append(self, block: np.ndarray) -> None:
        need = self.n + len(block)
        if need > len(self.data):
            self.data.resize((max(need, int(len(self.data) * 1.5)), self.data.shape[1]), refcheck=False)
        self.data[self.n : need] = block
        self.n = need

    def finish(self) -> np.ndarray:
        if self.n < len(self.data):
            self.data.resize((self.n, self.data.shape[1]), refcheck=False)
        return self.data
