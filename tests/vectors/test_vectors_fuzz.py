"""Fuzz every reader: whatever the bytes, the only exception that may escape is DataError.

100 generated files per format in ``make test``; 1,000 in ``make test-all`` (``-m slow``).
"""

from __future__ import annotations

import gzip
import io
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchlm.errors import DataError
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.cache import write_cache
from scratchlm.vectors.io import load_vectors

FUZZ_FORMATS = ["word2vec", "glove", "fasttext", "gzip-text", "word2vec-binary", "npy", "cache"]

words = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n"), min_size=1, max_size=6)
numbers = st.one_of(
    st.floats(width=32).map(lambda x: f"{x:.6g}"),
    st.integers(-1000, 1000).map(str),
    st.sampled_from(
        ["nan", "inf", "-inf", "1e40", "x", "", "1,5", "--1", "0x1p3", "1_0", "1.5.3", "\t", "\r"]
    ),
)
lines = st.tuples(words, st.lists(numbers, max_size=4)).map(lambda t: " ".join([t[0], *t[1]]))
edits = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "replace"]),
        st.integers(0, 10**6),
        st.binary(min_size=1, max_size=4),
    ),
    max_size=3,
)


def mutate(data: bytes, ops) -> bytes:
    for op, pos, blob in ops:
        pos = pos % (len(data) + 1)
        if op == "insert":
            data = data[:pos] + blob + data[pos:]
        elif op == "delete":
            data = data[:pos] + data[pos + len(blob) :]
        else:
            data = data[:pos] + blob + data[pos + len(blob) :]
    return data


def text_file(draw, header: bool) -> bytes:
    body = draw(st.lists(lines, max_size=8))
    head = []
    if header:
        n, d = draw(st.sampled_from([(len(body), 3), (len(body) + 1, 3), (len(body), 2)]))
        head = [draw(st.sampled_from([f"{n} {d}", f"{n}", "x y", f"{n} {d} 1"]))]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(head + body).encode("utf-8") + draw(st.sampled_from([b"", b"\n"]))


def matrix_of(draw, n: int, d: int) -> np.ndarray:
    values = draw(
        st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=n * d, max_size=n * d)
    )
    return np.array(values, dtype=np.float32).reshape(n, d)


def write_case(draw, fmt: str, root) -> str:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    ops = draw(edits)
    if fmt in ("word2vec", "glove", "fasttext", "gzip-text"):
        data = text_file(draw, header=fmt != "glove")
        if fmt == "gzip-text":
            data = gzip.compress(data)
        name = {"fasttext": "v.vec", "gzip-text": "v.txt.gz"}.get(fmt, "v.txt")
        (root / name).write_bytes(mutate(data, ops))
        return str(root / name)
    n, d = draw(st.integers(0, 4)), draw(st.integers(1, 3))
    vocab = draw(st.lists(words, min_size=n, max_size=n))
    matrix = matrix_of(draw, n, d)
    if fmt == "word2vec-binary":
        buf = io.BytesIO()
        buf.write(f"{n} {d}\n".encode())
        for w, row in zip(vocab, matrix, strict=True):
            buf.write(w.encode("utf-8") + b" " + row.tobytes() + b"\n")
        (root / "v.bin").write_bytes(mutate(buf.getvalue(), ops))
        return str(root / "v.bin")
    if fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, matrix)
        (root / "v.npy").write_bytes(mutate(buf.getvalue(), ops[:1]))
        (root / "v.txt").write_bytes(mutate("\n".join(vocab).encode("utf-8"), ops[1:]))
        return str(root / "v.npy")
    if n == 0 or len(set(vocab)) < n:
        vocab = [f"w{i}" for i in range(max(n, 1))]
        matrix = np.zeros((len(vocab), d), np.float32)
    write_cache(root / "c", Vectors(vocab, matrix))
    target = root / "c" / draw(st.sampled_from(["vectors.safetensors", "tokens.txt"]))
    target.write_bytes(mutate(target.read_bytes(), ops))
    return str(root / "c")


def check(path: str, on_error: str) -> None:
    try:
        v = load_vectors(path, on_error=on_error)
    except DataError:
        return
    assert v.matrix.ndim == 2 and v.matrix.shape[0] == len(v.words) > 0
    if v.format != "cache":  # a cache is trusted as scratchlm wrote it (deduplicated, finite)
        assert len(set(v.words)) == len(v.words) and all(v.words)
        assert np.isfinite(v.matrix).all()


def run_fuzz(fmt: str, examples: int, tmp_path) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def fuzz(data):
        path = write_case(data.draw, fmt, tmp_path / "case")
        check(path, "raise")
        check(path, "skip")

    fuzz()


@pytest.mark.parametrize("fmt", FUZZ_FORMATS)
def test_fuzz_readers(fmt, tmp_path):
    run_fuzz(fmt, 100, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FUZZ_FORMATS)
def test_fuzz_readers_thoroughly(fmt, tmp_path):
    run_fuzz(fmt, 1000, tmp_path)


# -- the fast paths (polars, numpy) give exactly what the line-by-line reference gives ------------------


def outcome(path: str, on_error: str, parser: str):
    """What a load gives: ``(words, matrix bytes, shape, skipped)``, or the DataError's message."""
    from unittest import mock

    from scratchlm.vectors import text as text_reader

    patches = {
        "reference": mock.patch.object(text_reader, "_fast_chunk", lambda *a, **k: None),
        "numpy": mock.patch.object(text_reader, "_POLARS", False),
        "polars": mock.patch.object(text_reader, "_POLARS", text_reader._polars()),
    }
    with patches[parser]:
        try:
            v = load_vectors(path, on_error=on_error)
        except DataError as exc:
            return str(exc)
    return v.words, np.asarray(v.matrix).tobytes(), v.matrix.shape, v.skipped


def clean_text_file(draw) -> bytes:
    """Mostly well-formed GloVe text (the fast path's case), then a few byte edits."""
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 12))
    value = st.one_of(
        st.floats(width=32, allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.7g}"),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(["1e39", "-0", "+1", ".5", "1.", "nan", "x", "1e", ""]),
    )
    rows = [
        " ".join([draw(words).replace(" ", "_") or "w", *draw(st.lists(value, min_size=d, max_size=d))])
        for _ in range(n)
    ]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    return mutate(
        data,
        draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["insert", "delete", "replace"]),
                    st.integers(0, 10**6),
                    st.binary(min_size=1, max_size=2),
                ),
                max_size=1,
            )
        ),
    )


def run_agreement(examples: int, tmp_path) -> None:
    from scratchlm.vectors.text import _polars

    if not _polars():
        pytest.skip("polars is not installed (pip install 'scratchlm[vectors]')")

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(data=st.data())
    def agree(data):
        path = tmp_path / "v.txt"
        path.write_bytes(clean_text_file(data.draw))
        for on_error in ("raise", "skip"):
            expected = outcome(str(path), on_error, "reference")
            assert outcome(str(path), on_error, "polars") == expected
            assert outcome(str(path), on_error, "numpy") == expected

    agree()


def test_fast_paths_agree_with_the_reference(tmp_path):
    run_agreement(100, tmp_path)


@pytest.mark.slow
def test_fast_paths_agree_with_the_reference_thoroughly(tmp_path):
    run_agreement(1000, tmp_path)


def test_a_longer_line_is_a_word_with_spaces_on_every_path(tmp_path):
    # found by the agreement fuzz: np.loadtxt with usecols ignored the extra fields of line 2
    path = tmp_path / "v.txt"
    path.write_bytes(b"a 1\nb 2 3\nc 4 5 6\n")
    expected = outcome(str(path), "raise", "reference")
    assert expected[0] == ["a", "b 2", "c 4 5"] and expected[1] == np.float32([1, 3, 6]).tobytes()
    assert outcome(str(path), "raise", "numpy") == expected
    assert outcome(str(path), "raise", "polars") == expected


# -- the binary reader's C-level scan gives what a plain record-by-record walk gives -------------------


def walk_binary(data: bytes, path: str, on_error: str, max_word: int):
    """The word2vec binary format read one record at a time (the definition the reader must match):
    skip newlines, the word runs to the first space within ``max_word`` bytes, then 4 x dim bytes."""
    import math

    problems: list[tuple[int, str, str]] = []
    head, _, body = data.partition(b"\n")
    count, dim = (int(f) for f in head.split())
    record, pos, raw = 4 * dim, len(head) + 1, []
    while len(raw) < count:
        while pos < len(data) and data[pos] == 10:
            pos += 1
        space = data.find(b" ", pos, min(len(data), pos + max_word))
        if space < 0 or space + 1 + record > len(data):
            left = len(data) - pos
            what = (
                "no word"
                if left <= 0
                else f"no space in {max_word} bytes (not a word)"
                if left >= max_word and space < 0
                else "a truncated record"
            )
            message = (
                f"(byte {pos}) the header says {count} words; the file ends with {what} after {len(raw)}"
            )
            truncated = (len(raw) + 2, "truncated", message)
            break
        raw.append((data[pos:space], data[space + 1 : space + 1 + record]))
        pos = space + 1 + record
    else:
        truncated = None
        while pos < len(data) and data[pos] == 10:
            pos += 1
        if data[pos : pos + 2 * (record + max_word)].strip():  # the reader looks one window ahead
            problems.append(
                (1, "header", f"the header says {count} words but more data follows at byte {pos}")
            )
    words, rows = [], []
    for i, (word, vec) in enumerate(raw):
        values = np.frombuffer(vec, "<f4")
        if not word:
            problems.append((i + 2, "empty_word", "empty word"))
            continue
        try:
            text = word.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                (i + 2, "utf8", f"the word is not valid UTF-8 ({exc.reason} at byte {exc.start})")
            )
            continue
        if not all(math.isfinite(x) for x in values):
            problems.append((i + 2, "non_finite", f"the vector of {text!r} has a NaN or infinite value"))
            continue
        if text not in words:
            words.append(text)
            rows.append(values)
        else:
            problems.append((i + 2, "duplicate", ""))
    problems += [truncated] if truncated else []
    if on_error == "raise":
        first = next((p for p in problems if p[1] != "duplicate"), None)
        if first:
            return f"{path}:{first[0]}: {first[2]}"
    if not words:
        return "no usable vectors"
    skipped = {}
    for _, reason, _ in problems:
        skipped[reason] = skipped.get(reason, 0) + 1
    return words, np.stack(rows).tobytes(), skipped


def binary_file(draw) -> bytes:
    """word2vec binary records with short words (newlines and non-UTF-8 bytes in them), 0-2 newlines
    after each vector, random vector bytes (some NaN), a header count that may lie, a cut or junk."""
    dim = draw(st.integers(1, 3))
    n = draw(st.integers(0, 8))
    word = st.binary(max_size=10).filter(lambda b: b" " not in b)
    out = bytearray(f"{draw(st.integers(max(0, n - 1), n + 1))} {dim}\n".encode())
    header = len(out)  # header errors are tested on their own
    for _ in range(n):
        out += draw(word) + b" " + draw(st.binary(min_size=4 * dim, max_size=4 * dim))
        out += b"\n" * draw(st.integers(0, 2))
    cut = draw(st.one_of(st.none(), st.integers(header, len(out))))
    out = out[:cut] if cut is not None else out + draw(st.sampled_from([b"", b"junk", b"\n\n"]))
    return bytes(out)


def run_binary_agreement(examples: int, tmp_path, monkeypatch) -> None:
    from scratchlm.vectors import binary

    monkeypatch.setattr(binary, "MAX_WORD_BYTES", 8)  # words of 8+ bytes are "no space" errors
    monkeypatch.setattr(binary, "WINDOW_BYTES", 16)  # records straddle the windows

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(data=st.data())
    def agree(data):
        path = tmp_path / "v.bin"
        contents = binary_file(data.draw)
        path.write_bytes(contents)
        for on_error in ("raise", "skip"):
            expected = walk_binary(contents, str(path), on_error, 8)
            try:
                v = load_vectors(path, on_error=on_error)
                got = v.words, v.matrix.tobytes(), v.skipped
            except DataError as exc:
                got = str(exc) if "no usable vectors" not in str(exc) else "no usable vectors"
            assert got == expected

    agree()


def test_binary_scan_agrees_with_a_record_walk(tmp_path, monkeypatch):
    run_binary_agreement(100, tmp_path, monkeypatch)


@pytest.mark.slow
def test_binary_scan_agrees_with_a_record_walk_thoroughly(tmp_path, monkeypatch):
    run_binary_agreement(1000, tmp_path, monkeypatch)
