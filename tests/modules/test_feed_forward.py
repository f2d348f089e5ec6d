"""The position-wise feed-forward block: the module harness; each position is transformed alone, by
``down(GELU(up(x)))``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harness import run_module_test
from scratchlm.modules import FeedForward


def test_module_harness():
    run_module_test(
        lambda: FeedForward(8, 20, dropout=0.1),
        (torch.randn(2, 5, 8),),
        expected_shape=(2, 5, 8),
        num_trainable=8 * 20 + 20 + 20 * 8 + 8,
    )


def test_each_position_alone_is_up_gelu_down():
    torch.manual_seed(0)
    ffn = FeedForward(8, 20, dropout=0.5).eval()
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        out = ffn(x)
        torch.testing.assert_close(out, F.linear(F.gelu(ffn.up(x)), ffn.down.weight, ffn.down.bias))
        for i in range(5):  # position-wise: no position sees another
            torch.testing.assert_close(out[:, i : i + 1], ffn(x[:, i : i + 1]))


def test_gelu_tanh_is_the_tanh_approximation():
    ffn = FeedForward(8, 20, activation="gelu_tanh").eval()
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        want = F.linear(F.gelu(ffn.up(x), approximate="tanh"), ffn.down.weight, ffn.down.bias)
        torch.testing.assert_close(ffn(x), want)
