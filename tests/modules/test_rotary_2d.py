"""2-D rotary embedding: the module harness; the angles (rows on the first half of the pairs, columns on the
second, prefix tokens unrotated); norms kept; scores depend only on the 2-D offset; the grid is checked."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from harness import run_module_test
from scratchlm.modules.rotary_2d import Rotary2DEmbedding


def test_module_harness():
    run_module_test(
        lambda: Rotary2DEmbedding(8, (2, 3), num_prefix_tokens=1),
        (torch.randn(2, 3, 7, 8),),
        expected_shape=(2, 3, 7, 8),
        num_trainable=0,
    )


def test_pins_the_angles():
    # head_dim 8: pairs 0-1 take the row (theta 1, 0.01), pairs 2-3 the column; [CLS] first, unrotated
    rope = Rotary2DEmbedding(8, (2, 3), base=10000.0, num_prefix_tokens=1)
    a = rope.angles(2, 3)
    assert a.shape == (7, 4) and torch.equal(a[0], torch.zeros(4))
    r, c = 1, 2
    expected = [r * 1.0, r * 0.01, c * 1.0, c * 0.01]
    torch.testing.assert_close(a[1 + r * 3 + c], torch.tensor(expected, dtype=torch.float64))
    x = torch.tensor([1.0, 0.0] * 4).expand(1, 1, 7, 8)
    out = rope(x)[0, 0, 1 + r * 3 + c]
    want = [v for ang in expected for v in (math.cos(ang), math.sin(ang))]
    torch.testing.assert_close(out, torch.tensor(want), atol=1e-6, rtol=0)
    assert torch.equal(rope(x)[0, 0, 0], x[0, 0, 0])  # the prefix token is not rotated


def test_keeps_norms_and_scores_depend_only_on_the_2d_offset():
    torch.manual_seed(0)
    gh, gw, hd = 4, 5, 16
    rope = Rotary2DEmbedding(hd, (gh, gw), base=100.0)
    q, k = torch.randn(hd), torch.randn(hd)
    s = gh * gw
    qs = rope(q.expand(1, 1, s, hd))[0, 0]  # the same q at every patch, rotated by its position
    ks = rope(k.expand(1, 1, s, hd))[0, 0]
    torch.testing.assert_close(qs.norm(dim=-1), q.norm().expand(s), atol=1e-5, rtol=1e-5)
    scores: dict[tuple[int, int], list[float]] = {}
    for (r1, c1), (r2, c2) in itertools.product(itertools.product(range(gh), range(gw)), repeat=2):
        score = float(qs[r1 * gw + c1] @ ks[r2 * gw + c2])
        scores.setdefault((r2 - r1, c2 - c1), []).append(score)
    for offset, values in scores.items():
        assert max(values) - min(values) < 1e-4, offset
    # and not on the 1-D index distance alone: (0, +1) and (+1, -4) are both 1 apart in row-major order
    assert abs(scores[(0, 1)][0] - scores[(1, -4)][0]) > 1e-3


def test_checks_head_dim_and_sequence_length():
    with pytest.raises(ValueError, match="divisible by 4"):
        Rotary2DEmbedding(6, (2, 2))
    rope = Rotary2DEmbedding(8, (2, 2))
    with pytest.raises(ValueError, match="2x2 grid"):
        rope(torch.randn(1, 1, 5, 8))
    rope.set_grid(3, 3)
    assert rope(torch.randn(1, 1, 9, 8)).shape == (1, 1, 9, 8)
