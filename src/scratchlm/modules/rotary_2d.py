"""2-D (axial) rotary position embedding on queries and keys of image patches.

RoPE (Su et al. 2021, https://arxiv.org/abs/2104.09864; :mod:`scratchlm.modules.rotary`) rotates
pairs of a head's dimensions by ``position * theta_i``. An image position is a pair ``(r, c)``; the
axial variant (Heo et al. 2024, "Rotary Position Embedding for Vision Transformer", §3.2 "RoPE-Axial",
https://arxiv.org/abs/2403.13298; EVA-02 and timm's ``RotaryEmbedding`` work the same way) gives half
of each head's pairs to the row and half to the column::

    pairs [0, hd/4):     angle r * theta_i,  theta_i = base^(-2i / (hd/2))
    pairs [hd/4, hd/2):  angle c * theta_i

Pairs are adjacent dimensions ``(x_2i, x_2i+1)``, as in the 1-D module. So a score depends on the
offset only: ``<R(r, c) q, R(r', c') k> = <q, R(r' - r, c' - c) k>``, and rows and columns are kept
apart by construction. Shapes: ``x (b, h, s, hd)`` with ``s = num_prefix_tokens + gh * gw``; the
prefix tokens (a ``[CLS]``) come first and are not rotated (angle 0), the patches follow in
row-major order. ``hd`` must be divisible by 4.

The grid is a property of the input, not of the weights: the model calls :meth:`set_grid` before the
encoder runs (the default is the grid it was built for); the cos/sin tables are built once per grid.
"""

from __future__ import annotations

import torch
from torch import nn


class Rotary2DEmbedding(nn.Module):
    """``x (b, h, s, hd) -> x`` rotated by each patch's row (first half of the pairs) and column (second)."""

    def __init__(
        self, head_dim: int, grid: tuple[int, int], *, base: float = 10000.0, num_prefix_tokens: int = 0
    ):
        super().__init__()
        if head_dim % 4 or head_dim < 4:
            raise ValueError(
                f"rope_2d needs head_dim divisible by 4 (pairs for rows and columns), got {head_dim}"
            )
        self.head_dim, self.base, self.num_prefix_tokens = head_dim, base, num_prefix_tokens
        quarter = head_dim // 4
        theta = base ** (-torch.arange(0, quarter, dtype=torch.float64) * 2 / (head_dim // 2))  # (hd/4,)
        self.register_buffer("theta", theta.float(), persistent=False)
        self._tables: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}
        self.set_grid(*grid)

    def set_grid(self, grid_h: int, grid_w: int) -> None:
        """The patch grid of the images the next forward passes see."""
        self.grid = (grid_h, grid_w)

    def angles(self, grid_h: int, grid_w: int) -> torch.Tensor:
        """``(s, hd/2)``: each position's angle per pair (zeros for the prefix tokens)."""
        theta = self.theta.double()
        rows = torch.arange(grid_h, dtype=torch.float64).repeat_interleave(grid_w)  # (gh*gw,)
        cols = torch.arange(grid_w, dtype=torch.float64).repeat(grid_h)
        patch = torch.cat((torch.outer(rows, theta), torch.outer(cols, theta)), dim=1)  # (gh*gw, hd/2)
        prefix = torch.zeros(self.num_prefix_tokens, patch.shape[1], dtype=torch.float64)
        return torch.cat((prefix, patch), dim=0)

    def _cos_sin(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if self.grid not in self._tables or self._tables[self.grid][0].device != device:
            a = self.angles(*self.grid)
            self._tables[self.grid] = (a.cos().float().to(device), a.sin().float().to(device))
        return self._tables[self.grid]

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """``positions`` is the 1-D rotary's per-step argument (incremental decoding); a patch grid is
        read whole, so only ``None`` is accepted."""
        if positions is not None:
            raise ValueError("rope_2d rotates a whole patch grid; it takes no per-step positions")
        s = x.shape[-2]
        expected = self.num_prefix_tokens + self.grid[0] * self.grid[1]
        if s != expected:
            raise ValueError(
                f"rope_2d set for a {self.grid[0]}x{self.grid[1]} grid (+{self.num_prefix_tokens} prefix) = "
                f"{expected} positions, got {s}"
            )
        cos, sin = self._cos_sin(x.device)  # (s, hd/2), broadcast over (b, h)
        xf = x.float()
        x1, x2 = xf[..., 0::2], xf[..., 1::2]  # (b, h, s, hd/2) each
        rotated = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # (b, h, s, hd/2, 2)
        return rotated.flatten(-2).to(x.dtype)  # (b, h, s, hd): pairs back in place

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, grid={self.grid}, base={self.base}, num_prefix_tokens={self.num_prefix_tokens}"
