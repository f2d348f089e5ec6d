"""The character tokenizer: [CLS], [UNK], one token per character, whitespace runs as one ▁, offsets
into the original text, training limits, decode, save/load."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlm.errors import DataError
from scratchlm.tokenizers import CharTokenizer, normalize_text
from scratchlm.tokenizers.char import SPACE


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


# ----------------------------------------------------------------------------------------------
# more detailed checks: specials, [UNK], whitespace, offsets, persistence

import string  # noqa: E402

from scratchlm.tokenizers import load_tokenizer  # noqa: E402


@pytest.fixture
def zh_tok():
    return CharTokenizer.train(["今天天气很好", "这本书很差 bad"])


def test_cls_first_and_unknown_is_unk(zh_tok):
    enc = zh_tok.encode("今天X")
    assert enc.tokens[0] == "[CLS]" and enc.ids[0] == zh_tok.vocab.cls_id == 2
    assert enc.tokens[1:] == ["今", "天", "X"]
    assert enc.ids[1:] == [zh_tok.vocab.id("今"), zh_tok.vocab.id("天"), 1]
    assert enc.truncated == 0
    assert len(enc.ids) == len(enc.tokens) == len(enc.offsets)
    no_cls = zh_tok.encode("今天X", add_cls=False)
    assert no_cls.tokens == ["今", "天", "X"] and no_cls.ids == enc.ids[1:]


def test_vocab_of_trained_tokenizer_is_ordered_by_frequency(zh_tok):
    # 天 x2 and 很 x2 come first (tie broken by code point), then the rest by code point
    assert zh_tok.vocab.tokens[5:7] == sorted(["天", "很"])
    assert set(zh_tok.vocab.tokens[5:]) == set("今天气很好这本书差bad") | {SPACE}


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("a  b", ["a", SPACE, "b"]),
        ("a \t\n\u3000 b", ["a", SPACE, "b"]),
        ("  a b  ", ["a", SPACE, "b"]),
        ("\u3000\u3000", []),
        ("a\u3000b c", ["a", SPACE, "b", SPACE, "c"]),
    ],
)
def test_whitespace_runs_become_one_space_token_and_edges_none(text, tokens):
    tok = CharTokenizer.train(["a b c"])
    assert tok.tokenize(text) == tokens
    assert tok.encode(text).tokens == ["[CLS]", *tokens]


def test_offsets_map_tokens_to_original_spans():
    text = "  ＡＢ，好\u3000\u3000书㈱ "
    tok = CharTokenizer.train([text])
    enc = tok.encode(text)
    assert enc.offsets[0] == (0, 0)
    assert enc.tokens[1:] == ["A", "B", ",", "好", SPACE, "书", "(", "株", ")"]
    spans = enc.offsets[1:]
    assert spans == [(2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (8, 9), (9, 10), (9, 10), (9, 10)]
    for token, (a, b) in zip(enc.tokens[1:], spans, strict=True):
        original = text[a:b]
        assert b - a == 1
        if token == SPACE:
            assert original.isspace()
        else:
            assert token in normalize_text(original)


def test_decode_round_trip_and_specials(zh_tok):
    text = "今天  天气很好\u3000bad"
    ids = zh_tok.encode(text).ids
    assert zh_tok.decode(ids) == "今天 天气很好 bad" == normalize_text(text)
    assert zh_tok.decode(ids, skip_specials=False) == "[CLS]今天 天气很好 bad"
    # unknown characters decode as [UNK] only when specials are kept
    unk_ids = zh_tok.encode("今Q").ids
    assert zh_tok.decode(unk_ids) == "今"
    assert zh_tok.decode(unk_ids, skip_specials=False) == "[CLS]今[UNK]"


def test_save_load_round_trip_gives_identical_encodings(tmp_path):
    texts = ["今天天气很好", "Good ＢＯＯＫ", "这本书 很差"]
    tok = CharTokenizer.train(texts, lowercase=True, min_freq=1)
    tok.save(tmp_path / "run" / "tokenizer")
    again = CharTokenizer.load(tmp_path / "run" / "tokenizer")
    assert again.vocab.tokens == tok.vocab.tokens
    assert (again.normalize, again.lowercase) == (True, True)
    for t in [*texts, "未见过的字 XYZ"]:
        assert again.encode(t, max_len=6) == tok.encode(t, max_len=6)
    # load_tokenizer accepts the run directory as well
    assert load_tokenizer(tmp_path / "run").vocab.tokens == tok.vocab.tokens
    assert load_tokenizer(tmp_path / "run" / "tokenizer").vocab.tokens == tok.vocab.tokens


def test_load_rejects_wrong_kind(tmp_path):
    tok = CharTokenizer.train(["ab"])
    tok.save(tmp_path)
    (tmp_path / "tokenizer.json").write_text('{"kind": "bpe"}', encoding="utf-8")
    with pytest.raises(DataError, match="tokenizer kind 'bpe', expected 'char'"):
        CharTokenizer.load(tmp_path)


def test_min_freq_and_max_size_in_training():
    tok = CharTokenizer.train(["aaab", "ab", "c"], min_freq=2)
    assert tok.vocab.tokens[5:] == ["a", "b"]
    assert tok.encode("c").ids == [2, 1]
    assert len(CharTokenizer.train(["aaabbc"], max_size=6).vocab) == 6


_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_ASCII = st.sampled_from(list(string.ascii_letters))
_SPACES = st.sampled_from([" ", "  ", "\t", "\n", "\u3000"])
_TEXT = st.lists(st.one_of(_CJK, _ASCII, _SPACES), min_size=0, max_size=30).map("".join)


@settings(max_examples=150, deadline=None)
@given(_TEXT)
def test_property_decode_encode_is_normalised_text(text):
    tok = CharTokenizer.train([text])
    enc = tok.encode(text)
    assert tok.vocab.unk_id not in enc.ids  # every char is in the vocabulary
    assert tok.decode(enc.ids) == normalize_text(text)
    # and the offsets stay inside the text, increasing
    starts = [a for a, _ in enc.offsets[1:]]
    assert starts == sorted(starts) and all(0 <= a < len(text) for a in starts)
