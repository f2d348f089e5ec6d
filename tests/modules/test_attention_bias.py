"""Relative-position biases added to attention scores: ALiBi's slopes and distances, T5's buckets against
Hugging Face, and the module harness for both."""

from __future__ import annotations

import pytest
import torch

from harness import run_module_test
from scratchlm.modules import ALiBiBias, T5RelativePositionBias, alibi_slopes
from scratchlm.modules.attention_bias import RelativeBias, relative_positions, t5_relative_position_bucket


def test_alibi_module_harness():
    # no parameters or inputs to cast: the bias is computed in fp32 and the encoder casts it to x's dtype
    run_module_test(lambda: ALiBiBias(4), (6,), expected_shape=(4, 6, 6), bf16=False, num_trainable=0)


def test_t5_bias_module_harness():
    run_module_test(
        lambda: T5RelativePositionBias(3, num_buckets=8, max_distance=16, init_std=0.5),
        (12,),
        expected_shape=(3, 12, 12),
        num_trainable=8 * 3,
    )


# ------------------------------------------------------------------------------------------ ALiBi


def test_alibi_slopes_for_8_heads_are_the_paper_sequence():
    assert alibi_slopes(8) == pytest.approx([1 / 2**i for i in range(1, 9)], rel=1e-12)


def test_alibi_slopes_for_12_heads_follow_the_interleaving_rule():
    # not a power of two: the 8-head slopes, then every other slope of 16 heads (2^-0.5, 2^-1.5, ...)
    eight = [2.0**-i for i in range(1, 9)]
    sixteen = [2.0 ** (-0.5 * i) for i in range(1, 17)]
    assert alibi_slopes(16) == pytest.approx(sixteen, rel=1e-12)
    expected = eight + sixteen[0::2][:4]
    assert alibi_slopes(12) == pytest.approx(expected, rel=1e-12)
    assert expected[8:] == pytest.approx([2**-0.5, 2**-1.5, 2**-2.5, 2**-3.5])
    assert alibi_slopes(6) == pytest.approx([2**-2, 2**-4, 2**-6, 2**-8, 2**-1, 2**-3])


def test_alibi_bias_is_minus_slope_times_distance():
    bias = ALiBiBias(4)(5)  # (h, s, s)
    assert bias.shape == (4, 5, 5)
    slopes = alibi_slopes(4)
    for h in range(4):
        for i in range(5):
            for j in range(5):
                assert bias[h, i, j].item() == pytest.approx(-slopes[h] * abs(i - j))
    assert list(ALiBiBias(4).parameters()) == []


# --------------------------------------------------------------------------------------- T5 bias


@pytest.mark.parametrize(("num_buckets", "max_distance"), [(32, 128), (16, 40), (8, 20), (5, 7)])
def test_t5_buckets_equal_hugging_face(num_buckets, max_distance):
    from transformers.models.t5.modeling_t5 import T5Attention

    rel = relative_positions(300)  # offsets -299 .. 299
    ours = t5_relative_position_bucket(rel, num_buckets, max_distance)
    theirs = T5Attention._relative_position_bucket(
        rel, bidirectional=True, num_buckets=num_buckets, max_distance=max_distance
    )
    assert torch.equal(ours, theirs)
    assert ours.min() == 0 and ours.max() == 2 * (num_buckets // 2) - 1  # an odd count leaves one unused


def test_t5_bias_looks_up_one_scalar_per_head_and_bucket():
    bias_module = T5RelativePositionBias(3, num_buckets=8, max_distance=16)
    bias = bias_module(12)  # (h, s, s)
    assert bias.shape == (3, 12, 12)
    buckets = t5_relative_position_bucket(relative_positions(12), 8, 16)
    for h in range(3):
        torch.testing.assert_close(bias[h], bias_module.weight[buckets, h])
    # distances past max_distance share the last bucket of their direction: long inputs reuse it
    far = t5_relative_position_bucket(torch.tensor([16, 100, 10_000, -16, -10_000]), 8, 16)
    assert far.tolist() == [7, 7, 7, 3, 3]


@pytest.mark.parametrize("cls", [ALiBiBias, T5RelativePositionBias])
def test_between_is_a_block_of_the_square_bias(cls):
    # RelativeBias.between: new queries (slots 4..5) against every key so far (slots 0..5), as a KV cache
    # step needs; a shift of both by the same offset changes nothing (the bias is relative)
    bias = cls(3) if cls is ALiBiBias else cls(3, num_buckets=8, max_distance=6)
    assert isinstance(bias, RelativeBias)
    square = bias(6)  # (h, s, s)
    block = bias.between(torch.arange(4, 6), torch.arange(6))  # (h, 2, 6)
    torch.testing.assert_close(block, square[:, 4:6])
    torch.testing.assert_close(bias.between(torch.arange(14, 16), torch.arange(10, 16)), block)
