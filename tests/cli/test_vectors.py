"""``scratchlm vectors ...`` end to end (in-process, plus one real process for the start-up budget)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from scratchlm.cli import main
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.io import load_vectors


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["vectors", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_info_json(tmp_path, small, write, capsys):
    path = write(tmp_path, small, "glove", "gzip")
    code, out, _ = run(capsys, "info", str(path), "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["shape"], info["format"], info["dtype"], info["skipped"]) == (
        [13, 6],
        "glove",
        "float32",
        {},
    )
    assert info["compression"] == "gzip"


def test_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_text("a 1 2\nb 1 x\nc 3 4\nc 5 6\n", encoding="utf-8")
    code, out, err = run(capsys, "info", str(path))
    assert code == 2 and out == ""
    assert err == f"error: {path}:2: not a number: 'x'\n"
    code, out, _ = run(capsys, "info", str(path), "--on-error", "skip", "--json")
    assert code == 0 and json.loads(out)["skipped"] == {"number": 1, "duplicate": 1}


def test_convert_then_analyse_the_cache(tmp_path, small, write, capsys):
    cache = tmp_path / "small.cache"
    code, out, _ = run(capsys, "convert", str(write(tmp_path, small, "word2vec-binary")), "--out", str(cache))
    assert code == 0 and "13 words x 6 dimensions" in out
    v = load_vectors(cache)
    assert v.format == "cache" and v.words == small.words
    np.testing.assert_array_equal(v.matrix, small.matrix)
    code, out, _ = run(capsys, "neighbors", str(cache), "king", "--topn", "3", "--json")
    assert code == 0 and len(json.loads(out)["king"]) == 3
    code, out, _ = run(capsys, "similarity", str(cache), "king", "queen", "--json")
    assert json.loads(out)["similarity"] == pytest.approx(float(small.unit[1] @ small.unit[2]), abs=1e-6)
    code, out, _ = run(capsys, "analogy", str(cache), "man", "king", "woman", "--json")
    assert set(json.loads(out)) == {"3cosadd", "3cosmul"}
    code, out, err = run(capsys, "similarity", str(cache), "king", "nope")
    assert code == 2 and "'nope' is not among the 13 words" in err


def test_convert_with_projection_and_float16(tmp_path, small, write, capsys):
    src = write(tmp_path, small, "npy")
    code, _, err = run(capsys, "convert", str(src), "--out", str(tmp_path / "c"), "--dim", "3")
    assert code == 2 and "--project" in err
    code, _, _ = run(
        capsys,
        "convert",
        str(src),
        "--out",
        str(tmp_path / "c"),
        "--dim",
        "3",
        "--project",
        "pca",
        "--dtype",
        "float16",
    )
    v = load_vectors(tmp_path / "c")
    assert v.shape == (13, 3) and v.matrix.dtype == np.float16
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "convert", str(src), "--out", str(tmp_path / "other"))
    assert code == 2 and "is not a vectors cache" in err


def test_eval_json(tmp_path, small, write, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t9\nman\twoman\t8\nthe\tparis\t1\nking\tnope\t3\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "eval", str(write(tmp_path, small, "glove")), "--benchmark", str(pairs), "--json"
    )
    r = json.loads(out)
    assert code == 0 and {"spearman", "pearson", "oov_ratio"} <= set(r) and r["pairs"] == 3
    assert r["oov_ratio"] == pytest.approx(25.0)


def test_info_of_a_cache_never_imports_torch(tmp_path):
    # what keeps `vectors info CACHE` under a second as a process (timed in benchmarks/vectors_load.py,
    # not here: a timing assertion fails on a loaded machine): no torch or gensim import, a memory map
    rng = np.random.default_rng(0)
    words = [f"word{i}" for i in range(400_000)]
    from scratchlm.vectors.cache import write_cache

    write_cache(tmp_path / "big", Vectors(words, rng.standard_normal((400_000, 50), dtype=np.float32)))
    code = (
        "import sys, runpy; sys.argv = ['scratchlm', 'vectors', 'info', sys.argv[1], '--json'];"
        "from scratchlm.cli import main; rc = main(sys.argv[1:]);"
        "assert 'torch' not in sys.modules and 'gensim' not in sys.modules, 'heavy import'; sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["shape"] == [400_000, 50]


def test_train_word2vec_and_fasttext(tmp_path, capsys):
    pytest.importorskip("gensim")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(
        "\n".join(["the cat sat on the mat", "the dog sat on the log"] * 30) + "\n", encoding="utf-8"
    )
    for method in ("word2vec", "fasttext"):
        out_dir = tmp_path / method
        code, out, _ = run(
            capsys,
            "train",
            "--corpus",
            str(corpus),
            "--method",
            method,
            "--out",
            str(out_dir),
            "--dim",
            "8",
            "--min-count",
            "1",
            "--epochs",
            "2",
            "--workers",
            "1",
        )
        assert code == 0, out
        v = load_vectors(out_dir)
        assert v.shape == (7, 8) and v.words[0] == "the"
    zh = tmp_path / "zh.txt"
    zh.write_text("中国人民\n人民日报\n" * 20, encoding="utf-8")
    code, _, _ = run(
        capsys,
        "train",
        "--corpus",
        str(zh),
        "--tokenize",
        "char",
        "--out",
        str(tmp_path / "zh"),
        "--dim",
        "4",
        "--min-count",
        "1",
        "--epochs",
        "1",
        "--workers",
        "1",
    )
    assert code == 0 and set(load_vectors(tmp_path / "zh").words) == set("中国人民日报")
    code, _, err = run(
        capsys, "train", "--corpus", str(zh), "--out", str(tmp_path / "none"), "--min-count", "1000"
    )
    assert code == 2 and "vectors train on" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--window", "0"], "error: --window 0 must be >= 1"),
        (["--epochs", "0"], "error: --epochs 0 must be >= 1"),
        (["--workers", "0"], "error: --workers 0 must be >= 1"),
    ],
)
def test_train_settings_are_checked_as_a_recipe_would_be(tmp_path, capsys, argv, message):
    """``vectors train``'s --window/--min-count/--epochs/--workers are the ``vectors`` section's fields:
    its checks run (before the corpus is read), the error naming the flag."""
    code, _, err = run(capsys, "train", "--corpus", "no-such-corpus", "--out", str(tmp_path / "o"), *argv)
    assert code == 2 and err.strip() == message


def test_export_a_run_and_coverage(tmp_path, capsys):
    from safetensors.numpy import save_file

    run_dir = tmp_path / "run"
    (run_dir / "tokenizer").mkdir(parents=True)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "好", "的", "Ａ"]
    (run_dir / "tokenizer" / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    weight = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    save_file({"input.token_embedding.embedding.weight": weight}, str(run_dir / "model.safetensors"))
    code, _, _ = run(capsys, "export", str(run_dir), "--out", str(tmp_path / "emb"))
    v = load_vectors(tmp_path / "emb")
    assert code == 0 and v.words == ["好", "的", "Ａ"]
    np.testing.assert_array_equal(v.matrix, weight[5:])
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n好\nA\n好的\n坏\n", encoding="utf-8")
    code, out, _ = run(capsys, "coverage", str(tmp_path / "emb"), "--vocab", str(vocab), "--json")
    cov = json.loads(out)
    assert cov["tiers"] == {"exact": 1, "normalized": 1, "chars": 1, "compose": 0}
    assert cov["misses"] == ["坏"] and cov["specials"] == 2
    code, out, _ = run(
        capsys, "coverage", str(tmp_path / "emb"), "--vocab", str(vocab), "--corpus", str(vocab)
    )
    assert code == 0 and "frequency-weighted coverage" in out


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_plot_words(method, tmp_path, small, write, capsys):
    from sklearn.decomposition import PCA

    cache = write(tmp_path, small, "cache")
    out = tmp_path / "words.png"
    words = ["king", "queen", "man", "woman", "中", "国"]
    code, stdout, err = run(
        capsys, "plot", *words, "--source", str(cache), "--out", str(out), "--method", method, "--json"
    )
    assert code == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = json.loads(stdout)
    assert result["method"] == method and [p["word"] for p in result["points"]] == words
    if method == "pca":  # the coordinates are scikit-learn's PCA of the words' rows
        rows = small.matrix[[small.row(w) for w in words]]
        expected = PCA(n_components=2, random_state=0).fit_transform(rows)
        got = np.array([[p["x"], p["y"]] for p in result["points"]])
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_plot_names_missing_words_and_needs_enough(tmp_path, small, write, capsys):
    cache = str(write(tmp_path, small, "cache"))
    out = str(tmp_path / "x.png")
    code, _, err = run(capsys, "plot", "king", "kingdom", "龘", "--source", cache, "--out", out)
    assert code == 2 and "kingdom 龘" in err and not (tmp_path / "x.png").exists()
    code, _, err = run(capsys, "plot", "king", "queen", "--source", cache, "--out", out, "--method", "tsne")
    assert code == 2 and "at least 3 distinct words" in err


def test_lookup_and_arithmetic_on_a_hand_written_matrix(tmp_path, capsys):
    path = tmp_path / "toy.txt"
    path.write_text("苹果 1 0 1 1\n香蕉 0 1 0 0\n水果 1 1 1 0\n", encoding="utf-8")
    code, out, _ = run(capsys, "lookup", str(path), "香蕉", "苹果")
    assert code == 0 and out.splitlines() == ["香蕉\t(row 1)\t[0 1 0 0]", "苹果\t(row 0)\t[1 0 1 1]"]
    code, out, _ = run(capsys, "arithmetic", str(path), "苹果 + 香蕉", "--json")
    result = json.loads(out)
    assert code == 0 and result["vector"] == [1, 1, 1, 1] and result["negative"] == []
    expected = (np.array([1, 0, 1, 1]) / np.sqrt(3) + np.array([0, 1, 0, 0])) / 2
    expected = expected @ (np.array([1, 1, 1, 0]) / np.sqrt(3)) / np.linalg.norm(expected)
    assert [r["word"] for r in result["nearest"]] == ["水果"]
    assert result["nearest"][0]["similarity"] == pytest.approx(expected, abs=1e-6)
    code, out, _ = run(capsys, "arithmetic", str(path), "水果 - 香蕉")
    assert code == 0 and out.splitlines()[0] == "水果 - 香蕉 = [1 0 1 0]"
    assert main(["vectors", "arithmetic", str(path), "水果 香蕉"]) == 2
    assert "need an operator" in capsys.readouterr().err
