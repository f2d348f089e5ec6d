"""ClassToken: the module harness; it is prepended, the same vector for every image, and trains."""

from __future__ import annotations

import torch

from harness import run_module_test
from scratchlm.modules.class_token import ClassToken


def test_module_harness():
    run_module_test(lambda: ClassToken(8, init_std=0.02), (torch.randn(3, 5, 8),), expected_shape=(3, 6, 8))


def test_prepends_one_shared_vector():
    tok = ClassToken(4)
    x = torch.randn(2, 3, 4)
    out = tok(x)
    assert torch.equal(out[:, 1:], x)
    assert torch.equal(out[0, 0], tok.token[0, 0]) and torch.equal(out[1, 0], tok.token[0, 0])
