"""``load_vectors`` (vectors/io.py): every format detected and read back exactly as written, whatever
the compression; arguments, ``.npy`` word lists, built-in names and run directories; and fuzzing:
whatever the bytes, the only exception any reader lets escape is DataError (100 generated files per
format in ``make test``, 1,000 in ``make test-all``, ``-m slow``)."""

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
from scratchlm.vectors.io import detect_format, load_vectors
from vectors_helpers import mutate, words

FORMATS = ["word2vec", "fasttext", "glove", "word2vec-binary", "npy", "cache"]
GOOD = b"4 3\nthe 0.1 0.2 0.3\nof 0.4 0.5 0.6\n"


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


def test_corrupt_compressed_file(tmp_path):
    path = tmp_path / "v.txt.gz"
    path.write_bytes(gzip.compress(GOOD)[:-12])
    with pytest.raises(DataError, match=r"v.txt.gz: cannot read gzip data"):
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


# -- fuzzing: only DataError may escape ----------------------------------------------------------------
FUZZ_FORMATS = ["word2vec", "glove", "fasttext", "gzip-text", "word2vec-binary", "npy", "cache"]


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
