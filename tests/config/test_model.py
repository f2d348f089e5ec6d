"""config/model.py: ModelConfig and its nested sections (encoder, positional, decoder, generation):
defaults, valid combinations, and errors that name the key (its dotted path) and say what to do."""

from __future__ import annotations

import dataclasses

import pytest

from scratchlm.config import (
    DecoderConfig,
    EncoderConfig,
    GenerationConfig,
    ModelConfig,
    PositionalConfig,
    config_from_dict,
)
from scratchlm.errors import ConfigError


def _model(**keys) -> ModelConfig:
    """``ModelConfig`` from YAML-shaped keys (nested sections as mappings), as a recipe gives them."""
    return config_from_dict({"model": keys}).model


def test_defaults():
    m = ModelConfig()
    assert (m.encoder.kind, m.encoder.rnn_hidden_dim, m.encoder.bidirectional, m.head) == (
        "transformer",
        None,
        True,
        "softmax",
    )
    assert (m.encoder.num_layers, m.encoder.num_heads, m.encoder.ffn_dim, m.encoder.norm_position) == (
        3,
        4,
        768,
        "pre",
    )
    assert m.positional == PositionalConfig(kind="sinusoidal", combine="add", rope_base=10000.0)
    assert m.decoder == DecoderConfig(attention="bahdanau")
    assert m.generation == GenerationConfig(beam_size=5, length_penalty=1.0, max_new_tokens=None)
    assert _model() == m


def test_valid_combinations():
    ModelConfig(
        encoder=EncoderConfig(
            kind="lstm", num_layers=2, rnn_hidden_dim=100, bidirectional=False, num_heads=7
        ),
        head="crf",
    )
    # a recurrent encoder has no heads: embed_dim need not divide by them
    ModelConfig(
        encoder=EncoderConfig(kind="gru", num_heads=4),
        embed_dim=30,
        positional=PositionalConfig(kind="learned"),
    )
    for kind in ("learned", "alibi", "t5_bias", "none"):  # no (sin, cos) pairs: an odd width is fine
        ModelConfig(embed_dim=15, encoder=EncoderConfig(num_heads=3), positional=PositionalConfig(kind=kind))
    # head_dim 6, a third rotated: 2 dimensions, one pair
    ModelConfig(embed_dim=12, encoder={"num_heads": 2}, positional={"kind": "rope", "rotary_fraction": 1 / 3})


def test_sections_are_typed_and_replaceable():
    m = _model(encoder={"kind": "lstm", "num_layers": "2"}, generation={"beam_size": "3"})
    assert isinstance(m.encoder, EncoderConfig) and m.encoder.num_layers == 2
    assert m.generation.beam_size == 3
    wider = dataclasses.replace(m, generation=dataclasses.replace(m.generation, beam_size=8))
    assert wider.generation.beam_size == 8 and m.generation.beam_size == 3
    assert dataclasses.asdict(m)["encoder"]["kind"] == "lstm"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"encoder": {"num_layer": 2}},
            "unknown config key 'model.encoder.num_layer'; did you mean 'num_layers'",
        ),
        ({"positional": {"bse": 2}}, "unknown config key 'model.positional.bse'; did you mean 'rope_base'"),
        (
            {"decoder": {"atention": "x"}},
            "unknown config key 'model.decoder.atention'; did you mean 'attention'",
        ),
        (
            {"generation": {"num_beams": 2}},
            "unknown config key 'model.generation.num_beams'; did you mean 'beam_size'",
        ),
        ({"generation": {"beam": 2}}, "(valid keys: beam_size, length_penalty, max_new_tokens)"),
        (
            {"decoder": "luong_dot"},
            "model.decoder is a section (keys: attention), not a value: got 'luong_dot'",
        ),
        ({"generation": ["a"]}, "model.generation is a section"),
        ({"n_layers": 2}, "unknown config key 'model.n_layers'; did you mean 'encoder.num_layers'"),
    ],
)
def test_unknown_nested_keys_name_their_dotted_path(keys, message):
    with pytest.raises(ConfigError) as exc:
        _model(**keys)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        # encoder
        (
            {"encoder": {"kind": "elman"}},
            "model.encoder.kind='elman' is not one of transformer, rnn, lstm, gru",
        ),
        (
            {"decoder": {"attention": "none"}},
            "model.decoder.attention=none is a recurrent decoder without attention",
        ),
        ({"encoder": {"kind": "lstm", "num_layers": 0}}, "needs model.encoder.num_layers >= 1"),
        (
            {"encoder": {"kind": "lstm"}, "positional": {"kind": "rope"}},
            "acts inside attention, and model.encoder.kind=lstm has none",
        ),
        (
            {"encoder": {"rnn_hidden_dim": 64}},
            "model.encoder.rnn_hidden_dim applies to model.encoder.kind rnn, lstm or gru",
        ),
        (
            {"encoder": {"bidirectional": False}},
            "model.encoder.bidirectional applies to model.encoder.kind rnn, lstm",
        ),
        ({"encoder": {"kind": "gru", "rnn_hidden_dim": 0}}, "model.encoder.rnn_hidden_dim=0 must be >= 1"),
        ({"encoder": {"kind": "gru"}, "embed_dim": 1}, "model.embed_dim=1 cannot be halved"),
        ({"encoder": {"kind": "gru", "norm_position": "post"}}, "applies to model.encoder.kind=transformer"),
        (
            {"encoder": {"norm_position": "middle"}},
            "model.encoder.norm_position='middle' is not one of pre, post",
        ),
        ({"encoder": {"attention_dropout": 1.0}}, "model.encoder.attention_dropout=1.0 must be in [0, 1)"),
        ({"encoder": {"num_heads": 0}}, "model.encoder.num_heads=0 must be >= 1"),
        ({"embed_dim": 30}, "model.embed_dim=30 must be divisible by model.encoder.num_heads=4"),
        # positional
        ({"positional": {"kind": "rotary"}}, "model.positional.kind='rotary' is not one of sinusoidal"),
        ({"positional": {"combine": "mul"}}, "model.positional.combine='mul' is not one of add, concat"),
        (
            {"positional": {"kind": "rope", "combine": "concat"}},
            "model.positional.combine=concat joins token vectors with absolute position vectors, and "
            "model.positional.kind=rope acts inside attention",
        ),
        ({"positional": {"kind": "alibi", "combine": "concat"}}, "model.positional.kind=alibi acts inside"),
        (
            {"positional": {"kind": "t5_bias", "combine": "concat"}},
            "model.positional.kind=t5_bias acts inside",
        ),
        ({"positional": {"kind": "none", "combine": "concat"}}, "none has no position vectors"),
        (
            {"positional": {"combine_activation": "gelu"}},
            "model.positional.combine_activation=gelu applies to",
        ),
        (
            {"positional": {"combine": "concat", "combine_activation": "swish"}},
            "model.positional.combine_activation='swish' is not one of none, gelu, tanh, relu",
        ),
        ({"embed_dim": 15, "encoder": {"num_heads": 3}}, "sinusoidal needs an even model.embed_dim (got 15)"),
        (
            {"embed_dim": 15, "encoder": {"num_heads": 3}, "positional": {"kind": "scaled_sinusoidal"}},
            "even model.embed_dim",
        ),
        (
            {"embed_dim": 12, "positional": {"kind": "rope"}},
            "head_dim = embed_dim / num_heads = 3: RoPE rotates",
        ),
        ({"positional": {"kind": "rope", "rotary_fraction": 0.3}}, "model.positional.rotary_fraction=0.3"),
        ({"positional": {"kind": "rope", "rotary_fraction": 1.5}}, "model.positional.rotary_fraction=1.5"),
        ({"positional": {"kind": "rope", "rope_base": 1.0}}, "model.positional.rope_base=1.0 must be > 1"),
        (
            {"positional": {"kind": "alibi"}, "encoder": {"num_layers": 0}},
            "alibi acts inside attention, and model.encoder.num_layers=0",
        ),
        (
            {"positional": {"kind": "t5_bias", "num_buckets": 2}},
            "model.positional.num_buckets=2 must be >= 4",
        ),
        (
            {"positional": {"kind": "t5_bias", "num_buckets": 33}},
            "model.positional.num_buckets=33 must be even",
        ),
        (
            {"positional": {"kind": "t5_bias", "max_distance": 8}},
            "model.positional.max_distance=8 must be > num_buckets / 4",
        ),
        # decoder, generation
        (
            {"decoder": {"attention": "luong"}},
            "model.decoder.attention='luong' is not one of bahdanau, luong_dot, luong_general, none",
        ),
        ({"generation": {"beam_size": 0}}, "model.generation.beam_size=0 must be >= 1"),
        ({"generation": {"length_penalty": -1}}, "model.generation.length_penalty=-1"),
        ({"generation": {"max_new_tokens": 0}}, "model.generation.max_new_tokens=0 must be >= 1"),
        # the input layer and the head
        ({"head": "hmm"}, "model.head='hmm' is not one of softmax, crf, sigmoid"),
        ({"embedding_norm": "batchnorm"}, "model.embedding_norm='batchnorm' is not one of none, layernorm"),
        ({"dropout": 1.0}, "model.dropout=1.0 must be in [0, 1)"),
        ({"bigram_buckets": 1}, "model.bigram_buckets=1: use 0 (off) or >= 2 buckets"),
        ({"pooling": "first"}, "model.pooling='first' is not one of cls, mean, max, mean_max, last"),
        ({"embedding_rank": 192}, "model.embedding_rank=192 must be in [1, embed_dim=192)"),
        ({"freeze_embedding_rows": "pretrained"}, "model.init is normal (no pretrained source)"),
        ({"vectors_vocab": 10}, "model.init=normal has none"),
    ],
)
def test_bad_values_are_clear_errors(keys, message):
    with pytest.raises(ConfigError) as exc:
        _model(**keys)
    assert message in str(exc.value)


def test_shared_layers_activation_and_input_dim_are_checked():
    cfg = ModelConfig(
        embed_dim=32, input_dim=16, encoder={"num_layers": 3, "unique_layers": 1, "activation": "gelu_tanh"}
    )
    assert cfg.input_width == 16 and ModelConfig().input_width == 192
    with pytest.raises(ConfigError, match=r"model.encoder.unique_layers=4 must be in \[1, num_layers=3\]"):
        ModelConfig(encoder={"num_layers": 3, "unique_layers": 4})
    with pytest.raises(ConfigError, match="apply to kind transformer, not lstm"):
        ModelConfig(encoder={"kind": "lstm", "unique_layers": 1})
    with pytest.raises(ConfigError, match="model.encoder.activation='relu' is not one of gelu, gelu_tanh"):
        ModelConfig(encoder={"activation": "relu"})


def test_the_article_options_are_accepted():
    m = _model(encoder={"kind": "rnn", "bidirectional": False}, head="sigmoid", pooling="last")
    assert m.encoder.recurrent and m.head == "sigmoid" and m.pooling == "last"
    assert _model(encoder={"kind": "lstm"}, decoder={"attention": "none"}).decoder.attention == "none"
