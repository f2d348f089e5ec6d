"""Config keys of encoders and taggers: values, and errors that say what to do."""

from __future__ import annotations

import pytest

from scratchlm.config import DataConfig, ModelConfig, config_from_dict
from scratchlm.errors import ConfigError
from scratchlm.tasks.registry import make_task


def test_defaults_and_valid_values():
    m = ModelConfig()
    assert (m.encoder, m.rnn_hidden_dim, m.bidirectional, m.head) == ("transformer", None, True, "softmax")
    d = DataConfig()
    assert (d.task, d.tag_scheme, d.tokens_field, d.tags_field) == ("auto", "auto", "tokens", "tags")
    ModelConfig(
        encoder="lstm", num_layers=2, rnn_hidden_dim=100, bidirectional=False, num_heads=7, head="crf"
    )
    ModelConfig(encoder="gru", embed_dim=30, num_heads=4, positional="learned")  # heads do not matter
    cfg = config_from_dict({"data": {"dataset": "pd1998-ner", "task": "tag"}, "model": {"head": "crf"}})
    assert cfg.data.task == "tagging"  # the name of earlier versions, migrated


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("model", {"encoder": "rnn"}, "model.encoder='rnn' is not one of transformer, lstm, gru"),
        ("model", {"encoder": "lstm", "num_layers": 0}, "needs model.num_layers >= 1"),
        (
            "model",
            {"encoder": "lstm", "positional": "rope"},
            "acts inside attention, and model.encoder=lstm has none",
        ),
        ("model", {"rnn_hidden_dim": 64}, "model.rnn_hidden_dim applies to model.encoder lstm or gru"),
        ("model", {"bidirectional": False}, "model.bidirectional applies to model.encoder lstm or gru"),
        ("model", {"encoder": "gru", "rnn_hidden_dim": 0}, "model.rnn_hidden_dim=0 must be >= 1"),
        ("model", {"head": "hmm"}, "model.head='hmm' is not one of softmax, crf"),
        ("data", {"task": "ner"}, "data.task='ner' is not one of auto, classification, tagging"),
        ("data", {"tag_scheme": "iobes"}, "data.tag_scheme='iobes' is not one of auto, bio, bmes"),
        ("data", {"task": "classification", "tag_scheme": "bio"}, "applies to data.task=tagging"),
        ("data", {"task": "tagging", "tokenizer": "jieba"}, "needs data.tokenizer=char"),
    ],
)
def test_bad_values_are_clear_errors(section, values, message):
    """Checks of one section fail on load; those that depend on the task fail when the task is made."""
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_task(config_from_dict({section: values}))


def test_crf_head_on_a_classifier_is_an_error():
    with pytest.raises(ConfigError, match="model.head=crf is a tagger head"):
        make_task(config_from_dict({"data": {"task": "classification"}, "model": {"head": "crf"}}))
