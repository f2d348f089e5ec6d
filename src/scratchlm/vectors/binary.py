"""word2vec binary files: a ``COUNT DIM`` text line, then per word ``word<space>`` and ``DIM``
little-endian float32 values (4 x DIM raw bytes), optionally followed by a newline.

Words have different lengths, so record ``i`` can only be found after record ``i - 1``. That walk is
done in C, not a Python step per record: one regular expression matches the longest run of whole
records in a window (``.{4 x DIM}`` is a pointer jump in the ``re`` engine), a second one lists the
run's words with the newlines before them, the record lengths give each vector's start (a cumulative
sum), and the vectors are copied into the output matrix by one numpy gather: the window seen as a
(strided, copy-free) table of every vector-long slice, indexed by the starts. No float parsing, no
per-value Python objects, and the finite check runs on each window's rows while they are in the
cache. The file is read through two small fixed windows (4 MB measured faster than 8 or 32 MB,
probably because the gather's temporary is then reused from the heap): a thread reads the next one
(``readinto`` and decompression release the GIL) while the current one is scanned, so on two cores
the load takes about as long as reading the bytes. Memory is the matrix plus the words plus the two
windows, whatever the file size.

Record ``i`` is reported as line ``i + 2`` (the header is line 1), with its byte offset.
"""

from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from scratchlm.vectors.base import MAX_DIM, Problems, Vectors, finite_rows, first_occurrences, header_fits

FASTTEXT_BIN_MAGIC = (793712314).to_bytes(4, "little")
WINDOW_BYTES = 1 << 22
MAX_WORD_BYTES = 1 << 16
_NEWLINES = re.compile(rb"\n*")
_POSSESSIVE = "+" if sys.version_info >= (3, 11) else ""  # no backtracking state kept per record


class _Scanner:
    """The records of one ``dim``: ``newlines* word<space>vector``, a word of at most
    ``MAX_WORD_BYTES - 1`` bytes without a space (what a search for the space within
    ``MAX_WORD_BYTES`` bytes finds)."""

    def __init__(self, dim: int):
        self.dim = dim
        self.record = 4 * dim
        one = rb"\n*[^ ]{0,%d} .{%d}" % (MAX_WORD_BYTES - 1, self.record)
        self.run = re.compile(rb"(?:%s)*%s" % (one, _POSSESSIVE.encode()), re.DOTALL)
        self.each = re.compile(rb"(\n*[^ ]{0,%d}) .{%d}" % (MAX_WORD_BYTES - 1, self.record), re.DOTALL)

    def scan(self, buf, pos: int, end: int, limit: int) -> tuple[bytes, np.ndarray]:
        """The whole records in ``buf[pos:end]`` (at most ``limit``): their words joined by spaces (a word
        has none) and each vector's start."""
        stop = self.run.match(buf, pos, end).end()
        if stop == pos:
            return b"", np.empty(0, np.int64)
        heads = self.each.findall(buf, pos, stop)  # each record's newlines and word
        del heads[limit:]
        sizes = np.fromiter(map(len, heads), np.int64, len(heads))
        sizes += 1 + self.record
        starts = np.cumsum(sizes)
        starts += pos - self.record
        words = b" ".join(heads)
        if b"\n" in words:  # the newlines before a word follow a space (or start the list)
            while b" \n" in words:  # one pass per newline a record ends with: one for word2vec.c's files
                words = words.replace(b" \n", b" ")
            words = words.lstrip(b"\n")
        return words, starts


def _copy_rows(window: np.ndarray, starts: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """Copy the vectors that start at ``starts`` in ``window`` (bytes) to ``dest`` (its dtype); which of
    them are finite."""
    # every vector-long slice of the window as a row (a view): picking the rows that start at the
    # vectors copies them in one numpy gather
    rows = as_strided(
        window, (len(window) - 4 * dest.shape[1] + 1, 4 * dest.shape[1]), (1, 1), writeable=False
    )
    with np.errstate(over="ignore"):  # float16: a value too large is inf, reported as not finite
        dest[...] = rows[starts].view("<f4")
    return finite_rows(dest)  # the rows just written, still in the cache


def _fill(stream, view) -> int:
    """Read into ``view`` until it is full or the stream ends; the byte count."""
    n = 0
    while n < len(view):
        got = stream.readinto(view[n:])
        if not got:
            break
        n += got
    return n


def read_word2vec_binary(
    stream, path: str, *, max_words: int | None, dtype: np.dtype, on_error: str, size: int | None = None
) -> Vectors:
    """``stream``: a binary file object (plain or decompressing); ``size``: the file size, when known."""
    problems = Problems(path, on_error)
    head = stream.read(256).removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM before the header line
    count, dim, cut = _header(head, problems)
    if not header_fits(count, 4 * dim + 1, size):  # a record: (a word,) a space, 4 x dim bytes
        raise problems.fatal(
            1,
            f"the header says {count} words of {dim} dimensions, at least {count * (4 * dim + 1)} bytes; "
            f"the file has {size}",
        )
    wanted = count if max_words is None else min(count, max_words)
    records = _read_records(stream, head, cut, _Scanner(dim), count, wanted, dtype, size)
    if records.got == count and max_words is None and records.trailing.strip():
        problems(1, "header", f"the header says {count} words but more data follows at byte {records.at}")
    names, kept_rows = _names(records, dtype, problems)
    if records.truncated:
        problems(records.got + 2, "truncated", records.truncated)
    index: dict[str, int] | None = None
    named, matrix = len(names), records.matrix
    if len(set(names)) < named:  # a set is cheaper than the index dict, built only when a word repeats
        index, keep_pos = first_occurrences(names)
        rows = kept_rows if kept_rows is not None else range(named)
        kept_rows = [rows[p] for p in keep_pos]
        names = list(index)
    if kept_rows is not None and len(kept_rows) < records.got:
        matrix = matrix[kept_rows]
    if not names:
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(problems.counts.items()))
        raise problems.fatal(None, f"no usable vectors ({skipped or 'nothing'} skipped)")
    duplicates = named - len(names)
    skipped = dict(problems.counts) | ({"duplicate": duplicates} if duplicates else {})
    return Vectors(names, matrix, "word2vec-binary", path, skipped, _index=index)


def _header(head: bytes, problems: Problems) -> tuple[int, int, int]:
    """``(count, dim, end of the header line)`` from the file's first bytes."""
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
    return count, dim, cut


@dataclass
class _Records:
    """What the walk over the records found: ``got`` vectors and their words, and how the file ended."""

    matrix: np.ndarray  # (got, dim), in the output dtype
    words: bytes  # the ``got`` words, joined by spaces
    finite: list[np.ndarray]  # per window: which of its rows have no NaN or inf (as the output dtype)
    got: int
    at: int  # the file offset after the last record wanted ...
    trailing: bytes  # ... and the bytes that follow it (there, or in the next window)
    truncated: str  # why the walk stopped before the header's count ("" when it did not)


def _read_records(
    stream, head: bytes, cut: int, scanner: _Scanner, count: int, wanted: int, dtype, size: int | None
) -> _Records:
    """Walk the records after the header line (``head[:cut]``) through two windows, the next one read
    by a thread while the current one is scanned, copying each window's vectors in one gather."""
    record, dim = scanner.record, scanner.dim
    capacity = (
        wanted if size is None else min(wanted, (size - cut - 1) // (record + 1))
    )  # >= a space + vector
    out = np.empty((min(capacity, 1 << 16) if size is None else capacity, dim), dtype=dtype)
    finite: list[np.ndarray] = []
    # room before a window for the unfinished record of the last one (or the bytes read with the header)
    reserve = max(record + MAX_WORD_BYTES, len(head))
    window = max(min(WINDOW_BYTES, size or WINDOW_BYTES), 2 * reserve)
    bufs = (bytearray(reserve + window), bytearray(reserve + window))
    windows = (np.frombuffer(bufs[0], np.uint8), np.frombuffer(bufs[1], np.uint8))
    words: list[bytes] = []  # each window's words, joined by spaces
    got, k, carried, file_at = 0, 0, head[cut + 1 :], len(head)
    at, trailing, truncated = 0, b"", ""
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(_fill, stream, memoryview(bufs[0])[reserve:])
        while True:
            buf = bufs[k]
            n = reading.result()
            eof = n < window
            if not eof:  # the next window is read while this one is scanned
                reading = pool.submit(_fill, stream, memoryview(bufs[1 - k])[reserve:])
            base = file_at - reserve  # the file offset of buf[0]
            file_at += n
            pos, end = reserve - len(carried), reserve + n
            buf[pos:reserve] = carried
            found, starts = scanner.scan(buf, pos, end, wanted - got)
            if len(starts):
                new = len(starts)
                if got + new > len(out):  # compressed input: the row count is known only at the end
                    out.resize((max(got + new, min(wanted, 2 * len(out))), dim), refcheck=False)
                finite.append(_copy_rows(windows[k], starts, out[got : got + new]))
                words.append(found)
                got += new
                pos = int(starts[-1]) + record
            pos = _NEWLINES.match(buf, pos, end).end()  # the newline some writers put after each vector
            if got == wanted:
                at, trailing = base + pos, bytes(buf[pos:end])
                if not trailing.strip() and not eof:
                    trailing = bytes(bufs[1 - k][reserve : reserve + reading.result()])
                break
            left = end - pos
            stuck = left >= MAX_WORD_BYTES and buf.find(b" ", pos, pos + MAX_WORD_BYTES) < 0
            if eof or stuck:  # reported after the words' own problems, which come earlier in the file
                what = (
                    "no word"
                    if left <= 0
                    else f"no space in {MAX_WORD_BYTES} bytes (not a word)"
                    if stuck
                    else "a truncated record"
                )
                truncated = f"(byte {base + pos}) the header says {count} words; the file ends with {what} after {got}"
                break
            carried = bytes(buf[pos:end])  # shorter than ``reserve``: a record that did not fit
            k = 1 - k
    if got < len(out):
        out.resize((got, dim), refcheck=False)
    return _Records(out, b" ".join(words), finite, got, at, trailing, truncated)


def _names(records: _Records, dtype: np.dtype, problems: Problems) -> tuple[list[str], list[int] | None]:
    """The words of the records read, and the records to keep (``None``: all of them): an empty word,
    one that is not UTF-8, or a vector with NaN or inf is a problem (and its record is dropped)."""
    joined, got = records.words, records.got
    bad_rows = np.flatnonzero(~np.concatenate(records.finite)).tolist() if records.finite else []
    try:  # words cannot contain a space, and in UTF-8 byte 0x20 is only ever a space
        decoded = joined.decode("utf-8").split(" ") if got else []
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and not bad_rows and "" not in decoded:  # the usual file: nothing to drop
        return decoded, None
    names, kept_rows, bad = [], [], set(bad_rows)
    raw_words = joined.split(b" ") if got else []
    for i, raw in enumerate(raw_words):
        if not raw:
            problems(i + 2, "empty_word", "empty word")
            continue
        word = decoded[i] if decoded is not None else _decode(raw, i + 2, problems)
        if word is None:
            continue
        if i in bad:
            problems(
                i + 2,
                "non_finite",
                f"the vector of {word!r} has a NaN or infinite value"
                + (" (as float16)" if dtype == np.float16 else ""),
            )
            continue
        names.append(word)
        kept_rows.append(i)
    return names, kept_rows


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
