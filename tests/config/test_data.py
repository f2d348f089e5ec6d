"""config/data.py: DataConfig's defaults and the errors its checks give."""

from __future__ import annotations

import pytest

from scratchlm.config import DataConfig, config_from_dict
from scratchlm.errors import ConfigError


def test_defaults_and_valid_values():
    d = DataConfig()
    assert (d.task, d.tag_scheme, d.tokens_field, d.tags_field) == ("auto", "auto", "tokens", "tags")
    assert (d.tokenizer, d.truncation, d.max_seq_len) == ("char", "end", 256)
    cfg = config_from_dict({"data": {"dataset": "pd1998-ner", "task": "tagging"}, "model": {"head": "crf"}})
    assert cfg.data.task == "tagging"
    DataConfig(tokenizer="bpe", vocab_size=100)
    DataConfig(tokenizer="jieba", user_dict="words.txt", unk_fallback="char")
    DataConfig(task="masked_lm", packing=True)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"task": "ner"}, "data.task='ner' is not one of auto, classification, tagging"),
        ({"task": "translate"}, "data.task='translate' is not one of"),
        ({"tag_scheme": "iobes"}, "data.tag_scheme='iobes' is not one of auto, bio, bmes"),
        ({"truncation": "left"}, "data.truncation='left' is not one of end, start, middle"),
        ({"max_seq_len": 1}, "data.max_seq_len=1 must be >= 2"),
        ({"min_freq": 0}, "data.min_freq=0 must be >= 1"),
        ({"tokenizer": "words"}, "data.tokenizer: unknown tokenizer 'words'"),
        ({"vocab_size": 100}, "data.vocab_size applies to the subword tokenizers"),
        ({"tokenizer": "bpe", "max_vocab_size": 100}, "data.max_vocab_size applies to char and jieba"),
        ({"tokenizer": "unigram", "min_freq": 2}, "data.min_freq has no effect with data.tokenizer=unigram"),
        ({"user_dict": "words.txt"}, "data.user_dict applies to data.tokenizer=jieba, not char"),
        ({"mask_ratio": 1.0}, "data.mask_ratio=1.0 must be in (0, 1)"),
        ({"target_fields": "x"}, "unknown config key 'data.target_fields'; did you mean 'target_field'"),
        ({"max_len": 8}, "unknown config key 'data.max_len'; did you mean 'max_seq_len'"),
    ],
)
def test_bad_values_are_clear_errors(values, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict({"data": values})
    assert message in str(exc.value)
