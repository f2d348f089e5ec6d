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


def test_a_padding_tokenizer_json_adds_no_pieces(bert_dir, tmp_path):
    """all-MiniLM-L6-v2's tokenizer.json pads every encoding to 128 with [PAD]: a token's pieces are only
    what it is cut into (before the fix, compose averaged 2 pieces with 126 [PAD] rows)."""
    import shutil

    import numpy as np
    from tokenizers.implementations import BertWordPieceTokenizer

    directory = tmp_path / "padded"
    shutil.copytree(bert_dir, directory)
    tok = BertWordPieceTokenizer(str(directory / "vocab.txt"), lowercase=True)
    tok.enable_padding(length=16)
    tok.enable_truncation(max_length=16)
    tok.save(str(directory / "tokenizer.json"))
    source = read_bert_dir(directory)
    assert source.tokenize("cats") == [source.tokens.index("cat"), source.tokens.index("##s")]
    rows, _ = _run("compose", source, ["cats", "\u0301"])  # a lone combining accent: stripped, no pieces
    assert set(rows) == {0}
    want = (source.matrix[source.tokens.index("cat")] + source.matrix[source.tokens.index("##s")]) / 2
    np.testing.assert_allclose(rows[0], want, rtol=1e-6)
