"""The text reader (vectors/text.py): words with spaces, tabs, CRs and blank lines; chunks of whole
lines; duplicates; every problem named by file and line (or counted with on_error="skip"); and the fast
paths (polars, numpy) agreeing with the line-by-line reference, on generated files too."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchlm.errors import DataError
from scratchlm.vectors import text as text_reader
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.io import load_vectors, write_text
from vectors_helpers import mutate, words

GOOD = b"4 3\nthe 0.1 0.2 0.3\nof 0.4 0.5 0.6\n"


def test_words_with_spaces_tabs_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"4 2\r\nnew york 1 2\r\n\r\nplain\t3 4\r\n  lead 5 6\r\nroute 66 7 8\r\n")
    v = load_vectors(path)
    assert v.words == ["new york", "plain", "lead", "route 66"]
    assert v.matrix.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]


def test_glove_dimension_is_the_common_field_count(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("new york 1 2 3\nthe 1 2 3\nof 4 5 6\n", encoding="utf-8")
    v = load_vectors(path)
    assert v.dim == 3 and v.words == ["new york", "the", "of"]


def test_fast_and_line_by_line_paths_agree(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3000)]
    vectors = Vectors(words, rng.standard_normal((3000, 5)).astype(np.float32))
    path = write_text(tmp_path / "g.txt", vectors, header=False)
    fast = load_vectors(path)
    monkeypatch.setattr(text_reader, "_fast_chunk", lambda *a: None)
    slow = load_vectors(path)
    assert fast.words == slow.words == words
    np.testing.assert_array_equal(fast.matrix, slow.matrix)
    np.testing.assert_array_equal(fast.matrix, vectors.matrix)


def test_small_chunks_keep_lines_whole(tmp_path, small):
    path = write_text(tmp_path / "v.txt", small)
    with open(path, "rb") as fh:
        v = text_reader.read_text(
            fh,
            str(path),
            fmt="word2vec",
            header=None,
            max_words=None,
            dtype=np.dtype(np.float32),
            on_error="raise",
            chunk_bytes=7,
        )
    assert v.words == small.words
    np.testing.assert_array_equal(v.matrix, small.matrix)


def test_duplicates_keep_first_and_are_counted(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("a 1 1\nb 2 2\na 3 3\nc 4 4\nb 5 5\n", encoding="utf-8")
    v = load_vectors(path)
    assert v.words == ["a", "b", "c"] and v.matrix[:, 0].tolist() == [1, 2, 4]
    assert v.skipped == {"duplicate": 2}
    assert load_vectors(path, max_words=2).words == ["a", "b"]


# -- bad input: an error naming file and line, or with on_error="skip" a count of what was left out ---
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


@pytest.mark.parametrize("header", [b"", b"2 2\n"])
def test_a_utf8_bom_is_not_part_of_the_first_word(tmp_path, header):
    """Windows editors start UTF-8 files with a BOM; GloVe's first word became '\\ufeffthe'."""
    path = tmp_path / ("v.vec" if header else "glove.txt")
    path.write_bytes(b"\xef\xbb\xbf" + header + b"the 0.1 0.2\ncat 0.3 0.4\n")
    vectors = load_vectors(path)
    assert vectors.words == ["the", "cat"] and vectors.format == ("fasttext" if header else "glove")


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"2 1000000000000\n", "the header says 1000000000000 dimensions (expected 1 to 1048576)"),
        (
            b"999999999999 2\n",
            "the header says 999999999999 words of 2 numbers, at least 2999999999997 bytes",
        ),
    ],
)
def test_an_absurd_header_is_refused_before_allocating(tmp_path, head, message):
    path = tmp_path / "v.txt"
    path.write_bytes(head + b"the 0.1 0.2\ncat 0.3 0.4\n")
    with pytest.raises(DataError, match=re.escape(f"v.txt:1: {message}")):
        load_vectors(path)
