"""Building and loading tokenizers of any kind: ``build_tokenizer`` from the data config, ``load_tokenizer``'s
dispatch on a tokenizer or run directory and its errors, and tokenizer settings as config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzz_helpers
from scratchlm.config import DataConfig
from scratchlm.errors import ConfigError, DataError
from scratchlm.tokenizers import (
    SPECIALS,
    CharTokenizer,
    SubwordTokenizer,
    build_tokenizer,
    load_tokenizer,
)

pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    from scratchlm.data.load import load_texts

    return load_texts("zh-reviews")[:300]


@pytest.fixture(scope="module")
def bpe(corpus) -> SubwordTokenizer:
    return SubwordTokenizer.train(corpus[:300], kind="bpe", vocab_size=500)


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


def test_directories_that_are_not_tokenizers_say_so(tmp_path, bpe):
    with pytest.raises(DataError, match="no such tokenizer or run directory"):
        load_tokenizer(tmp_path / "missing")
    with pytest.raises(DataError, match="not a scratchlm tokenizer directory"):
        load_tokenizer(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(DataError, match="is a file"):
        load_tokenizer(tmp_path / "f.txt")
    hf_only = tmp_path / "hf"
    hf_only.mkdir()
    bpe.hf.save(str(hf_only / "tokenizer.json"))
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


# ------------------------------------------------------------------------------------------- fuzzing
@pytest.fixture(scope="module")
def saved_tokenizers(tmp_path_factory, corpus, bpe) -> dict[str, Path]:
    """A saved tokenizer directory of each family: characters, jieba words, a subword model."""
    from scratchlm.tokenizers.jieba_word import JiebaTokenizer

    root = tmp_path_factory.mktemp("tokenizers")
    made = {
        "char": CharTokenizer.train(corpus[:100]),
        "jieba": JiebaTokenizer.train(corpus[:50]),
        "bpe": bpe,
    }
    for name, tok in made.items():
        tok.save(root / name)
    return {name: root / name for name in made}


@fuzz_helpers.fuzz()
@given(data=st.data())
def test_fuzz_damaged_tokenizer_directories_only_scratchlm_errors(saved_tokenizers, tmp_path_factory, data):
    """A tokenizer directory with one file damaged: a tokenizer that encodes, or one ScratchLMError."""
    import shutil

    from scratchlm.errors import ScratchLMError

    source = saved_tokenizers[data.draw(st.sampled_from(sorted(saved_tokenizers)))]
    target = tmp_path_factory.mktemp("damaged") / "tok"
    shutil.copytree(source, target)
    files = sorted(p for p in target.rglob("*") if p.is_file())
    fuzz_helpers.damage_file(data.draw, data.draw(st.sampled_from(files)))
    try:
        tok = load_tokenizer(target)
    except ScratchLMError:
        return
    tok.encode("好书，值得一读。")
