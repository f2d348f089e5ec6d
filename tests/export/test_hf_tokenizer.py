"""Tokenizers for transformers: every kind ``tokenizers`` can express, written and loaded with
``AutoTokenizer``, gives scratchlm's ids and specials on mixed Chinese/English texts (full-width forms,
runs of whitespace, lowercase, unseen characters); jieba is refused with the reason."""

from __future__ import annotations

import pytest

from cli_helpers import run_cli
from scratchlm.data.load import load_texts
from scratchlm.errors import DataError
from scratchlm.export.hf_tokenizer import JIEBA_ERROR, export_tokenizer_hf, hf_pipeline
from scratchlm.tokenizers.factory import load_tokenizer, train_tokenizer

transformers = pytest.importorskip("transformers")

MIXED = [
    "这本书 Very good！！不错，推荐",
    "  Ｔｈｅ　ＧＰＵ 显卡\tRTX4090 很贵 \n 但是 worth it  ",
    "iPhone 15 Pro的电池续航一般般, battery life is OK...",
    "生僻字龘靐 and emoji 😀 和 ½ ㎏ ﬁ",
    "HELLO world 你好世界 12,345.67元",
    "a\x1cb\u2028c\u00a0d",
]


@pytest.fixture(scope="module")
def corpus():
    english = ["The quick brown fox jumps over the lazy dog.", "Battery life is great, worth the price!"]
    return load_texts("zh-reviews")[:300] + english * 20


@pytest.mark.parametrize(
    ("kind", "size", "lowercase"),
    [
        ("char", None, False),
        ("char", None, True),
        ("bpe", 2500, False),
        ("bytebpe", 1200, False),
        ("wordpiece", 4000, True),
        ("unigram", 2500, False),
    ],
)
def test_autotokenizer_gives_the_same_ids_and_specials(corpus, tmp_path, kind, size, lowercase):
    tok = train_tokenizer(kind, corpus, vocab_size=size, lowercase=lowercase)
    report = export_tokenizer_hf(tok, tmp_path, model_max_length=512)
    assert report["transformers_check"]["ids_equal"]
    hf = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    assert (hf.pad_token_id, hf.unk_token_id, hf.cls_token_id, hf.sep_token_id, hf.mask_token_id) == (
        0,
        1,
        2,
        3,
        4,
    )
    assert hf.model_max_length == 512 and len(hf) == len(tok.vocab)
    texts = MIXED + corpus[:40]
    assert [hf(t)["input_ids"] for t in texts] == [tok.encode(t).ids for t in texts]
    short, long = sorted(MIXED[:2], key=lambda t: len(tok.encode(t).ids))
    padded = hf([short, long], padding=True)
    width = len(tok.encode(long).ids)
    assert padded["input_ids"][0] == tok.encode(short).ids + [0] * (width - len(tok.encode(short).ids))
    for t in texts:  # decoding too: the normalised text back
        assert hf.decode(hf(t)["input_ids"], skip_special_tokens=True) == tok.decode(tok.encode(t).ids)
    # the documented difference: transformers matches its specials in raw text
    assert hf("[SEP]")["input_ids"] == [2, 3] and tok.encode("[SEP]").ids != [2, 3]


def test_a_mismatch_is_caught(corpus, tmp_path):
    tok = train_tokenizer("char", corpus[:50])
    export_tokenizer_hf(tok, tmp_path, check=False)
    tok.normalize = False  # the written file still folds the full-width comma, this tokenizer no more
    from scratchlm.export.hf_tokenizer import check_with_transformers

    with pytest.raises(DataError, match="transformers gives ids"):
        check_with_transformers(tok, tmp_path, texts=["好，"])


def test_jieba_says_why_not_and_what_instead(corpus, tmp_path):
    pytest.importorskip("jieba")
    tok = train_tokenizer("jieba", corpus[:50])
    with pytest.raises(DataError, match="cannot be exported for transformers") as err:
        hf_pipeline(tok)
    assert (
        str(err.value) == JIEBA_ERROR
        and "built-in components" in JIEBA_ERROR
        and "--kind char" in JIEBA_ERROR
    )
    tok.save(tmp_path / "jieba")
    proc = run_cli(
        "tokenizer", "export", str(tmp_path / "jieba"), "--format", "hf", "--out", str(tmp_path / "o")
    )
    assert proc.returncode == 2 and "jieba tokenizer cannot be exported" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_tokenizer_export(corpus, tmp_path):
    tok = train_tokenizer("char", corpus[:100])
    tok.save(tmp_path / "tok")
    proc = run_cli(
        "tokenizer", "export", str(tmp_path / "tok"), "--format", "hf", "--out", str(tmp_path / "hf")
    )
    assert proc.returncode == 0, proc.stderr
    assert "AutoTokenizer gives the same ids" in proc.stdout
    assert (
        load_tokenizer(tmp_path / "tok").encode(MIXED[0]).ids
        == transformers.AutoTokenizer.from_pretrained(str(tmp_path / "hf"))(MIXED[0])["input_ids"]
    )
