"""word2vec binary files: a ``COUNT DIM`` text line, then per word ``word<space>`` and ``DIM``
little-endian float32 values (4 x DIM raw bytes), optionally followed by a newline.

Words have different lengths, so record ``i`` can only be found after record ``i - 1``: one pass of
``bytes.find`` over the file gives the word offsets, and each vector is copied as raw bytes straight
into the output matrix (no float parsing, no per-value Python objects). The file is memory-mapped when
it is not compressed, so the copy into the matrix is the only copy.

Record ``i`` is reported as line ``i + 2`` (the header is line 1), with its byte offset.
"""

from __future__ import annotations

import numpy as np

from scratchlm.vectors.base import Problems, Vectors, first_occurrences

FASTTEXT_BIN_MAGIC = (793712314).to_bytes(4, "little")


def read_word2vec_binary(buf, path: str, *, max_words: int | None, dtype: np.dtype, on_error: str) -> Vectors:
    """``buf``: the whole file as ``bytes`` or an ``mmap``."""
    problems = Problems(path, on_error)
    if len(buf) == 0:
        raise problems.fatal(1, "the file is empty: no vectors")
    if buf[:4] == FASTTEXT_BIN_MAGIC:
        raise problems.fatal(None, "this is a fastText model (.bin), not word2vec vectors; read its .vec file")
    end = buf.find(b"\n", 0, 256)
    fields = buf[: end if end >= 0 else 256].split()
    if end < 0 or len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise problems.fatal(1, f"expected a header line 'COUNT DIM', found {bytes(buf[:40])!r}")
    count, dim = int(fields[0]), int(fields[1])
    if dim < 1:
        raise problems.fatal(1, f"the header says {dim} dimensions")
    record = 4 * dim
    size = len(buf)
    pos = end + 1
    wanted = count if max_words is None else min(count, max_words)
    n = min(wanted, (size - pos) // (record + 1))  # a record is at least a space and the vector
    out = np.empty((n, dim), dtype="<f4")
    words: list[bytes] = []
    with memoryview(buf) as src, memoryview(out.reshape(-1)).cast("B") as dst:
        for i in range(n):
            while pos < size and buf[pos] == 10:  # the newline some writers put after each vector
                pos += 1
            space = buf.find(b" ", pos)
            if space < 0 or space + 1 + record > size:
                break
            words.append(buf[pos:space])
            dst[i * record:(i + 1) * record] = src[space + 1:space + 1 + record]
            pos = space + 1 + record
    got = len(words)
    if got < wanted:
        what = "no word" if pos >= size else "a truncated record"
        problems(got + 2, "truncated", f"(byte {pos}) the header says {count} words; the file ends with {what} "
                 f"after {got}")
    elif max_words is None and buf[pos:pos + 64].strip():
        problems(1, "header", f"the header says {count} words but more data follows at byte {pos}")
    out = out[:got] if got < n else out
    with np.errstate(over="ignore"):
        matrix = out.astype(dtype, copy=False)
    keep = np.isfinite(matrix).all(axis=1)
    bad_rows = set(np.flatnonzero(~keep).tolist())
    names: list[str] = []
    kept_rows: list[int] = []
    try:  # words cannot contain a space, and in UTF-8 byte 0x20 is only ever a space
        decoded = b" ".join(words).decode("utf-8").split(" ")
    except UnicodeDecodeError:
        decoded = None
    for i, raw in enumerate(words):
        if not raw:
            problems(i + 2, "empty_word", "empty word")
            continue
        word = decoded[i] if decoded is not None else _decode(raw, i + 2, problems)
        if word is None:
            continue
        if i in bad_rows:
            problems(i + 2, "non_finite", f"the vector of {word!r} has a NaN or infinite value"
                     + (" (as float16)" if dtype == np.float16 else ""))
            continue
        names.append(word)
        kept_rows.append(i)
    index, keep_pos = first_occurrences(names)
    if keep_pos is not None:
        kept_rows = [kept_rows[p] for p in keep_pos]
    if len(kept_rows) < got:
        matrix = matrix[kept_rows]
    if not index:
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(problems.counts.items()))
        raise problems.fatal(None, f"no usable vectors ({skipped or 'nothing'} skipped)")
    duplicates = len(names) - len(index)
    skipped = dict(problems.counts) | ({"duplicate": duplicates} if duplicates else {})
    return Vectors(list(index), np.ascontiguousarray(matrix, dtype=dtype), "word2vec-binary", path, skipped,
                   _index=index)


def _decode(raw: bytes, line: int, problems: Problems) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems(line, "utf8", f"the word is not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return None


def write_word2vec_binary(path, words: list[str], matrix: np.ndarray) -> None:
    """The format gensim and the original word2vec write (with a newline after each vector)."""
    matrix = np.ascontiguousarray(matrix, dtype="<f4")
    with open(path, "wb") as fh:
        fh.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        for word, row in zip(words, matrix, strict=True):
            if not word or any(c.isspace() for c in word):
                raise ValueError(f"word2vec binary cannot store the word {word!r}")
            fh.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
