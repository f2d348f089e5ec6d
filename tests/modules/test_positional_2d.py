"""2-D absolute positions: the module harness for each kind; sinusoidal_2d against the MAE formula written
out from the paper's definition; learned_2d is rows + columns; resampling keeps a table at the same grid
unchanged, keeps a constant table constant, and lets a model run at another grid."""

from __future__ import annotations

import math

import pytest
import torch

from harness import run_module_test
from scratchlm.modules.positional_2d import (
    Learned2DPositionalEmbedding,
    LearnedPatchPositions,
    Sinusoidal2DPositionalEncoding,
    resample_position_table,
    sincos_2d_table,
)


@pytest.mark.parametrize(
    "factory, trainable",
    [
        (lambda: Sinusoidal2DPositionalEncoding(8), 0),
        (lambda: LearnedPatchPositions(8, (2, 3)), 6 * 8),
        (lambda: Learned2DPositionalEmbedding(8, (2, 3)), (2 + 3) * 8),
    ],
)
def test_module_harness(factory, trainable):
    run_module_test(
        factory, (torch.randn(2, 6, 8), (2, 3)), expected_shape=(2, 6, 8), num_trainable=trainable
    )


def test_sinusoidal_2d_matches_the_mae_formula():
    # MAE get_2d_sincos_pos_embed: half the dims from the column (x), half from the row (y); each half is
    # [sin(pos * w_i), cos(pos * w_i)] with w_i = 1 / 10000^(i / (D/4)), i < D/4
    gh, gw, d = 3, 5, 16
    table = sincos_2d_table(gh, gw, d)
    quarter = d // 4
    for r in range(gh):
        for c in range(gw):
            row = table[r * gw + c]
            for i in range(quarter):
                w = 1.0 / 10000 ** (i / quarter)
                expected = [math.sin(c * w), math.cos(c * w), math.sin(r * w), math.cos(r * w)]
                got = [row[i], row[quarter + i], row[2 * quarter + i], row[3 * quarter + i]]
                assert [round(float(g), 5) for g in got] == [round(e, 5) for e in expected]


def test_sinusoidal_2d_needs_a_dimension_divisible_by_4():
    with pytest.raises(ValueError, match="divisible by 4"):
        Sinusoidal2DPositionalEncoding(6)


def test_learned_2d_is_a_row_vector_plus_a_column_vector():
    pe = Learned2DPositionalEmbedding(4, (2, 3))
    enc = pe.encodings(2, 3)
    assert enc.shape == (6, 4)
    torch.testing.assert_close(enc[1 * 3 + 2], pe.rows[1] + pe.cols[2])


@pytest.mark.parametrize("grid", [(4, 4), (3, 5)])
def test_resampling_to_the_same_grid_keeps_the_table(grid):
    table = torch.randn(grid[0] * grid[1], 6)
    assert torch.equal(resample_position_table(table, grid, grid), table)
    pe = LearnedPatchPositions(6, grid)
    assert torch.equal(pe.encodings(*grid), pe.weight)


def test_resampling_to_another_grid():
    assert torch.allclose(
        resample_position_table(torch.full((16, 3), 0.7), (4, 4), (6, 6)), torch.full((36, 3), 0.7)
    )
    # a table that grows along the columns still grows along the columns, at both grids
    ramp = torch.arange(4.0).repeat(4)[:, None].expand(16, 2)  # (r, c) -> c
    bigger = resample_position_table(ramp, (4, 4), (8, 8)).reshape(8, 8, 2)[..., 0]
    assert (bigger[:, 1:] >= bigger[:, :-1] - 1e-6).all() and torch.allclose(bigger[0], bigger[5])
    pe2d = Learned2DPositionalEmbedding(4, (2, 2))
    assert pe2d.encodings(3, 5).shape == (15, 4)
    assert LearnedPatchPositions(4, (2, 2))(torch.zeros(1, 9, 4), (3, 3)).shape == (1, 9, 4)
