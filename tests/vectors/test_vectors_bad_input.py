"""Bad input: an error naming file and line, or with on_error="skip" a count of what was left out."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from scratchlm.errors import DataError
from scratchlm.vectors.binary import write_word2vec_binary
from scratchlm.vectors.io import load_vectors

GOOD = b"4 3\nthe 0.1 0.2 0.3\nof 0.4 0.5 0.6\n"

TEXT_CASES = [
    # (file body, message pattern in raise mode, skipped counts in skip mode)
    (
        GOOD + b"and 0.7 0.8\nto 1 1 1\n",
        r":4: expected a word and 3 numbers \(the header says 3\), found 2",
        {"fields": 1},
    ),
    (GOOD + b"and\nto 1 1 1\n", r":4: expected a word and 3 numbers .*only a word", {"fields": 1}),
    (GOOD + b"and 0.7 x 0.9\nto 1 1 1\n", r":4: not a number: 'x'", {"number": 1}),
    (GOOD + b"and 0.7 1,5 0.9\nto 1 1 1\n", r":4: not a number: '1,5'", {"number": 1}),
    (
        GOOD + b"and nan 1 2\nto 1 1 1\n",
        r":4: the vector of 'and' has a NaN or infinite value",
        {"non_finite": 1},
    ),
    (GOOD + b"and 1 -inf 2\nto 1 1 1\n", r":4: .*NaN or infinite", {"non_finite": 1}),
    (GOOD + b"and 1e40 1 2\nto 1 1 1\n", r":4: .*too large for float32", {"non_finite": 1}),
    (GOOD + b"\xffand 1 1 2\nto 1 1 1\n", r":4: the word is not valid UTF-8", {"utf8": 1}),
    (GOOD + b"and 1 1 2\n", r":1: the header says 4 words but the file has 3", {"header": 1}),
    (
        GOOD + b"and 1 1 2\nto 1 1 1\nin 1 1 1\n",
        r":1: the header says 4 words but the file has 5",
        {"header": 1},
    ),
]


@pytest.mark.parametrize("body,message,skipped", TEXT_CASES)
def test_text_errors_name_file_and_line(tmp_path, body, message, skipped):
    path = tmp_path / "bad.txt"
    path.write_bytes(body)
    with pytest.raises(DataError, match=f"^{path}{message}"):
        load_vectors(path)
    v = load_vectors(path, on_error="skip")
    assert v.skipped == skipped
    assert "the" in v and "of" in v


def test_header_dimension_disagrees_with_body(tmp_path):
    path = tmp_path / "dim.txt"
    path.write_bytes(b"2 5\nthe 1 2 3\nof 4 5 6\n")
    with pytest.raises(DataError, match=r"dim.txt:2: expected a word and 5 numbers \(the header says 5\)"):
        load_vectors(path)
    with pytest.raises(DataError, match=r"no usable vectors \(fields 2 skipped\)"):
        load_vectors(path, on_error="skip")


def test_float16_overflow(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a 1 2\nb 70000 1\n")
    with pytest.raises(DataError, match=r"big.txt:2: the vector of 'b' has a value too large for float16"):
        load_vectors(path, dtype="float16")
    assert load_vectors(path, dtype="float16", on_error="skip").skipped == {"non_finite": 1}


@pytest.mark.parametrize("body", [b"", b"\n\n  \n"])
def test_empty_files(tmp_path, body):
    path = tmp_path / "empty.txt"
    path.write_bytes(body)
    with pytest.raises(DataError, match=r"empty.txt:1: the file is empty"):
        load_vectors(path)


def test_header_only(tmp_path):
    path = tmp_path / "h.txt"
    path.write_bytes(b"3 2\n")
    with pytest.raises(DataError, match=r"h.txt:1: the header says 3 words but the file has 0"):
        load_vectors(path)


def test_corrupt_compressed_file(tmp_path):
    path = tmp_path / "v.txt.gz"
    path.write_bytes(gzip.compress(GOOD)[:-12])
    with pytest.raises(DataError, match=r"v.txt.gz: cannot read gzip data"):
        load_vectors(path)


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


def test_npy_problems(tmp_path):
    matrix = np.ones((3, 2), np.float32)
    matrix[2, 1] = np.inf
    np.save(tmp_path / "m.npy", matrix)
    (tmp_path / "m.txt").write_text("a\nb\na\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"m.txt:3: the vector of 'a' has a NaN"):
        load_vectors(tmp_path / "m.npy")
    (tmp_path / "m.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"m.txt: 2 words for 3 rows in m.npy"):
        load_vectors(tmp_path / "m.npy")
    (tmp_path / "m.txt").unlink()
    with pytest.raises(DataError, match="no word list beside it"):
        load_vectors(tmp_path / "m.npy")


def test_cache_problems(tmp_path, small, write):
    cache = write(tmp_path, small, "cache")
    tokens = cache / "tokens.txt"
    tokens.write_text("\n".join(small.words[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=rf"tokens.txt:{len(small.words) - 1}: {len(small.words) - 1} words for"
    ):
        load_vectors(cache)
    matrix = cache / "vectors.safetensors"
    matrix.write_bytes(matrix.read_bytes()[:-10])
    with pytest.raises(DataError, match="does not fit the file"):
        load_vectors(cache)
    matrix.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    with pytest.raises(DataError, match="not a safetensors file"):
        load_vectors(cache)


def test_bad_arguments(tmp_path, small, write):
    path = write(tmp_path, small, "glove")
    with pytest.raises(DataError, match="unknown vectors format"):
        load_vectors(path, format="xml")
    with pytest.raises(DataError, match="max_words=0"):
        load_vectors(path, max_words=0)
    with pytest.raises(DataError, match="a directory, but neither"):
        load_vectors(tmp_path)


@pytest.mark.parametrize("name", ["huge.txt", "huge.bin"])
def test_a_lying_header_allocates_nothing_big(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"99999999999 900000000\nthe 1 2\n")
    with pytest.raises(DataError, match=rf"{name}:(1|2): "):
        load_vectors(path)


def test_binary_record_without_a_word(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"1 2\n" + b"a" * 70000)
    with pytest.raises(DataError, match=r"v.bin:2: \(byte 4\) .* ends with no space in 65536 bytes"):
        load_vectors(path)
