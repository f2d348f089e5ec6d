"""word2vec binary files: a ``COUNT DIM`` text line, then per word ``word<space>`` and ``DIM``
little-endian float32 values (4 x DIM raw bytes), optionally followed by a newline.

Words have different lengths, so record ``i`` can only be found after record ``i - 1``: one
``bytearray.find`` per record gives the word, and its vector is copied as raw bytes straight into the
output matrix (no float parsing, no per-value Python objects). The file is read through a fixed 64 MB
window, so memory is the matrix plus the words plus the window, whatever the file size.

Record ``i`` is reported as line ``i + 2`` (the header is line 1), with its byte offset.
"""

from __future__ import annotations

import numpy as np

from scratchlm.vectors.base import Problems, Vectors, finite_rows, first_occurrences

FASTTEXT_BIN_MAGIC = (793712314).to_bytes(4, "little")
WINDOW_BYTES = 1 << 26
MAX_WORD_BYTES = 1 << 16
MAX_DIM = 1 << 20


class _Window:
    """A sliding view of a binary stream: ``buf[start:end]`` holds the unread bytes."""

    def __init__(self, stream, size: int):
        self.stream, self.buf, self.start, self.end, self.offset = stream, bytearray(size), 0, 0, 0
        self.eof = False

    def refill(self) -> bool:
        """Move the unread bytes to the front and read more; ``False`` when nothing more came."""
        n = self.end - self.start
        self.buf[:n] = self.buf[self.start : self.end]
        self.offset += self.start
        self.start, self.end = 0, n
        got_any = False
        with memoryview(self.buf) as view:
            while self.end < len(self.buf) and not self.eof:
                got = self.stream.readinto(view[self.end :])
                if not got:
                    self.eof = True
                    break
                self.end += got
                got_any = True
        return got_any


def read_word2vec_binary(
    stream, path: str, *, max_words: int | None, dtype: np.dtype, on_error: str, size: int | None = None
) -> Vectors:
    """``stream``: a binary file object (plain or decompressing); ``size``: the file size, when known."""
    problems = Problems(path, on_error)
    head = stream.read(256)
    if not head:
        raise problems.fatal(1, "the file is empty: no vectors")
    if head[:4] == FASTTEXT_BIN_MAGIC:
        raise problems.fatal(
            None, "this is a fastText model (.bin), not word2vec vectors; read its .vec file"
        )
    cut = head.find(b"\n")
    fields = head[: cut if cut >= 0 else 256].split()
    if cut < 0 or len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise problems.fatal(1, f"expected a header line 'COUNT DIM', found {head[:40]!r}")
    count, dim = int(fields[0]), int(fields[1])
    if not 1 <= dim <= MAX_DIM:
        raise problems.fatal(1, f"the header says {dim} dimensions (expected 1 to {MAX_DIM})")
    record = 4 * dim
    wanted = count if max_words is None else min(count, max_words)
    capacity = (
        wanted if size is None else min(wanted, (size - cut - 1) // (record + 1))
    )  # >= a space + vector
    out = np.empty((min(capacity, 1 << 16) if size is None else capacity, dim), dtype="<f4")
    win = _Window(stream, max(min(WINDOW_BYTES, size or WINDOW_BYTES), 2 * (record + MAX_WORD_BYTES)))
    win.buf[: len(head) - cut - 1] = head[cut + 1 :]
    win.end, win.offset = len(head) - cut - 1, cut + 1
    words: list[bytes] = []
    append = words.append
    dst = memoryview(out.reshape(-1)).cast("B") if out.size else None
    buf = win.buf
    src = memoryview(buf)  # the window never changes size, so this view stays valid across refills
    start, end, i = win.start, win.end, 0
    while i < wanted:  # the hot loop: locals only
        pos = start
        while pos < end and buf[pos] == 10:  # the newline some writers put after each vector
            pos += 1
        space = buf.find(b" ", pos, min(end, pos + MAX_WORD_BYTES))
        stop = space + 1 + record
        if space < 0 or stop > end:
            win.start = pos
            if (space >= 0 or end - pos < MAX_WORD_BYTES) and win.refill():
                start, end = win.start, win.end
                continue
            break
        if i == len(out):  # compressed input: the row count is known only at the end
            if dst is not None:
                dst.release()
            out.resize((max(16, min(wanted, 2 * len(out))), dim), refcheck=False)
            dst = memoryview(out.reshape(-1)).cast("B")
        append(bytes(src[pos:space]))
        dst[i * record : i * record + record] = src[space + 1 : stop]
        start, i = stop, i + 1
    else:
        win.start = start
    src.release()
    if dst is not None:
        dst.release()
    got = len(words)
    if got < len(out):
        out.resize((got, dim), refcheck=False)
    at = win.offset + win.start
    if got == count and max_words is None:
        win.refill()
        if bytes(buf[win.start : win.end]).strip():
            problems(1, "header", f"the header says {count} words but more data follows at byte {at}")
    with np.errstate(over="ignore"):
        matrix = out.astype(dtype, copy=False)
    bad_rows = set(np.flatnonzero(~finite_rows(matrix)).tolist())
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
            problems(
                i + 2,
                "non_finite",
                f"the vector of {word!r} has a NaN or infinite value"
                + (" (as float16)" if dtype == np.float16 else ""),
            )
            continue
        names.append(word)
        kept_rows.append(i)
    if got < wanted:
        left = win.end - win.start
        what = (
            "no word"
            if left <= 0
            else f"no space in {MAX_WORD_BYTES} bytes (not a word)"
            if left >= MAX_WORD_BYTES and buf.find(b" ", win.start, win.start + MAX_WORD_BYTES) < 0
            else "a truncated record"
        )
        problems(
            got + 2,
            "truncated",
            f"(byte {at}) the header says {count} words; the file ends with {what} after {got}",
        )
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
    return Vectors(list(index), matrix, "word2vec-binary", path, skipped, _index=index)


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
