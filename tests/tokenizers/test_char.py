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


# ----------------------------------------------------------------------------------------------
# more detailed checks: specials, [UNK], whitespace, offsets, truncation modes, persistence

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


@pytest.mark.parametrize(
    ("how", "kept"),
    [
        ("end", "0123"),
        ("start", "6789"),
        ("middle", "0789"),  # budget 4: first quarter (1 token) + last three quarters (3 tokens)
    ],
)
def test_truncation_modes_keep_the_right_tokens(how, kept):
    text = "0123456789"
    tok = CharTokenizer.train([text])
    enc = tok.encode(text, max_len=5, truncation=how)
    assert enc.tokens == ["[CLS]", *kept]
    assert enc.truncated == 6
    # offsets still point at the kept characters
    assert [text[a:b] for a, b in enc.offsets[1:]] == list(kept)


def test_truncation_middle_with_larger_budget_and_no_cls():
    text = "abcdefghijklmnopqrst"  # 20 chars
    tok = CharTokenizer.train([text])
    enc = tok.encode(text, max_len=9, truncation="middle", add_cls=False)
    # budget 9: head 2, tail 7
    assert "".join(enc.tokens) == "ab" + "nopqrst"
    assert enc.truncated == 11


def test_no_truncation_when_it_fits():
    tok = CharTokenizer.train(["abc"])
    assert tok.encode("abc", max_len=4).truncated == 0
    assert tok.encode("abc", max_len=4).tokens == ["[CLS]", "a", "b", "c"]
    assert tok.encode("abc", max_len=3).truncated == 1
    with pytest.raises(ValueError, match="unknown truncation"):
        tok.encode("abcdef", max_len=3, truncation="both")


def test_encode_batch_equals_encode():
    tok = CharTokenizer.train(["abc", "def"])
    batch = tok.encode_batch(["abc", "fed c"], max_len=4, truncation="start")
    assert batch == [
        tok.encode("abc", max_len=4, truncation="start"),
        tok.encode("fed c", max_len=4, truncation="start"),
    ]


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
