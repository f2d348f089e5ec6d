"""Rotary position embedding (RoPE, Su et al. 2021): the module harness; the paper's values, a complex-number
reference, norms kept and scores that depend only on the offset (partial rotary too), the cache."""

from __future__ import annotations

import math

import pytest
import torch

from harness import run_module_test
from scratchlm.modules import RotaryEmbedding


@pytest.mark.parametrize("rotary_dim", [None, 4])
def test_module_harness(rotary_dim):
    # (b, h, s, hd) queries or keys; s past max_seq_len, so the cache is rebuilt on the way
    run_module_test(
        lambda: RotaryEmbedding(8, max_seq_len=4, rotary_dim=rotary_dim),
        (torch.randn(2, 3, 6, 8),),
        expected_shape=(2, 3, 6, 8),
        num_trainable=0,
    )


def test_rope_pins_the_paper_values():
    # head_dim 4, base 10000: theta_0 = 1, theta_1 = 10000^(-2/4) = 0.01; pairs are (x0, x1), (x2, x3)
    rope = RotaryEmbedding(4, max_seq_len=8)
    x = torch.tensor([1.0, 0.0, 1.0, 0.0]).expand(1, 1, 3, 4)  # (b, h, s, hd), the same vector at 3 positions
    out = rope(x)[0, 0]
    for m in range(3):
        expected = [math.cos(m), math.sin(m), math.cos(0.01 * m), math.sin(0.01 * m)]
        torch.testing.assert_close(out[m], torch.tensor(expected), atol=1e-6, rtol=0)


def test_rope_matches_a_complex_number_reference():
    # RoFormer eq. (34) as complex multiplication: (x_2i + i x_2i+1) * exp(i m theta_i)
    torch.manual_seed(0)
    b, h, s, hd, base = 2, 3, 11, 8, 500.0
    x = torch.randn(b, h, s, hd)
    theta = base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    angles = torch.outer(torch.arange(s, dtype=torch.float64), theta)  # (s, hd/2)
    z = torch.view_as_complex(x.double().reshape(b, h, s, hd // 2, 2).contiguous())
    want = torch.view_as_real(z * torch.polar(torch.ones_like(angles), angles)).reshape(b, h, s, hd)
    torch.testing.assert_close(RotaryEmbedding(hd, 4, base=base)(x), want.float(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("rotary_dim", [16, 8, 2])
def test_rope_keeps_norms_and_scores_depend_only_on_the_offset(rotary_dim):
    torch.manual_seed(1)
    hd, s = 16, 40
    rope = RotaryEmbedding(hd, max_seq_len=s, rotary_dim=rotary_dim)
    q, k = torch.randn(hd), torch.randn(hd)
    rq = rope(q.expand(1, 1, s, hd))[0, 0]  # (s, hd): q placed at every position
    rk = rope(k.expand(1, 1, s, hd))[0, 0]
    torch.testing.assert_close(rq.norm(dim=-1), q.norm().expand(s), atol=1e-5, rtol=1e-5)
    scores = rq @ rk.T  # scores[m, n] = <R_m q, R_n k>
    for offset in (-7, 0, 3, 20):
        diagonal = torch.diagonal(scores, offset)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-4, rtol=1e-4)
    if rotary_dim < hd:  # partial rotary: the rest of the head passes through unchanged
        assert torch.equal(rq[:, rotary_dim:], q[rotary_dim:].expand(s, hd - rotary_dim))


def test_rope_cache_extends_consistently():
    rope = RotaryEmbedding(8, max_seq_len=4)
    x = torch.randn(1, 2, 10, 8)
    long = rope(x)  # rebuilds the cache for 10 positions
    torch.testing.assert_close(rope(x[:, :, :4]), long[:, :, :4])
    torch.testing.assert_close(RotaryEmbedding(8, max_seq_len=16)(x), long)


@pytest.mark.parametrize("rotary_dim", [0, 3, 10])
def test_rope_rejects_bad_rotary_dims(rotary_dim):
    with pytest.raises(ValueError, match="even"):
        RotaryEmbedding(8, rotary_dim=rotary_dim)
