"""Text vector files: word2vec text and fastText ``.vec`` (a ``COUNT DIM`` header) and GloVe (none).

One line per word: the word, then ``d`` numbers. A word may contain spaces: the last ``d`` fields are
the vector and everything before them is the word.

Speed comes from parsing blocks of lines, not lines: the file is read in chunks of whole lines, and a
chunk in the common shape (single spaces, no tabs or CRs, ``d + 1`` fields, valid UTF-8 words, finite
values) is parsed by a C parser in one call: polars' multi-threaded CSV reader when polars is installed
(words and numbers both, no Python work per line), else numpy's ``np.loadtxt`` with the words cut out by
one ``str.partition`` a line. Any chunk that is not in that shape is parsed again line by line
(``_parse_lines``), which is the reference behaviour: it accepts words with spaces, tabs and blank
lines and names the file and line of every problem. Every path parses numbers to float64, correctly
rounded, before the cast to ``dtype``, so a file gives the same result whichever path its chunks take
(``tests/vectors/test_text.py`` checks it on generated files).
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from scratchlm.vectors.base import (
    MAX_DIM,
    Deduplicator,
    Problems,
    RowBuffer,
    Vectors,
    first_occurrences,
    header_fits,
)

CHUNK_BYTES = 1 << 22
_OTHER_WHITESPACE = (b"\t", b"\r", b"\x0b", b"\x0c")  # single bytes: each test is one memchr
_BOM = b"\xef\xbb\xbf"


def parse_numbers(rows: list[str], dim: int) -> np.ndarray:
    """``rows`` of ``dim`` space-separated numbers -> ``(len(rows), dim)`` float32 (numpy's C parser)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = np.loadtxt(rows, dtype=np.float64, delimiter=" ", comments=None, quotechar=None, ndmin=2)
    if out.shape != (len(rows), dim):
        raise ValueError(f"parsed shape {out.shape}, expected {(len(rows), dim)}")
    return out


_POLARS: object = None


def _polars():
    """polars when installed (``pip install 'scratchlm[vectors]'``), else ``False``; imported once."""
    global _POLARS
    if _POLARS is None:
        try:
            import polars

            _POLARS = polars
        except ImportError:
            _POLARS = False
    return _POLARS


def _words_and_numbers_polars(chunk: bytes, dim: int, n_lines: int, dtype: np.dtype):
    """``(words, (n, dim) dtype)`` of a chunk with polars' multi-threaded CSV reader, or ``None``.

    The schema pins ``dim + 1`` columns: a line with more fields, a number polars cannot parse or a word
    that is not UTF-8 is an error; a line with fewer fields, a blank line, or a doubled or leading space
    leaves a null. Either sends the chunk to the line-by-line path, which names the line."""
    pl = _polars()
    schema = {"w": pl.String, **{f"v{j}": pl.Float64 for j in range(dim)}}
    try:
        frame = pl.read_csv(chunk, separator=" ", has_header=False, quote_char=None, schema=schema)
    except Exception:  # polars raises several error types for malformed text: use the reference path
        return None
    columns = frame.get_columns()
    if frame.height != n_lines or any(column.null_count() for column in columns):  # counts: no query
        return None
    block = np.empty((n_lines, dim), dtype)
    with np.errstate(over="ignore"):  # values too large for dtype become inf, reported by the caller
        for j, column in enumerate(columns[1:]):
            block[:, j] = column.to_numpy()  # float64 -> dtype in one pass (the column is not copied)
    return columns[0].to_list(), block


def _words_and_numbers_numpy(chunk: bytes, dim: int, n_lines: int, dtype: np.dtype):
    """The same with ``np.loadtxt`` (no polars): the numbers in one call, the words a line at a time."""
    if b"\n\n" in chunk or b"\n " in chunk or chunk.startswith((b"\n", b" ")):
        return None  # blank lines and leading spaces: the reference path
    if chunk.count(b" ") != n_lines * dim:
        # np.loadtxt with usecols ignores extra fields, and a line with fewer fails it: so equal totals
        # mean every line has exactly d + 1 fields (a longer line is a word with spaces: reference path)
        return None
    text = chunk.decode("latin-1")  # one byte -> one char, so the C parser sees the bytes as they are
    lines = text.split("\n")
    lines.pop()  # the chunk ends with a newline
    try:
        block = np.loadtxt(
            lines,
            dtype=np.float64,
            delimiter=" ",
            comments=None,
            quotechar=None,
            usecols=range(1, dim + 1),
            ndmin=2,
        )
    except ValueError:
        return None
    if block.shape[0] != n_lines:
        return None
    try:
        words = "\n".join([line.partition(" ")[0] for line in lines]).encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return None
    with np.errstate(over="ignore"):  # values too large for dtype become inf, reported by the caller
        return words.split("\n"), block.astype(dtype, copy=False)


def _newlines(chunk: bytes) -> int:
    """``chunk.count(b"\\n")``, vectorised: bytes.count loops a byte at a time, 4x slower on 4 MB."""
    return int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == 10))


def _fast_chunk(
    chunk: bytes, dim: int, dtype: np.dtype, n_lines: int | None = None
) -> tuple[list[str], np.ndarray] | None:
    """The common case in a few C calls; ``None`` when the chunk needs the line-by-line path.
    ``n_lines``: the chunk's newline count, when the caller has it."""
    if any(ws in chunk for ws in _OTHER_WHITESPACE) or chunk.startswith(_BOM):
        return None  # other whitespace splits fields on the reference path; polars drops a BOM
    if chunk[: chunk.find(b"\n")].count(b" ") != dim:  # the first line has d + 1 fields (a header may lie)
        return None
    n_lines = _newlines(chunk) if n_lines is None else n_lines
    parse = _words_and_numbers_polars if _polars() else _words_and_numbers_numpy
    found = parse(chunk, dim, n_lines, dtype)
    if found is None:
        return None
    if not np.isfinite(found[1]).all():  # NaN, inf, or too large for dtype: the reference path says which
        return None
    return found


def _parse_lines(
    chunk: bytes, first_line: int, dim: int, dtype: np.dtype, problems: Problems, header: bool
) -> tuple[list[str], np.ndarray, int]:
    """Line by line, the reference behaviour; returns ``(words, rows, records)`` (records: non-blank lines).
    The chunk's problems go to ``problems`` in line order, so ``on_error="raise"`` names the first."""
    words: list[str] = []
    numbers: list[str] = []
    line_nos: list[int] = []
    found: list[tuple[int, str, str]] = []  # (line, reason, message)
    records = 0
    for k, line in enumerate(chunk.split(b"\n")[:-1]):
        lineno = first_line + k
        fields = line.split()
        if not fields:
            continue
        records += 1
        if len(fields) < dim + 1:
            said = f" (the header says {dim})" if header else ""
            got = "only a word" if len(fields) == 1 else f"{len(fields) - 1} more fields"
            found.append((lineno, "fields", f"expected a word and {dim} numbers{said}, found {got}"))
            continue
        try:
            word = line.rsplit(None, dim)[0].strip().decode("utf-8")
        except UnicodeDecodeError as exc:
            found.append((lineno, "utf8", f"the word is not valid UTF-8 ({exc.reason} at byte {exc.start})"))
            continue
        words.append(word)
        numbers.append(b" ".join(fields[-dim:]).decode("latin-1"))
        line_nos.append(lineno)
    try:
        block = parse_numbers(numbers, dim) if numbers else np.empty((0, dim), np.float32)
    except ValueError:  # find the lines at fault, then parse the others
        ok = []
        for pos, row in enumerate(numbers):
            if _parses(row, dim):
                ok.append(pos)
                continue
            bad = next((t for t in row.split(" ") if not _parses(t, 1)), row)
            found.append(
                (
                    line_nos[pos],
                    "number",
                    f"not a number: {bad.encode('latin-1').decode('utf-8', 'replace')!r}",
                )
            )
        words, numbers, line_nos = ([seq[i] for i in ok] for seq in (words, numbers, line_nos))
        block = parse_numbers(numbers, dim) if numbers else np.empty((0, dim), np.float32)
    with np.errstate(over="ignore"):  # values too large for dtype become inf, reported below
        block = block.astype(dtype, copy=False)
    finite = np.isfinite(block).all(axis=1)
    if not finite.all():
        for pos in np.flatnonzero(~finite):
            big = np.isfinite(parse_numbers([numbers[pos]], dim)).all()
            what = f"a value too large for {np.dtype(dtype).name}" if big else "a NaN or infinite value"
            found.append((line_nos[pos], "non_finite", f"the vector of {words[pos]!r} has {what}"))
        words = [w for w, ok in zip(words, finite, strict=True) if ok]
        block = block[finite]
    for lineno, reason, message in sorted(found):
        problems(lineno, reason, message)
    return words, block, records


def _parses(row: str, dim: int) -> bool:
    try:
        parse_numbers([row], dim)
    except ValueError:
        return False
    return True


def _is_header(line: bytes) -> bool:
    fields = line.split()
    return len(fields) == 2 and all(f.isdigit() for f in fields)


def _guess_dim(lines: list[bytes]) -> int:
    """GloVe has no header: the most common field count of the first lines, minus the word."""
    counts = Counter(len(line.split()) for line in lines[:200] if line.strip())
    return max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0] - 1 if counts else 0


def _line_chunks(stream, buf: bytes, chunk_bytes: int):
    """Chunks of whole lines (each ends with a newline; one is added to a last line without)."""
    while True:
        more = stream.read(chunk_bytes)
        if not more:
            if buf:
                yield buf if buf.endswith(b"\n") else buf + b"\n"
            return
        buf += more
        cut = buf.rfind(b"\n") + 1
        if cut:
            yield buf[:cut]
            buf = buf[cut:]


def read_text(
    stream,
    path: str,
    *,
    fmt: str,
    header: bool | None,
    max_words: int | None,
    dtype: np.dtype,
    on_error: str,
    chunk_bytes: int = CHUNK_BYTES,
    size: int | None = None,
) -> Vectors:
    """Read a text vectors file from a binary ``stream``; ``size``: the file size, when known (the rows
    are then estimated from the first chunk's line length, so the matrix is allocated about once).

    ``header``: ``True`` requires a ``COUNT DIM`` first line, ``False`` forbids one, ``None`` detects it.
    """
    problems = Problems(path, on_error)
    buf, header, count, dim, lineno = _read_head(stream, chunk_bytes, header, problems)
    if header and not header_fits(count, dim + 1, size):  # far below a record's size: absurd ones only
        raise problems.fatal(
            1,
            f"the header says {count} words of {dim} numbers, at least {count * (dim + 1)} bytes; "
            f"the file has {size}",
        )
    dedupe = Deduplicator(max_words)
    all_words: list[str] = []
    guess = 65536 if size is None else int(1.05 * size * max(buf.count(b"\n"), 1) / max(len(buf), 1)) + 16
    rows = RowBuffer(dim, dtype, capacity=min(count or guess, max_words or guess, guess), limit=size)
    records = 0
    for chunk in _line_chunks(stream, buf, chunk_bytes):
        n_lines = _newlines(chunk)
        fast = _fast_chunk(chunk, dim, dtype, n_lines)
        if fast is not None:
            words, block = fast
            records += len(words)
        else:
            words, block, n = _parse_lines(chunk, lineno, dim, dtype, problems, header)
            records += n
        if max_words is None:  # repeated words are found once at the end, in one pass
            all_words += words
        else:
            keep = dedupe.add(words)
            block = block if len(keep) == len(words) else block[keep]
        rows.append(block)
        lineno += n_lines
        if dedupe.full:
            break
    if header and max_words is None and count != records:
        problems(1, "header", f"the header says {count} words but the file has {records}")
    matrix = rows.finish()
    index: dict[str, int] | None
    if max_words is None and len(set(all_words)) == len(all_words):
        # the usual case: no word repeats (a set is 3x faster than the index dict, built when needed)
        words, index, duplicates = all_words, None, 0
    elif max_words is None:
        index, keep = first_occurrences(all_words)
        words, duplicates, matrix = list(index), len(all_words) - len(index), matrix[keep]
    else:
        index, duplicates = dedupe.index, dedupe.duplicates
        words = list(index)
    if not words:
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(problems.counts.items()))
        raise problems.fatal(None, f"no usable vectors ({skipped or 'nothing'} skipped)")
    skipped = dict(problems.counts) | ({"duplicate": duplicates} if duplicates else {})
    return Vectors(words, matrix, fmt, path, skipped, _index=index)


def _read_head(
    stream, chunk_bytes: int, header: bool | None, problems: Problems
) -> tuple[bytes, bool, int | None, int, int]:
    """Read up to the first whole line and decide the shape: ``(the bytes read after the header line,
    header, the header's count, dim, the number of the first line in those bytes)``; GloVe's ``dim``
    (no header) is the most common field count of the first lines."""
    buf = stream.read(chunk_bytes)
    while b"\n" not in buf:
        more = stream.read(chunk_bytes)
        if not more:
            break
        buf += more
    if buf.startswith(_BOM):  # Notepad's UTF-8 mark: not part of the first word (or of the header)
        buf = buf[len(_BOM) :]
    if not buf.strip():
        raise problems.fatal(1, "the file is empty: no vectors")
    first, _, rest = buf.partition(b"\n")
    if header is None:
        header = _is_header(first)
    if not header:
        dim = _guess_dim(buf.split(b"\n")[:-1] or [buf])
        if dim < 1:
            raise problems.fatal(1, "expected a word followed by numbers on each line")
        if dim > MAX_DIM:
            raise problems.fatal(1, f"the lines have {dim} numbers (expected 1 to {MAX_DIM})")
        return buf, False, None, dim, 1
    if not _is_header(first):
        raise problems.fatal(1, f"expected a header line 'COUNT DIM', found {first[:60]!r}")
    count, dim = (int(f) for f in first.split())
    if not 1 <= dim <= MAX_DIM:
        raise problems.fatal(1, f"the header says {dim} dimensions (expected 1 to {MAX_DIM})")
    return rest, True, count, dim, 2
