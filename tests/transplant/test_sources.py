"""Transplant sources (transplant/sources.py): a source without some rows (the held-out score's), for
lookups and for its tokenizer, which cuts a removed piece again as WordPiece would."""

from __future__ import annotations

import pytest

from scratchlm.transplant.sources import Source, read_bert_dir
from scratchlm.transplant.strategies import STRATEGIES, Context


@pytest.fixture(scope="module")
def source(bert_dir) -> Source:
    return read_bert_dir(bert_dir)


def _run(name, source, target, **kw):
    ctx = Context(target, source, **kw)
    return STRATEGIES[name](ctx, list(range(len(target)))), ctx


def test_without_removes_rows_from_lookups_and_tokenizer(source):
    reduced = source.without({source.tokens.index("cat")})
    rows, _ = _run("exact", reduced, ["cat", "dog"])
    assert set(rows) == {1}
    rows, _ = _run("compose", reduced, ["cats", "dogs"])
    assert set(rows) == {1}  # "cats" needs the removed "cat"


def test_removed_pieces_are_cut_again_like_wordpiece(source):
    # the source tokenizer still produces a removed piece; the reduced source cuts it again, and here
    # nothing else spells "play" or "##s"
    reduced = source.without({source.tokens.index("play")})
    assert reduced.tokenize("playing") is None
    reduced = source.without({source.tokens.index("##s")})
    assert reduced.tokenize("cats") is None
    from scratchlm.transplant.sources import _wordpiece

    vocab = {"ab": 0, "##c": 1, "a": 2, "##bc": 3}
    assert _wordpiece("abc", vocab) == [0, 1]
    assert _wordpiece("##bcc", {"##bc": 3, "##c": 1}) == [3, 1]
    assert _wordpiece("xyz", vocab) is None
