"""Subword tokenizers (bpe, bytebpe, wordpiece, unigram via HF tokenizers) and load_tokenizer's dispatch."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlm.config import DataConfig
from scratchlm.errors import ConfigError, DataError
from scratchlm.tokenizers import (
    SPECIALS,
    SUBWORD_KINDS,
    CharTokenizer,
    SubwordTokenizer,
    Vocab,
    build_tokenizer,
    load_tokenizer,
    normalize_aligned,
)
from scratchlm.tokenizers.base import SPACE

tokenizers = pytest.importorskip("tokenizers")

CJK = "这本书很好看质量不错推荐给大家孩子喜欢内容太差了没有意思"
LATIN = string.ascii_letters + string.digits
PUNCT = ",.!?()[]#%-"
ALPHABET = CJK + LATIN + PUNCT
# every character at the start and inside a pre-token, so WordPiece has both forms of each
PAIRS = [" ".join(a + b for a in group for b in group) for group in (CJK, LATIN)] + [" ".join(PUNCT)]
REVIEWS = [
    "这本书很好看,推荐给大家!",
    "质量不错 Good book, 5 stars",
    "内容太差了……没有意思",
    "孩子喜欢 ＡＢＣ１２３ 全角",
    "  spaces   and\ttabs\u3000here  ",
]


# WordPiece needs each character twice (初 and ##初) before it merges anything: ~4,900 here
SIZES = {"bpe": 3000, "bytebpe": 3000, "wordpiece": 8000, "unigram": 3000}


def _norm(text: str) -> str:
    return normalize_aligned(text)[0]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    from scratchlm.data.load import load_texts

    return load_texts("zh-reviews")[:1500] + PAIRS + REVIEWS


@pytest.fixture(scope="module")
def trained(corpus) -> dict[str, SubwordTokenizer]:
    return {kind: SubwordTokenizer.train(corpus, kind=kind, vocab_size=SIZES[kind]) for kind in SUBWORD_KINDS}


@pytest.mark.parametrize("kind", SUBWORD_KINDS)
def test_specials_first_and_vocab_size(trained, kind):
    tok = trained[kind]
    assert tok.vocab.tokens[:5] == list(SPECIALS)
    assert [tok.hf.token_to_id(s) for s in SPECIALS] == [0, 1, 2, 3, 4]
    assert len(tok.vocab) == SIZES[kind] == tok.hf.get_vocab_size()
    assert tok.encode("好").ids[0] == tok.vocab.cls_id == 2


@pytest.mark.parametrize("kind", SUBWORD_KINDS)
def test_round_trip_gives_back_the_normalised_text(trained, corpus, kind):
    tok = trained[kind]
    for text in [*REVIEWS, *corpus[:200]]:
        enc = tok.encode(text)
        assert tok.vocab.unk_id not in enc.ids, (kind, text, enc.tokens)
        assert tok.decode(enc.ids) == _norm(text), (kind, enc.tokens)


def test_subword_pieces_are_longer_than_characters_on_chinese(trained):
    for kind in SUBWORD_KINDS:
        tokens = trained[kind].tokenize("这本书很好看,推荐给大家!")
        assert len(tokens) < len("这本书很好看,推荐给大家!"), (kind, tokens)
    assert trained["bpe"].tokenize("质量不错,推荐") == ["质量", "不错", ",", "推荐"]  # "," stays alone


@pytest.mark.parametrize("kind", ["bpe", "wordpiece", "unigram"])
def test_offsets_map_tokens_to_their_original_spans(trained, kind):
    tok = trained[kind]
    text = "质量不错！！ Good  book,５ stars"
    enc = tok.encode(text)
    assert enc.offsets[0] == (0, 0)
    for token, (a, b) in zip(enc.tokens[1:], enc.offsets[1:], strict=True):
        surface = tok._surface(token)
        if token == SPACE:
            assert text[a:b].isspace()
        else:
            assert _norm(text[a:b]) == surface, (token, text[a:b])
    starts = [a for a, _ in enc.offsets[1:]]
    assert starts == sorted(starts)


def test_bytebpe_offsets_cover_the_text_and_never_unk(trained):
    tok = trained["bytebpe"]
    text = "生僻字龘 and emoji 😀!"
    enc = tok.encode(text, add_cls=False)
    assert tok.vocab.unk_id not in enc.ids  # bytes: nothing is unknown
    assert tok.decode(enc.ids) == text
    covered = {i for a, b in enc.offsets for i in range(a, b)}
    assert covered == set(range(len(text)))


def test_unknown_characters_and_special_strings(trained):
    bpe = trained["bpe"]
    enc = bpe.encode("龘好", add_cls=False)
    assert enc.ids[0] == bpe.vocab.unk_id and enc.offsets[0] == (0, 1)
    for kind in SUBWORD_KINDS:  # text that spells a special is text, not the special
        ids = trained[kind].encode("a [SEP] b [MASK]", add_cls=False).ids
        assert not set(ids) & {0, 2, 3, 4}, kind


def test_wordpiece_continuation_and_truncation(trained):
    wp = trained["wordpiece"]
    tokens = wp.tokenize("Goodbook")
    assert len(tokens) > 1 and all(t.startswith("##") for t in tokens[1:])
    enc = wp.encode("这本书很好看,推荐给大家!" * 5, max_len=8, truncation="middle")
    assert len(enc.ids) == 8 and enc.truncated > 0 and enc.ids[0] == 2


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(list(ALPHABET) + [" ", "  ", "\u3000", "！", "Ａ"]), max_size=40).map("".join)
)
def test_property_bpe_round_trip(trained_hypothesis, text):
    for tok in trained_hypothesis:
        enc = tok.encode(text)
        assert tok.vocab.unk_id not in enc.ids
        assert tok.decode(enc.ids) == _norm(text), (tok.kind, enc.tokens)
        assert len(enc.ids) == len(enc.tokens) == len(enc.offsets)


@pytest.fixture(scope="module")
def trained_hypothesis(trained):
    return [trained["bpe"], trained["bytebpe"]]


@pytest.mark.parametrize("kind", SUBWORD_KINDS)
def test_save_load_gives_identical_encodings(trained, tmp_path, kind):
    tok = trained[kind]
    tok.save(tmp_path / "tok")
    assert sorted(p.name for p in (tmp_path / "tok").iterdir()) == [
        "scratchlm_tokenizer.json",
        "tokenizer.json",
        "vocab.txt",
    ]
    assert Vocab.load(tmp_path / "tok" / "vocab.txt").tokens == tok.vocab.tokens
    hf = tokenizers.Tokenizer.from_file(str(tmp_path / "tok" / "tokenizer.json"))  # a plain HF file
    assert hf.get_vocab_size() == len(tok.vocab)
    again = load_tokenizer(tmp_path / "tok")
    assert isinstance(again, SubwordTokenizer) and again.kind == kind
    assert again.vocab.tokens == tok.vocab.tokens
    for text in REVIEWS:
        assert again.encode(text, max_len=12) == tok.encode(text, max_len=12)
    assert again.encode_batch(REVIEWS) == tok.encode_batch(REVIEWS)


def test_lowercase_is_kept_through_save_load(corpus, tmp_path):
    tok = SubwordTokenizer.train(corpus[:300], kind="bpe", vocab_size=500, lowercase=True)
    tok.save(tmp_path)
    again = load_tokenizer(tmp_path)
    assert again.lowercase and again.tokenize("GOOD") == tok.tokenize("good")


def test_load_tokenizer_reads_a_char_run_directory_written_by_the_char_tokenizer(tmp_path):
    # the files exactly as CharTokenizer.save writes them into a run's tokenizer/
    run = tmp_path / "run"
    (run / "tokenizer").mkdir(parents=True)
    (run / "run.json").write_text("{}", encoding="utf-8")
    (run / "tokenizer" / "vocab.txt").write_text("\n".join([*SPECIALS, "好", "书", "▁"]) + "\n")
    meta = {"kind": "char", "normalize": True, "lowercase": False, "vocab_size": 8}
    (run / "tokenizer" / "tokenizer.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tok = load_tokenizer(run)
    assert isinstance(tok, CharTokenizer)
    assert tok.encode("好 书!").ids == [2, 5, 7, 6, 1]
    fresh = CharTokenizer.train(["好书 "])
    fresh.save(tmp_path / "fresh")
    assert load_tokenizer(tmp_path / "fresh").vocab.tokens == fresh.vocab.tokens


def test_directories_that_are_not_tokenizers_say_so(tmp_path, trained):
    with pytest.raises(DataError, match="no such tokenizer or run directory"):
        load_tokenizer(tmp_path / "missing")
    with pytest.raises(DataError, match="not a scratchlm tokenizer directory"):
        load_tokenizer(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(DataError, match="is a file"):
        load_tokenizer(tmp_path / "f.txt")
    hf_only = tmp_path / "hf"
    hf_only.mkdir()
    trained["bpe"].hf.save(str(hf_only / "tokenizer.json"))
    with pytest.raises(DataError, match="Hugging Face tokenizer.json without scratchlm_tokenizer.json"):
        load_tokenizer(hf_only)
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "tokenizer.json").write_text('{"kind": "sentencepiece"}')
    with pytest.raises(DataError, match="unknown tokenizer kind 'sentencepiece'.*char, jieba, bpe"):
        load_tokenizer(odd)


def test_build_tokenizer_from_the_data_config(corpus):
    tok = build_tokenizer(DataConfig(tokenizer="unigram", vocab_size=1500), corpus[:300])
    assert tok.kind == "unigram" and len(tok.vocab) == 1500
    with pytest.raises(
        DataError, match=r"unigram: vocab_size 400 cannot hold the 5 specials and the \d+ distinct"
    ):
        build_tokenizer(DataConfig(tokenizer="unigram", vocab_size=400), corpus[:300])
    assert build_tokenizer(DataConfig(max_vocab_size=50), corpus[:300]).kind == "char"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"tokenizer": "sentencepiece"},
            r"data.tokenizer: unknown tokenizer 'sentencepiece'; use one of char, jieba, bpe, bytebpe, wordpiece, unigram",
        ),
        ({"tokenizer": "char", "vocab_size": 100}, r"data.vocab_size applies to the subword tokenizers"),
        ({"tokenizer": "bpe", "max_vocab_size": 100}, r"data.max_vocab_size applies to char and jieba"),
        ({"tokenizer": "bpe", "vocab_size": 3}, r"data.vocab_size=3 must be >= 6"),
        ({"tokenizer": "unigram", "min_freq": 2}, r"data.min_freq has no effect"),
        ({"tokenizer": "bpe", "user_dict": "u.txt"}, r"data.user_dict applies to data.tokenizer=jieba"),
        (
            {"tokenizer": "jieba", "unk_fallback": "bytes"},
            r"data.unk_fallback='bytes' is not one of none, char",
        ),
    ],
)
def test_config_errors_name_the_key(fields, message):
    with pytest.raises(ConfigError, match=message):
        DataConfig(**fields)
