"""Each strategy against the formula it implements, on a tiny source with a real WordPiece tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

from scratchlm.errors import DataError
from scratchlm.transplant.sources import Source, read_bert_dir
from scratchlm.transplant.strategies import STRATEGIES, Context
from scratchlm.vectors.base import Vectors


@pytest.fixture(scope="module")
def source(bert_dir) -> Source:
    return read_bert_dir(bert_dir)


def _row(source: Source, tok: str) -> np.ndarray:
    return source.matrix[source.tokens.index(tok)]


def _run(name, source, target, **kw):
    ctx = Context(target, source, **kw)
    return STRATEGIES[name](ctx, list(range(len(target)))), ctx


def test_exact_and_normalized(source):
    rows, _ = _run("exact", source, ["cat", "Cat", "猫"])
    assert set(rows) == {0}
    np.testing.assert_array_equal(rows[0], _row(source, "cat"))
    rows, _ = _run("normalized", source, ["Cat", "ＣＡＴ", "\u2581dog", "##the", "猫"])
    assert set(rows) == {0, 1, 2, 3}
    for i, tok in enumerate(["cat", "cat", "dog", "the"]):
        np.testing.assert_array_equal(rows[i], _row(source, tok))


def test_compose_plain_and_length_weighted(source):
    # the source's own WordPiece cuts "cats" into cat + ##s and "playing" into play + ##ing
    rows, _ = _run("compose", source, ["cats", "playing", "zzz"])
    assert set(rows) == {0, 1}
    np.testing.assert_allclose(rows[0], (_row(source, "cat") + _row(source, "##s")) / 2, rtol=1e-6)
    rows, _ = _run("compose_len", source, ["cats", "playing"])
    want = (3 * _row(source, "cat") + 1 * _row(source, "##s")) / 4
    np.testing.assert_allclose(rows[0], want, rtol=1e-6)
    want = (4 * _row(source, "play") + 3 * _row(source, "##ing")) / 7
    np.testing.assert_allclose(rows[1], want, rtol=1e-6)


def test_compose_without_tokenizer_uses_greedy_pieces(source):
    vectors_only = Source("v", source.tokens, source.matrix)
    rows, _ = _run("compose", vectors_only, ["catdog"])
    np.testing.assert_allclose(rows[0], (_row(source, "cat") + _row(source, "dog")) / 2, rtol=1e-6)


def test_chars(source):
    rows, _ = _run("chars", source, ["中国", "好", "中猫"])
    assert set(rows) == {0}  # a single character is not a word; 猫 is missing
    np.testing.assert_allclose(rows[0], (_row(source, "中") + _row(source, "国")) / 2, rtol=1e-6)


def test_knn_is_softmax_weighted_neighbours(source):
    rng = np.random.default_rng(0)
    words = ["好", "人", "天", "猫", "狗"]
    aux = Vectors(words, rng.normal(size=(5, 6)).astype(np.float32))
    target = ["好", "人", "天", "猫", "狗", "鱼"]
    ctx = Context(target, source, aux, k=2, temperature=0.5)
    ctx.filled = {i: ("exact", _row(source, target[i])) for i in range(3)}
    rows = STRATEGIES["knn"](ctx, [3, 4, 5])
    assert set(rows) == {3, 4}  # 鱼 is not in the auxiliary space
    unit = aux.matrix / np.linalg.norm(aux.matrix, axis=1, keepdims=True)
    for i in (3, 4):
        sims = unit[:3] @ unit[i]
        top = np.argsort(-sims)[:2]
        w = np.exp(sims[top] / 0.5) / np.exp(sims[top] / 0.5).sum()
        want = sum(wj * _row(source, target[j]) for wj, j in zip(w, top, strict=True))
        np.testing.assert_allclose(rows[i], want, rtol=1e-5, atol=1e-6)
    with pytest.raises(DataError, match="--aux"):
        STRATEGIES["knn"](Context(target, source), [3])


def test_sampled_and_random_are_seeded(source):
    a, _ = _run("sampled", source, ["x", "y"], seed=3)
    b, _ = _run("sampled", source, ["x", "y"], seed=3)
    np.testing.assert_array_equal(a[1], b[1])
    many, _ = _run("sampled", source, [str(i) for i in range(4000)])
    drawn = np.stack(list(many.values()))
    np.testing.assert_allclose(drawn.mean(0), source.matrix.mean(0), atol=0.01)
    rows, _ = _run("random", source, [str(i) for i in range(4000)])
    assert abs(np.stack(list(rows.values())).std() - source.init_std) < 1e-3
