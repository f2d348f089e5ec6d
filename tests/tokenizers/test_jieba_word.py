"""The jieba word tokenizer: words, [UNK] and its character fallback, user dictionary, offsets, save/load."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlm.errors import DataError
from scratchlm.tokenizers import SPECIALS, JiebaTokenizer, build_tokenizer, load_tokenizer, normalize_aligned
from scratchlm.tokenizers.base import SPACE

pytest.importorskip("jieba")

TEXTS = [
    "这本书的质量很好，推荐给大家！",
    "质量不错 Good book, 5 stars",
    "小熊宝宝很可爱,孩子喜欢",
    "  ＡＢＣ１２３\u3000全角  字符 ",
    "内容太差了,没有意思",
]


def _norm(text: str) -> str:
    return normalize_aligned(text)[0]


@pytest.fixture(scope="module")
def tok() -> JiebaTokenizer:
    return JiebaTokenizer.train(TEXTS)


def test_words_specials_and_round_trip(tok):
    assert tok.vocab.tokens[:5] == list(SPECIALS)
    enc = tok.encode("这本书的质量很好，推荐给大家！")
    assert enc.tokens == ["[CLS]", "这", "本书", "的", "质量", "很", "好", ",", "推荐", "给", "大家", "!"]
    assert enc.ids[0] == 2 and tok.vocab.unk_id not in enc.ids
    for text in TEXTS:
        assert tok.decode(tok.encode(text).ids) == _norm(text)
    assert tok.tokenize("Good book") == ["Good", SPACE, "book"]


def test_offsets_point_into_the_original_text(tok):
    text = "  ＡＢＣ１２３\u3000全角  字符 "
    enc = tok.encode(text, add_cls=False)
    for token, (a, b) in zip(enc.tokens, enc.offsets, strict=True):
        if token == SPACE:
            assert text[a:b].isspace()
        else:
            assert _norm(text[a:b]) == token
    assert enc.tokens == ["ABC123", SPACE, "全角", SPACE, "字符"]
    assert enc.offsets == [(2, 8), (8, 9), (9, 11), (11, 12), (13, 15)]


def test_unknown_words_are_unk_or_fall_back_to_characters():
    texts = ["质量很好", "内容很差"]
    plain = JiebaTokenizer.train(texts)
    enc = plain.encode("质量内容", add_cls=False)  # 质量, 内容 known
    assert plain.vocab.unk_id not in enc.ids
    unknown = plain.encode("差质量好评", add_cls=False)
    assert plain.vocab.unk_id in unknown.ids and unknown.tokens[-1] == "好评"  # the word, [UNK] id
    fallback = JiebaTokenizer.train(texts, unk_fallback="char")
    assert {"质", "量", "内", "容"} <= set(fallback.vocab.tokens)
    enc = fallback.encode("好评质量", add_cls=False)
    assert enc.tokens == ["好", "评", "质量"]
    assert enc.ids[:2] == [fallback.vocab.id("好"), fallback.vocab.unk_id]  # 评 never seen
    assert enc.offsets == [(0, 1), (1, 2), (2, 4)]
    assert fallback.decode(enc.ids) == "好质量"


def test_min_freq_and_max_size():
    texts = ["质量很好", "质量很差", "质量一般"]
    tok = JiebaTokenizer.train(texts, min_freq=2)
    assert tok.vocab.tokens[5:] == ["质量", "很"]
    assert len(JiebaTokenizer.train(texts, max_size=7).vocab) == 7


def test_user_dictionary_is_normalised_copied_and_used_after_load(tmp_path):
    user = tmp_path / "user.txt"
    user.write_text("小熊宝宝 10 n\nＡＢＣ书店\n\n", encoding="utf-8")
    texts = ["小熊宝宝很可爱", "ABC书店关门了"]
    plain = JiebaTokenizer.train(texts)
    assert "小熊宝宝" not in plain.tokenize("小熊宝宝很可爱")
    tok = JiebaTokenizer.train(texts, user_dict=user)
    assert tok.tokenize("小熊宝宝很可爱")[0] == "小熊宝宝"
    assert tok.tokenize("ＡＢＣ书店关门了")[0] == "ABC书店"
    tok.save(tmp_path / "tok")
    user.unlink()  # the saved tokenizer has its own copy
    again = load_tokenizer(tmp_path / "tok")
    assert (tmp_path / "tok" / "user_dict.txt").is_file()
    assert isinstance(again, JiebaTokenizer) and again.vocab.tokens == tok.vocab.tokens
    for text in texts:
        assert again.encode(text) == tok.encode(text)
    with pytest.raises(DataError, match="user dictionary not found"):
        JiebaTokenizer.train(texts, user_dict=tmp_path / "missing.txt")


def test_save_load_and_config_factory(tmp_path):
    from scratchlm.config import DataConfig

    tok = build_tokenizer(DataConfig(tokenizer="jieba", unk_fallback="char", lowercase=True), TEXTS)
    assert tok.kind == "jieba" and tok.unk_fallback == "char" and tok.lowercase
    tok.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenizer.json", "vocab.txt"]
    again = load_tokenizer(tmp_path)
    assert (again.unk_fallback, again.lowercase, again.vocab.tokens) == ("char", True, tok.vocab.tokens)
    assert again.encode_batch(TEXTS, max_len=6) == tok.encode_batch(TEXTS, max_len=6)


WORDS = ["质量", "很好", "推荐", "的", "书", "Good", "book", "5", ",", "!", " ", "\u3000", "！"]


@pytest.fixture(scope="module")
def fallback_tok() -> JiebaTokenizer:
    return JiebaTokenizer.train([*TEXTS, " ".join(WORDS)], unk_fallback="char")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=15).map("".join))
def test_property_round_trip_and_offsets(fallback_tok, text):
    tok = fallback_tok
    enc = tok.encode(text, add_cls=False)
    assert tok.vocab.unk_id not in enc.ids
    assert tok.decode(enc.ids) == _norm(text)
    for token, (a, b) in zip(enc.tokens, enc.offsets, strict=True):
        assert text[a:b].isspace() if token == SPACE else _norm(text[a:b]) == token
