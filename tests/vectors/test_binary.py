"""The word2vec binary reader (vectors/binary.py): records across many small windows; every problem
named by record (or counted with on_error="skip"); and its C-level scan agreeing with a plain
record-by-record walk on generated files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchlm.errors import DataError
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.binary import write_word2vec_binary
from scratchlm.vectors.io import load_vectors


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_binary_reader_across_many_small_windows(tmp_path, write, compression, monkeypatch):
    from scratchlm.vectors import binary

    rng = np.random.default_rng(5)
    words = [f"w{i}" * (1 + i % 3) for i in range(300)]
    vectors = Vectors(words, rng.standard_normal((300, 6)).astype(np.float32))
    path = write(tmp_path, vectors, "word2vec-binary", compression)
    monkeypatch.setattr(binary, "WINDOW_BYTES", 64)
    monkeypatch.setattr(
        binary, "MAX_WORD_BYTES", 16
    )  # window: 2 * (24 + 16) bytes, refilled every record or two
    v = load_vectors(path)
    assert v.words == words
    np.testing.assert_array_equal(v.matrix, vectors.matrix)
    assert load_vectors(path, max_words=7).words == words[:7]


def _binary(tmp_path, words, matrix):
    path = tmp_path / "v.bin"
    write_word2vec_binary(path, words, np.asarray(matrix, np.float32))
    return path


def test_binary_truncated_record(tmp_path):
    path = _binary(tmp_path, ["a", "b", "c"], np.ones((3, 4)))
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(
        DataError, match=r"v.bin:4: \(byte \d+\) the header says 3 words; the file ends with a truncated"
    ):
        load_vectors(path)
    v = load_vectors(path, on_error="skip")
    assert v.words == ["a", "b"] and v.skipped == {"truncated": 1}


def test_binary_nan_utf8_duplicates_and_trailing_data(tmp_path):
    matrix = np.ones((4, 2))
    matrix[1, 0] = np.nan
    path = _binary(tmp_path, ["a", "b", "c", "a"], matrix)
    data = path.read_bytes().replace(b"\nc ", b"\n\xff ")
    path.write_bytes(data + b"junk 1234")
    with pytest.raises(DataError, match=r"v.bin:1: the header says 4 words but more data follows"):
        load_vectors(path)
    v = load_vectors(path, on_error="skip")
    assert v.words == ["a"]
    assert v.skipped == {"header": 1, "non_finite": 1, "utf8": 1, "duplicate": 1}
    path.write_bytes(data)
    with pytest.raises(DataError, match=r"v.bin:3: the vector of 'b' has a NaN"):
        load_vectors(path)


def test_binary_float16_overflow(tmp_path):
    matrix = np.ones((3, 2))
    matrix[1, 1] = 1e5  # fine as float32, inf as float16
    path = _binary(tmp_path, ["a", "b", "c"], matrix)
    assert load_vectors(path).matrix[1, 1] == 1e5
    with pytest.raises(
        DataError, match=r"v.bin:3: the vector of 'b' has a NaN or infinite value \(as float16\)"
    ):
        load_vectors(path, dtype="float16")
    v = load_vectors(path, dtype="float16", on_error="skip")
    assert v.words == ["a", "c"] and v.matrix.dtype == np.float16 and v.skipped == {"non_finite": 1}


def test_fasttext_model_file_is_named(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes((793712314).to_bytes(4, "little") + b"\x0c\x00\x00\x00rest")
    with pytest.raises(DataError, match="fastText model"):
        load_vectors(path)


def test_binary_record_without_a_word(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"1 2\n" + b"a" * 70000)
    with pytest.raises(DataError, match=r"v.bin:2: \(byte 4\) .* ends with no space in 65536 bytes"):
        load_vectors(path)


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


def test_a_header_the_file_cannot_hold_is_refused_before_allocating(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"99999999 50000\nthe " + np.zeros(2, np.float32).tobytes() + b"\n")
    with pytest.raises(DataError, match=r"v.bin:1: the header says 99999999 words of 50000 dimensions"):
        load_vectors(path)
