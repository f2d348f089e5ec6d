"""Normalisation, vocabulary and the character tokenizer."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlm.errors import DataError
from scratchlm.tokenizers import CharTokenizer, Vocab, full_to_half, normalize_text
from scratchlm.tokenizers.char import SPACE, truncate
from scratchlm.tokenizers.vocab import SPECIALS


def test_full_width_to_half_width_and_nfkc():
    assert full_to_half("ＡＢＣ１２３，！") == "ABC123,!"
    assert full_to_half("中\u3000文") == "中 文"
    assert normalize_text("ＡＢＣ１２３，  好\u3000 ㈱") == "ABC123, 好 (株)"
    assert normalize_text("Hello", lowercase=True) == "hello"


def test_vocab_order_specials_and_limits(tmp_path):
    v = Vocab.build(Counter({"b": 3, "a": 3, "c": 1, "d": 5}), min_freq=2)
    assert v.tokens == [*SPECIALS, "d", "a", "b"]
    assert (v.pad_id, v.unk_id, v.cls_id, v.sep_id, v.mask_id) == (0, 1, 2, 3, 4)
    assert len(Vocab.build(Counter("aabbccdd"), max_size=7)) == 7
    v.save(tmp_path / "vocab.txt")
    assert Vocab.load(tmp_path / "vocab.txt").tokens == v.tokens
    (tmp_path / "bad.txt").write_text("\n".join(SPECIALS) + "\n\nx\n")
    with pytest.raises(DataError, match=r"bad.txt:6: empty token line"):
        Vocab.load(tmp_path / "bad.txt")
    with pytest.raises(DataError, match="not found"):
        Vocab.load(tmp_path / "none.txt")


def test_encode_cls_unk_spaces_offsets_and_truncation():
    tok = CharTokenizer.train(["好书 推荐"])
    enc = tok.encode("好书  推荐！")
    assert enc.tokens == ["[CLS]", "好", "书", SPACE, "推", "荐", "!"]
    assert enc.ids[0] == 2 and enc.ids[-1] == tok.vocab.unk_id  # "!" was never seen
    text = "好书  推荐！"
    assert [text[a:b] for a, b in enc.offsets[1:]] == ["好", "书", " ", "推", "荐", "！"]
    short = tok.encode("好书推荐好书", max_len=4)
    assert short.tokens == ["[CLS]", "好", "书", "推"] and short.truncated == 3
    assert tok.encode("好书推荐好书", max_len=5, truncation="start").tokens == [
        "[CLS]",
        "推",
        "荐",
        "好",
        "书",
    ]
    assert truncate(list(range(10)), 4, "start") == [6, 7, 8, 9]
    assert truncate(list(range(10)), 4, "middle") == [0, 7, 8, 9]
    assert truncate(list(range(10)), 8, "middle") == [0, 1, 4, 5, 6, 7, 8, 9]


def test_save_load_round_trip(tmp_path):
    tok = CharTokenizer.train(["Ａ好 书"], lowercase=True)
    tok.save(tmp_path / "t")
    again = CharTokenizer.load(tmp_path / "t")
    assert again.vocab.tokens == tok.vocab.tokens and again.lowercase and again.normalize
    assert again.encode("a好").ids == tok.encode("Ａ好").ids
    with pytest.raises(DataError, match="not a scratchlm tokenizer directory"):
        CharTokenizer.load(tmp_path)


ALPHABET = st.sampled_from(list("中文好书很差的了ABCxyz ,.!") + ["\u3000", "ｘ", "１"])


@settings(max_examples=200, deadline=None)
@given(st.lists(ALPHABET, min_size=0, max_size=40).map("".join))
def test_decode_gives_back_the_normalised_text(text):
    tok = CharTokenizer.train([text])
    assert tok.decode(tok.encode(text).ids) == normalize_text(text)
