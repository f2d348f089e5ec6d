"""Word arithmetic: the expression parser, the raw sum, and the nearest words against gensim's
``most_similar(positive=..., negative=...)`` on the same vectors."""

from __future__ import annotations

import numpy as np
import pytest

from scratchlm.errors import DataError
from scratchlm.vectors.arithmetic import combine, nearest, parse_expression
from scratchlm.vectors.base import Vectors

gensim_models = pytest.importorskip("gensim.models")


@pytest.fixture
def words() -> Vectors:
    rng = np.random.default_rng(5)
    centers = rng.standard_normal((5, 12))
    matrix = centers[np.arange(200) % 5] + 0.7 * rng.standard_normal((200, 12))
    return Vectors([f"w{i}" for i in range(200)], matrix.astype(np.float32))


def test_parse_expression():
    assert parse_expression("king - man + woman") == [(1, "king"), (-1, "man"), (1, "woman")]
    assert parse_expression("- a + b") == [(-1, "a"), (1, "b")]
    assert parse_expression("well-known") == [(1, "well-known")]  # no spaces: part of the word
    for bad, message in [
        ("a b", "need an operator between them"),
        ("a - - b", "two operators in a row"),
        ("a +", "ends with an operator"),
        ("  ", "no words"),
    ]:
        with pytest.raises(DataError, match=message):
            parse_expression(bad)


@pytest.mark.parametrize(
    ("positive", "negative"),
    [(["w2", "w3"], ["w1"]), (["w7"], []), (["w4", "w9", "w11"], ["w5", "w13"]), ([], ["w6"])],
)
@pytest.mark.parametrize("restrict_vocab", [None, 120])
def test_nearest_matches_gensim_most_similar(words, positive, negative, restrict_vocab):
    kv = gensim_models.KeyedVectors(words.dim)
    kv.add_vectors(words.words, np.asarray(words.matrix))
    terms = [(1, w) for w in positive] + [(-1, w) for w in negative]
    ours = nearest(words, terms, topn=8, restrict_vocab=restrict_vocab)
    theirs = kv.most_similar(positive=positive, negative=negative, topn=8, restrict_vocab=restrict_vocab)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    assert not {w for w, _ in ours} & set(positive + negative)


def test_the_article_004_toy_matrix():
    """Lookup, addition and cosine on a hand-written matrix, by the article's formulas."""
    toy = Vectors(["苹果", "香蕉", "水果"], np.array([[1, 0, 1, 1], [0, 1, 0, 0], [1, 1, 1, 0]], np.float32))
    np.testing.assert_array_equal(combine(toy, [(1, "苹果"), (1, "香蕉")]), [1, 1, 1, 1])
    np.testing.assert_array_equal(combine(toy, [(1, "水果"), (-1, "香蕉")]), [1, 0, 1, 0])
    (word, score), (other, zero) = nearest(toy, [(1, "苹果")], topn=5)
    assert (word, other) == ("水果", "香蕉")
    assert score == pytest.approx(2 / 3) and zero == pytest.approx(0.0)  # 2 / (sqrt 3 sqrt 3); orthogonal
    with pytest.raises(DataError, match="'梨' is not among the 3 words"):
        nearest(toy, [(1, "梨")])
