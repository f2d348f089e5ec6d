"""Rotary position embedding (RoPE), applied to queries and keys inside attention.

Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding", §3.4, eq. (34)
(https://arxiv.org/abs/2104.09864). Shapes: ``b`` batch, ``h`` heads, ``s`` sequence, ``hd`` head
dim, ``r`` rotary dim (``r <= hd``, even).

Each pair of dimensions ``(x_2i, x_2i+1)`` of a query or key at position ``m`` is rotated by the angle
``m * theta_i`` with ``theta_i = base^(-2i / r)``::

    x'_2i   = x_2i * cos(m theta_i) - x_2i+1 * sin(m theta_i)
    x'_2i+1 = x_2i * sin(m theta_i) + x_2i+1 * cos(m theta_i)

A rotation keeps vector norms, and ``<R_m q, R_n k> = <q, R_(n-m) k>``: attention scores depend on the
offset ``n - m`` only, never on absolute positions. Nothing is added to the token vectors.

Pairs are adjacent dimensions (the paper's layout, as torchtune's ``RotaryPositionalEmbeddings``),
not the two halves of the head (GPT-NeoX / HF Llama ``rotate_half``); the two layouts are the same
model up to a permutation of each head's dimensions. *Partial rotary* (GPT-NeoX ``rotary_pct``)
rotates the first ``r`` dimensions of each head and passes the rest through unchanged, leaving
some capacity free of position information.

The cos/sin cache is built once for ``max_seq_len`` positions and rebuilt on demand for longer
inputs: the formula is defined at every position, so RoPE extrapolates (how well the *model* does on
unseen offsets is an empirical question; see docs/input_layer.md).
"""

from __future__ import annotations

import torch
from torch import nn


class RotaryEmbedding(nn.Module):
    """``x (b, h, s, hd) -> x`` with the first ``rotary_dim`` dimensions of each head rotated by position."""

    def __init__(
        self, head_dim: int, max_seq_len: int = 512, *, base: float = 10000.0, rotary_dim: int | None = None
    ):
        super().__init__()
        rotary_dim = head_dim if rotary_dim is None else rotary_dim
        if rotary_dim < 2 or rotary_dim % 2 or rotary_dim > head_dim:
            raise ValueError(
                f"rotary_dim must be even and in [2, head_dim={head_dim}] (RoPE rotates pairs), got {rotary_dim}"
            )
        self.head_dim = head_dim
        self.rotary_dim = rotary_dim
        self.base = base
        theta = base ** (-torch.arange(0, rotary_dim, 2, dtype=torch.float64) / rotary_dim)  # (r/2,)
        self.register_buffer("theta", theta.float(), persistent=False)
        self._build_cache(max_seq_len)

    def _build_cache(self, num_positions: int) -> None:
        angles = torch.outer(
            torch.arange(num_positions, dtype=torch.float64, device=self.theta.device), self.theta.double()
        )  # (s, r/2)
        self.register_buffer("cos", angles.cos().float(), persistent=False)
        self.register_buffer("sin", angles.sin().float(), persistent=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """``positions``: the position of each of the ``s`` vectors, ``(s,)`` or per row ``(b, s)`` (a
        decoding step, left-padded prompts); default ``0 .. s-1``."""
        s = x.shape[-2]
        needed = s if positions is None else int(positions.max()) + 1
        if needed > self.cos.shape[0]:
            self._build_cache(needed)
        if positions is None:
            cos, sin = self.cos[:s], self.sin[:s]  # (s, r/2), broadcast over (b, h)
        else:
            cos, sin = self.cos[positions], self.sin[positions]  # (s, r/2) or (b, s, r/2)
            if positions.dim() == 2:
                cos, sin = cos[:, None], sin[:, None]  # (b, 1, s, r/2): the same for every head
        rot, rest = x[..., : self.rotary_dim].float(), x[..., self.rotary_dim :]
        x1, x2 = rot[..., 0::2], rot[..., 1::2]  # (b, h, s, r/2) each
        rotated = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # (b, h, s, r/2, 2)
        rotated = rotated.flatten(-2).to(x.dtype)  # (b, h, s, r): pairs back in place
        return torch.cat((rotated, rest), dim=-1)  # (b, h, s, hd)

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, rotary_dim={self.rotary_dim}, base={self.base}"
