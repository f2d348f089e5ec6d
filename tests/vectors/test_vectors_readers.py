"""Every reader gives back exactly what was written, whatever the format, compression or chunking."""

from __future__ import annotations

import numpy as np
import pytest

from scratchlm.errors import DataError
from scratchlm.vectors import text as text_reader
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.io import detect_format, load_vectors, write_text

FORMATS = ["word2vec", "fasttext", "glove", "word2vec-binary", "npy", "cache"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_and_detection(tmp_path, small, write, fmt):
    path = write(tmp_path, small, fmt)
    v = load_vectors(path)
    assert v.format == fmt
    assert v.words == small.words
    np.testing.assert_array_equal(v.matrix, small.matrix)
    assert v.skipped == {}
    assert v.vector("中文").dtype == np.float32


@pytest.mark.parametrize("compression", ["gzip", "bz2", "xz"])
@pytest.mark.parametrize("fmt", ["word2vec", "fasttext", "glove", "word2vec-binary"])
def test_compressed(tmp_path, small, write, fmt, compression):
    path = write(tmp_path, small, fmt, compression)
    v = load_vectors(path)
    assert (v.format, v.compression) == (fmt, compression)
    np.testing.assert_array_equal(v.matrix, small.matrix)


def test_format_override(tmp_path, small):
    # a GloVe file whose first line looks like a header: auto-detection takes it for one
    path = tmp_path / "odd.txt"
    path.write_text("3 7\n5 1\nword 2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"odd.txt:2: .*header says 7"):
        load_vectors(path)
    v = load_vectors(path, format="glove")
    assert v.words == ["3", "5", "word"] and v.matrix[:, 0].tolist() == [7, 1, 2]


@pytest.mark.parametrize("fmt", FORMATS)
def test_max_words_and_float16(tmp_path, small, write, fmt):
    v = load_vectors(write(tmp_path, small, fmt), max_words=4, dtype="float16")
    assert v.words == small.words[:4]
    assert v.matrix.dtype == np.float16
    np.testing.assert_array_equal(v.matrix, small.matrix[:4].astype(np.float16))


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


def test_npy_with_parquet_word_list(tmp_path, small):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    np.save(tmp_path / "m.npy", small.matrix)
    pq.write_table(pa.table({"index": small.words}), tmp_path / "m.parquet")
    v = load_vectors(tmp_path / "m.npy")
    assert v.words == small.words and v.format == "npy"


def test_builtin_name_and_unknown_name():
    with pytest.raises(DataError, match="did you mean 'glove-6b-50d'"):
        load_vectors("glove-6b-5d")


def test_detect_format_of_binary_named_txt(tmp_path, small, write):
    path = write(tmp_path, small, "word2vec-binary")
    renamed = path.rename(tmp_path / "vectors.txt")
    assert detect_format(renamed) == ("word2vec-binary", None)


def test_run_directory(tmp_path):
    from safetensors.numpy import save_file

    run = tmp_path / "run"
    (run / "tokenizer").mkdir(parents=True)
    (run / "tokenizer" / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n好\n", encoding="utf-8")
    weight = np.arange(6 * 4, dtype=np.float32).reshape(6, 4)
    save_file(
        {"input.token_embedding.embedding.weight": weight, "other": np.zeros(2, np.float32)},
        str(run / "model.safetensors"),
    )
    v = load_vectors(run)
    assert v.format == "run" and v.words[-1] == "好"
    np.testing.assert_array_equal(v.matrix, weight)


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
