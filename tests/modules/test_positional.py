"""Absolute positional encodings: the module harness for each; the sinusoidal formula, extrapolation,
the scaled sinusoidal scalar, learned limits, none; positional settings as config errors."""

from __future__ import annotations

import math

import pytest
import torch

from harness import run_module_test
from scratchlm.config import ModelConfig
from scratchlm.errors import ConfigError
from scratchlm.modules import (
    LearnedPositionalEmbedding,
    NoPositionalEncoding,
    ScaledSinusoidalPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_table,
)
from scratchlm.modules.positional import build_positional


@pytest.mark.parametrize(
    ("factory", "num_trainable"),
    [
        (lambda: SinusoidalPositionalEncoding(6, max_seq_len=4), 0),  # the input is longer: extends
        (lambda: ScaledSinusoidalPositionalEncoding(6, max_seq_len=8), 1),
        (lambda: LearnedPositionalEmbedding(6, max_seq_len=8), 8 * 6),
        (NoPositionalEncoding, 0),
    ],
    ids=["sinusoidal", "scaled_sinusoidal", "learned", "none"],
)
def test_module_harness(factory, num_trainable):
    run_module_test(factory, (torch.randn(2, 5, 6),), expected_shape=(2, 5, 6), num_trainable=num_trainable)


def _pe(pos: int, j: int, d: int) -> float:
    i2 = j - (j % 2)  # 2i
    angle = pos / (10000 ** (i2 / d))
    return math.sin(angle) if j % 2 == 0 else math.cos(angle)


@pytest.mark.parametrize("d", [6, 7])
def test_table_matches_the_formula(d):
    n = 50
    table = sinusoidal_table(n, d)
    assert table.shape == (n, d) and table.dtype == torch.float32
    expected = torch.tensor([[_pe(p, j, d) for j in range(d)] for p in range(n)], dtype=torch.float32)
    torch.testing.assert_close(table, expected, atol=1e-6, rtol=0)
    # position 0: sin 0 = 0 in even columns, cos 0 = 1 in odd columns
    assert table[0, 0::2].abs().max() == 0 and torch.all(table[0, 1::2] == 1)


def test_module_adds_the_table():
    d, s = 6, 9
    pe = SinusoidalPositionalEncoding(d, max_seq_len=16)
    assert list(pe.parameters()) == []
    x = torch.randn(2, s, d)
    expected = x + torch.tensor([[_pe(p, j, d) for j in range(d)] for p in range(s)])
    torch.testing.assert_close(pe(x), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("d", [6, 7])
def test_sinusoidal_extends_beyond_max_seq_len_by_formula(d):
    pe = SinusoidalPositionalEncoding(d, max_seq_len=4)
    s = 25
    out = pe(torch.zeros(1, s, d))
    expected = torch.tensor([[_pe(p, j, d) for j in range(d)] for p in range(s)], dtype=torch.float32)
    torch.testing.assert_close(out[0], expected, atol=1e-6, rtol=0)
    # and the short prefix is unchanged afterwards
    torch.testing.assert_close(pe(torch.zeros(1, 3, d))[0], expected[:3], atol=1e-6, rtol=0)


def test_table_rows_differ_and_are_bounded():
    t = sinusoidal_table(200, 16)
    assert t.abs().max() <= 1.0
    # every position has its own vector
    dist = torch.cdist(t, t) + torch.eye(200) * 10
    assert dist.min() > 1e-3


def test_learned_positions_add_rows_and_refuse_to_extrapolate():
    pe = LearnedPositionalEmbedding(4, max_seq_len=8)
    assert pe.weight.shape == (8, 4)
    x = torch.randn(3, 5, 4)
    torch.testing.assert_close(pe(x), x + pe.weight[:5])
    pe(torch.zeros(1, 8, 4))  # exactly max is fine
    with pytest.raises(ValueError, match="cannot extrapolate"):
        pe(torch.zeros(1, 9, 4))


def test_learned_init_std():
    torch.manual_seed(0)
    pe = LearnedPositionalEmbedding(64, max_seq_len=512)
    assert abs(pe.weight.std().item() - 0.02) < 0.001
    assert abs(pe.weight.mean().item()) < 0.001


def test_scaled_sinusoidal_is_the_table_times_a_learned_scalar():
    pe = ScaledSinusoidalPositionalEncoding(8, max_seq_len=4)
    assert [p.shape for p in pe.parameters()] == [torch.Size([])]
    assert pe.scale.item() == pytest.approx(8**-0.5)
    with torch.no_grad():
        pe.scale.fill_(3.0)
    torch.testing.assert_close(pe.encodings(10), 3.0 * sinusoidal_table(10, 8))
    pe.encodings(6).sum().backward()
    assert pe.scale.grad is not None


def test_none_is_identity():
    x = torch.randn(2, 5, 3)
    pe = NoPositionalEncoding()
    assert pe(x) is x or torch.equal(pe(x), x)
    assert list(pe.parameters()) == []


def test_build_positional_kinds():
    assert isinstance(build_positional("sinusoidal", 4, 8), SinusoidalPositionalEncoding)
    assert isinstance(build_positional("scaled_sinusoidal", 4, 8), ScaledSinusoidalPositionalEncoding)
    assert isinstance(build_positional("learned", 4, 8), LearnedPositionalEmbedding)
    assert isinstance(build_positional("none", 4, 8), NoPositionalEncoding)
    with pytest.raises(ValueError, match=r"unknown .*positional encoding .rope."):
        build_positional("rope", 4, 8)


# -------------------------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"positional": "rotary"},
            r"model.positional='rotary' is not one of sinusoidal, .*rope, alibi, t5_bias",
        ),
        ({"combine": "mul"}, r"model.combine='mul' is not one of add, concat"),
        ({"combine": "concat", "positional": "rope"}, r"model.combine=concat .*=rope acts inside attention"),
        ({"combine": "concat", "positional": "alibi"}, r"model.combine=concat .*=alibi"),
        ({"combine": "concat", "positional": "t5_bias"}, r"model.combine=concat .*=t5_bias"),
        ({"combine": "concat", "positional": "none"}, r"none has no position vectors"),
        ({"combine_activation": "gelu"}, r"model.combine_activation=gelu applies to combine: concat only"),
        (
            {"combine": "concat", "combine_activation": "relu"},
            r"model.combine_activation='relu' is not one of",
        ),
        ({"embedding_norm": "batchnorm"}, r"model.embedding_norm='batchnorm' is not one of none, layernorm"),
        ({"embed_dim": 15, "num_heads": 3}, r"sinusoidal needs an even model.embed_dim \(got 15\)"),
        ({"embed_dim": 15, "num_heads": 3, "positional": "scaled_sinusoidal"}, r"even model.embed_dim"),
        ({"embed_dim": 12, "num_heads": 4, "positional": "rope"}, r"head_dim = .* 3: RoPE rotates pairs"),
        ({"positional": "rope", "rotary_fraction": 0.3}, r"model.rotary_fraction=0.3 .* even integer"),
        ({"positional": "rope", "rotary_fraction": 1.5}, r"model.rotary_fraction=1.5"),
        ({"positional": "rope", "rope_base": 1.0}, r"model.rope_base=1.0 must be > 1"),
        ({"positional": "alibi", "num_layers": 0}, r"alibi acts inside attention, and model.num_layers=0"),
        ({"positional": "t5_bias", "t5_num_buckets": 2}, r"model.t5_num_buckets=2 must be >= 4"),
        ({"positional": "t5_bias", "t5_num_buckets": 33}, r"model.t5_num_buckets=33 must be even"),
        (
            {"positional": "t5_bias", "t5_max_distance": 8},
            r"model.t5_max_distance=8 must be > t5_num_buckets",
        ),
    ],
)
def test_bad_positional_settings_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**overrides)


def test_odd_embed_dim_is_fine_for_kinds_without_pairs():
    for kind in ("learned", "alibi", "t5_bias", "none"):
        ModelConfig(embed_dim=15, num_heads=3, positional=kind)
    ModelConfig(embed_dim=12, num_heads=2, positional="rope", rotary_fraction=1 / 3)  # 6 x 1/3 = 2
