"""Config keys of seq2seq models: values, and errors that say what to do."""

from __future__ import annotations

import pytest

from cli_helpers import ROOT
from scratchlm.config import config_from_dict, load_config
from scratchlm.errors import ConfigError
from scratchlm.tasks.registry import make_task


def test_the_recipe_loads_and_the_defaults():
    cfg = load_config(ROOT / "configs" / "cmudict_g2p.yaml")
    assert (cfg.data.task, cfg.data.dataset, cfg.model.encoder) == ("seq2seq", "cmudict-g2p", "lstm")
    m = config_from_dict({}).model
    assert (m.attention, m.beam_size, m.length_penalty, m.max_decode_len) == ("bahdanau", 5, 1.0, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"model": {"attention": "luong"}},
            "model.attention='luong' is not one of bahdanau, luong_dot, luong_general",
        ),
        ({"model": {"beam_size": 0}}, "model.beam_size=0 must be >= 1"),
        ({"model": {"length_penalty": -1}}, "model.length_penalty=-1"),
        (
            {"data": {"task": "seq2seq", "max_seq_len": 16}, "model": {"max_decode_len": 20}},
            "must be <= data.max_seq_len - 1 = 15",
        ),
        (
            {"data": {"task": "seq2seq"}, "model": {"positional": "alibi"}},
            "model.positional=alibi is an encoder-only bias",
        ),
        ({"data": {"task": "seq2seq"}, "model": {"num_layers": 0}}, "needs model.num_layers >= 1"),
        ({"data": {"task": "seq2seq"}, "model": {"head": "crf"}}, "model.head=crf is a tagger head"),
        ({"data": {"task": "seq2seq"}, "model": {"norm_position": "post"}}, "decoder is pre-LN; use pre"),
        ({"data": {"task": "translate"}}, "data.task='translate' is not one of"),
        (
            {"data": {"target_fields": "x"}},
            "unknown config key 'data.target_fields'; did you mean 'target_field'",
        ),
    ],
)
def test_bad_values_are_named(raw, message):
    with pytest.raises(ConfigError, match=None) as info:
        make_task(config_from_dict(raw))  # the task's own checks run when it is made
    assert message in str(info.value)
