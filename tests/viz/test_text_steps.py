from __future__ import annotations

import pytest

from scratchlm.tokenizers import CharTokenizer
from scratchlm.viz.text_steps import normalization, tokenizations


def test_normalization_names_each_change_and_its_span():
    n = normalization("ＷＩＦＩ　很好，Ok  ", nfkc=True, lowercase=True)
    assert n["normalized"] == "wifi 很好,ok"
    by_start = {c["start"]: c for c in n["changes"]}
    assert by_start[0] == {"start": 0, "end": 1, "from": "Ｗ", "to": "w", "kind": "full-width to half-width"}
    assert by_start[4]["kind"] == "full-width to half-width" and by_start[4]["to"] == " "  # U+3000
    assert by_start[7]["to"] == ","
    assert by_start[8]["kind"] == "lowercase" and by_start[8]["to"] == "o"
    assert 5 not in by_start  # 很 is unchanged
    assert n["counts"] == {"full-width to half-width": 6, "lowercase": 1, "whitespace dropped": 2}


def test_normalization_off_changes_nothing_but_whitespace():
    n = normalization("ＡＢ\tc", nfkc=False, lowercase=False)
    assert n["normalized"] == "ＡＢ c"
    assert [c["kind"] for c in n["changes"]] == ["whitespace"]


@pytest.fixture(scope="module")
def char_tokenizer():
    return CharTokenizer.train(["这本书写得太好了", "质量很差"])


def test_tokenizations_give_ids_in_the_run_vocabulary_and_mark_unks(char_tokenizer):
    rows = {r["kind"]: r for r in tokenizations(char_tokenizer, "这本书很棒")}
    assert list(rows) == ["char", "jieba"]
    chars = rows["char"]
    assert chars["own"] and [t["token"] for t in chars["tokens"]] == list("这本书很棒")
    assert [t["unk"] for t in chars["tokens"]] == [False, False, False, False, True]
    assert chars["unk"] == 1 and chars["tokens"][4]["id"] == char_tokenizer.vocab.unk_id
    assert chars["tokens"][0]["id"] == char_tokenizer.vocab.id("这")
    assert [(t["start"], t["end"]) for t in chars["tokens"]][:2] == [(0, 1), (1, 2)]
    words = rows["jieba"]
    assert not words["own"]
    assert "".join(t["token"] for t in words["tokens"]) == "这本书很棒"
    multi = [t for t in words["tokens"] if len(t["token"]) > 1]
    assert multi and all(t["unk"] for t in multi)  # a character vocabulary has no words


def test_a_subword_run_gets_its_own_row(char_tokenizer):
    from scratchlm.tokenizers import train_tokenizer

    bpe = train_tokenizer("bpe", ["这本书写得太好了"] * 20 + ["质量很差"] * 20, vocab_size=40)
    rows = tokenizations(bpe, "这本书很差")
    assert [r["kind"] for r in rows] == ["char", "jieba", "bpe"]
    assert [r["own"] for r in rows] == [False, False, True]
    assert [t["token"] for t in rows[2]["tokens"]] == bpe.tokenize("这本书很差")
