"""Absolute positional encodings added to token vectors.

Shapes: ``b`` batch, ``s`` sequence, ``d`` model dim.

- :class:`SinusoidalPositionalEncoding` — Vaswani et al. 2017, "Attention Is All You Need", §3.5
  (https://arxiv.org/abs/1706.03762): ``PE(pos, 2i) = sin(pos / 10000^(2i/d))``,
  ``PE(pos, 2i+1) = cos(pos / 10000^(2i/d))``. No parameters; the table is built once, for
  ``max_seq_len`` positions, and extended on demand for longer inputs (it extrapolates by formula).
- :class:`LearnedPositionalEmbedding` — BERT (Devlin et al. 2019): one trained vector per position,
  normal(0, 0.02) init. It cannot represent positions it has no row for and says so.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_table(num_positions: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """The (num_positions, d) table; odd ``d`` keeps the last sine column."""
    position = torch.arange(num_positions, dtype=torch.float64).unsqueeze(1)  # (s, 1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(base) / dim))  # (ceil(d/2),)
    table = torch.zeros(num_positions, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div[: dim // 2])
    return table.float()


class SinusoidalPositionalEncoding(nn.Module):
    """``x (b, s, d) -> x + PE[:s]`` (no parameters)."""

    def __init__(self, embed_dim: int, max_seq_len: int = 512, base: float = 10000.0):
        super().__init__()
        self.embed_dim = embed_dim
        self.base = base
        self.register_buffer("table", sinusoidal_table(max_seq_len, embed_dim, base), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.shape[1]
        if s > self.table.shape[0]:
            # extrapolate: the formula is defined for every position
            self.table = sinusoidal_table(s, self.embed_dim, self.base).to(self.table.device)
        return x + self.table[:s].to(x.dtype)  # (b, s, d) + (s, d)


class LearnedPositionalEmbedding(nn.Module):
    """``x (b, s, d) -> x + P[:s]`` with ``P`` a trained (max_seq_len, d) matrix."""

    def __init__(self, embed_dim: int, max_seq_len: int = 512, init_std: float = 0.02):
        super().__init__()
        self.max_seq_len = max_seq_len
        self.weight = nn.Parameter(torch.empty(max_seq_len, embed_dim))
        nn.init.normal_(self.weight, std=init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.shape[1]
        if s > self.max_seq_len:
            raise ValueError(
                f"learned positions cover {self.max_seq_len} tokens, the input has {s}; learned positional "
                "embeddings cannot extrapolate (use sinusoidal, or truncate to data.max_seq_len)"
            )
        return x + self.weight[:s]


class NoPositionalEncoding(nn.Module):
    """Identity: the encoder sees a bag of tokens (a baseline for ablations)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def build_positional(kind: str, embed_dim: int, max_seq_len: int) -> nn.Module:
    if kind == "sinusoidal":
        return SinusoidalPositionalEncoding(embed_dim, max_seq_len)
    if kind == "learned":
        return LearnedPositionalEmbedding(embed_dim, max_seq_len)
    if kind == "none":
        return NoPositionalEncoding()
    raise ValueError(f"unknown positional encoding {kind!r}")
