"""The matching tiers (vectors/match.py): each tier on the tokens it exists for, restricted tiers,
coverage, and the same rows whether ``model.init`` (``find_rows``) or ``transplant`` (a strategy) asks."""

from __future__ import annotations

import numpy as np
import pytest

from scratchlm.errors import DataError
from scratchlm.transplant.sources import Source
from scratchlm.transplant.strategies import STRATEGIES, Context
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.match import TIERS, Matcher, find_rows
from vectors_helpers import tier_source

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture
def source() -> Vectors:
    return tier_source()


VOCAB = SPECIALS + [
    "the",
    "APPLE",
    "berlin",
    "Ｗｉｆｉ",
    "##ing",
    "▁hello",
    "Ġthe",
    "中国",
    "unhappyness",
    "zzz",
]


def test_each_tier(source):
    found = find_rows(VOCAB, source, skip=set(range(5)))
    tiers = dict(zip(VOCAB, found.tier, strict=True))
    assert tiers == {
        **dict.fromkeys(SPECIALS, "special"),
        "the": "exact",
        "APPLE": "normalized",  # its lowercase
        "berlin": "normalized",  # a word whose lowercase it is
        "Ｗｉｆｉ": "normalized",  # NFKC + full/half width + lowercase
        "##ing": "normalized",  # subword markers stripped
        "▁hello": "normalized",
        "Ġthe": "normalized",
        "中国": "chars",
        "unhappyness": "compose",
        "zzz": "oov",
    }
    rows = dict(zip((VOCAB[i] for i in found.ids), found.rows, strict=True))
    m = source.matrix
    np.testing.assert_array_equal(rows["APPLE"], m[2])  # its lowercase form
    np.testing.assert_array_equal(rows["berlin"], m[12])  # a word whose lowercase it is
    np.testing.assert_array_equal(rows["Ｗｉｆｉ"], m[3])
    np.testing.assert_array_equal(rows["Ġthe"], m[0])
    np.testing.assert_allclose(rows["中国"], (m[5] + m[6]) / 2)
    np.testing.assert_allclose(rows["unhappyness"], (m[7] + m[8] + m[10]) / 3, rtol=1e-6)  # ##ness preferred
    cov = found.coverage
    assert tuple(cov.tiers) == TIERS == ("exact", "normalized", "chars", "compose")
    assert cov.tiers == {"exact": 1, "normalized": 6, "chars": 1, "compose": 1}
    assert (cov.oov, cov.specials, cov.found) == (1, 5, 9) and cov.misses == ["zzz"]
    assert cov.coverage == pytest.approx(9 / 10)
    assert "normalized" in cov.table() and cov.to_dict()["tiers"]["normalized"] == 6


def test_tiers_can_be_restricted(source):
    found = find_rows(["APPLE", "中国"], source, tiers=("exact",))
    assert found.tier == ["oov", "oov"]
    with pytest.raises(DataError, match="unknown matching tier"):
        find_rows(["a"], source, tiers=("fuzzy",))


def test_frequency_weighted_coverage(source):
    found = find_rows(["the", "zzz", "yyy"], source, token_counts={"the": 90, "zzz": 3, "yyy": 7, "[UNK]": 0})
    assert found.coverage.weighted == pytest.approx(0.9)
    assert found.coverage.misses == ["yyy", "zzz"]  # most frequent first


def test_pieces_need_two_to_three_words_of_two_characters(source):
    matcher = Matcher(source)
    assert matcher.pieces("unhappy") == [7, 8]
    assert matcher.pieces("happy") is None  # one piece is the word itself, not a composition
    assert matcher.pieces("unhappynesshappy") is None  # four pieces
    assert matcher.compose("") is None and matcher.chars("中") is None  # one character is not a word


def test_model_init_and_transplant_find_the_same_rows(source):
    """``find_rows`` (model.init, vectors coverage) and the transplant strategy of each tier give every
    token the same tier and the same row."""
    tokens = VOCAB[5:]
    found = find_rows(tokens, source)
    ctx = Context(tokens, Source("vectors", source.words, source.matrix))
    todo, by_strategy = list(range(len(tokens))), {}
    for tier in TIERS:
        rows = STRATEGIES[tier](ctx, todo)
        by_strategy.update({i: (tier, row) for i, row in rows.items()})
        todo = [i for i in todo if i not in rows]
    assert [by_strategy.get(i, ("oov",))[0] for i in range(len(tokens))] == found.tier
    for k, i in enumerate(found.ids):
        np.testing.assert_allclose(by_strategy[i][1], found.rows[k], rtol=1e-6)
