"""Absolute 2-D positional encodings of image patches: one vector per patch, added to the patch vectors.

Shapes: ``gh x gw`` patches in row-major order (patch ``(r, c)`` at ``r * gw + c``), ``s = gh * gw``,
``d`` model dim. Every module here has ``encodings(gh, gw) -> (s, d)``.

- :class:`Sinusoidal2DPositionalEncoding` (``sinusoidal_2d``) — half the dimensions encode the column,
  half the row, each with the 1-D sin/cos table of Vaswani et al. 2017 (sines in the first half of the
  block, cosines in the second); as MAE's ``get_2d_sincos_pos_embed`` (He et al. 2022,
  https://arxiv.org/abs/2111.06377; its ``meshgrid`` puts the column first, so dims ``[0, d/2)`` hold
  the column and ``[d/2, d)`` the row). No parameters; defined for any grid. ``d`` must be divisible by 4.
- :class:`LearnedPatchPositions` (``learned``) — one trained vector per patch, ViT's choice (Dosovitskiy
  et al. 2021, §3.1: "standard learnable 1D position embeddings"). The model has to learn that patch 5
  and patch 13 are neighbours in an 8-wide grid.
- :class:`Learned2DPositionalEmbedding` (``learned_2d``) — a table of rows and a table of columns,
  ``P(r, c) = R[r] + C[c]`` (the factorised 2-D embedding the ViT paper compares in appendix D.4):
  ``(gh + gw) d`` parameters instead of ``gh gw d``, and the grid structure is built in.

A learned table holds the grid it was trained on. At another grid (another image size, same patch
size) it is resampled with bicubic interpolation, as timm's ``resample_abs_pos_embed`` (used to fine-tune
a ViT at a higher resolution, Dosovitskiy et al. 2021, §3.2): :func:`resample_position_table`. The same
grid returns the table unchanged.

Position information inside attention is :mod:`scratchlm.modules.rotary_2d` (``rope_2d``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def sincos_1d(dim: int, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """``(n,) -> (n, dim)``: ``[sin(pos * w_0..w_{dim/2-1}), cos(...)]`` with ``w_i = base^(-i / (dim/2))``."""
    omega = base ** (-torch.arange(dim // 2, dtype=torch.float64) / (dim / 2))  # (dim/2,)
    angles = torch.outer(positions.double(), omega)  # (n, dim/2)
    return torch.cat((angles.sin(), angles.cos()), dim=1)


def sincos_2d_table(grid_h: int, grid_w: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """The ``(gh * gw, dim)`` table: dims ``[0, dim/2)`` from the column, ``[dim/2, dim)`` from the row."""
    if dim % 4:
        raise ValueError(
            f"sinusoidal_2d needs a dimension divisible by 4 (sin and cos for rows and columns), got {dim}"
        )
    rows = torch.arange(grid_h).repeat_interleave(grid_w)  # (s,): r of each patch, row-major
    cols = torch.arange(grid_w).repeat(grid_h)  # (s,): c of each patch
    return torch.cat((sincos_1d(dim // 2, cols, base), sincos_1d(dim // 2, rows, base)), dim=1).float()


def resample_position_table(
    table: torch.Tensor, old_grid: tuple[int, int], new_grid: tuple[int, int], *, antialias: bool = True
) -> torch.Tensor:
    """A learned ``(gh * gw, d)`` table for ``old_grid`` as ``(gh' * gw', d)`` for ``new_grid``, by bicubic
    interpolation of each dimension over the grid (timm's ``resample_abs_pos_embed``: ``align_corners=False``,
    antialiased when shrinking). The same grid returns ``table`` itself."""
    if tuple(old_grid) == tuple(new_grid):
        return table
    gh, gw = old_grid
    d = table.shape[-1]
    x = table.reshape(1, gh, gw, d).permute(0, 3, 1, 2).float()  # (1, d, gh, gw): one image per dimension
    x = F.interpolate(x, size=tuple(new_grid), mode="bicubic", align_corners=False, antialias=antialias)
    return x.permute(0, 2, 3, 1).reshape(-1, d).to(table.dtype)  # (gh' * gw', d)


class Sinusoidal2DPositionalEncoding(nn.Module):
    """``x (b, s, d) -> x + PE_2d`` (no parameters)."""

    def __init__(self, embed_dim: int, base: float = 10000.0):
        super().__init__()
        if embed_dim % 4:
            raise ValueError(f"sinusoidal_2d needs embed_dim divisible by 4, got {embed_dim}")
        self.embed_dim, self.base = embed_dim, base
        self._cache: dict[tuple[int, int], torch.Tensor] = {}

    def encodings(self, grid_h: int, grid_w: int) -> torch.Tensor:
        key = (grid_h, grid_w)
        if key not in self._cache:  # built once per grid
            self._cache[key] = sincos_2d_table(grid_h, grid_w, self.embed_dim, self.base)
        return self._cache[key]

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        return x + self.encodings(*grid).to(device=x.device, dtype=x.dtype)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, base={self.base}"


class LearnedPatchPositions(nn.Module):
    """``x (b, s, d) -> x + P`` with ``P`` a trained ``(gh * gw, d)`` table, resampled at another grid."""

    def __init__(self, embed_dim: int, grid: tuple[int, int], init_std: float = 0.02):
        super().__init__()
        self.grid = tuple(grid)
        self.weight = nn.Parameter(torch.empty(grid[0] * grid[1], embed_dim))
        nn.init.trunc_normal_(self.weight, std=init_std, a=-2 * init_std, b=2 * init_std)

    def encodings(self, grid_h: int, grid_w: int) -> torch.Tensor:
        return resample_position_table(self.weight, self.grid, (grid_h, grid_w))

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        return x + self.encodings(*grid)

    def extra_repr(self) -> str:
        return f"grid={self.grid}, embed_dim={self.weight.shape[1]}"


class Learned2DPositionalEmbedding(nn.Module):
    """``x (b, s, d) -> x + (R[r] + C[c])`` with trained row ``R (gh, d)`` and column ``C (gw, d)`` tables."""

    def __init__(self, embed_dim: int, grid: tuple[int, int], init_std: float = 0.02):
        super().__init__()
        self.grid = tuple(grid)
        self.rows = nn.Parameter(torch.empty(grid[0], embed_dim))
        self.cols = nn.Parameter(torch.empty(grid[1], embed_dim))
        for table in (self.rows, self.cols):
            nn.init.trunc_normal_(table, std=init_std, a=-2 * init_std, b=2 * init_std)

    def encodings(self, grid_h: int, grid_w: int) -> torch.Tensor:
        # each table resampled along its own axis (a (n, 1) grid), then every (row, column) pair summed
        rows = resample_position_table(self.rows, (self.grid[0], 1), (grid_h, 1))  # (gh, d)
        cols = resample_position_table(self.cols, (1, self.grid[1]), (1, grid_w))  # (gw, d)
        return (rows[:, None, :] + cols[None, :, :]).flatten(0, 1)  # (gh * gw, d), row-major

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        return x + self.encodings(*grid)

    def extra_repr(self) -> str:
        return f"grid={self.grid}, embed_dim={self.rows.shape[1]}"


POSITIONAL_2D = {
    "sinusoidal_2d": Sinusoidal2DPositionalEncoding,
    "learned": LearnedPatchPositions,
    "learned_2d": Learned2DPositionalEmbedding,
}
"""The absolute 2-D kinds by their ``model.positional.kind`` name."""
