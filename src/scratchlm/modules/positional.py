"""Absolute positional encodings: one vector per position, combined with the token vectors.

Shapes: ``b`` batch, ``s`` sequence, ``d`` model dim.

Every module here has ``encodings(seq_len) -> (s, d)`` (what :class:`~scratchlm.modules.input_layer.InputLayer`
combines with the token vectors, by addition or concatenation) and ``forward(x) = x + encodings``.

- :class:`SinusoidalPositionalEncoding` — Vaswani et al. 2017, "Attention Is All You Need", §3.5
  (https://arxiv.org/abs/1706.03762): ``PE(pos, 2i) = sin(pos / 10000^(2i/d))``,
  ``PE(pos, 2i+1) = cos(pos / 10000^(2i/d))``. No parameters; the table is built once, for
  ``max_seq_len`` positions, and extended on demand for longer inputs (it extrapolates by formula).
  Each (sin, cos) pair rotates with position, so ``PE(pos + k)`` is a fixed linear map of ``PE(pos)``:
  the reason the dimension should be even (an odd ``d`` leaves the last sine without its partner).
- :class:`ScaledSinusoidalPositionalEncoding` — the same table times one learned scalar ``a``,
  initialised to ``d^-1/2`` (Hua et al. 2022, "Transformer Quality in Linear Time", §2
  (https://arxiv.org/abs/2202.10447); the init follows x-transformers' ``ScaledSinusoidalEmbedding``).
  The model learns how loud positions are next to token vectors of std 0.02; it extrapolates like
  the plain table.
- :class:`LearnedPositionalEmbedding` — BERT (Devlin et al. 2019, https://arxiv.org/abs/1810.04805):
  one trained vector per position, normal(0, 0.02) init. It has no vector for positions past
  ``max_seq_len`` and says so instead of guessing.

Relative schemes act inside attention instead: :mod:`scratchlm.modules.rotary` (RoPE) and
:mod:`scratchlm.modules.attention_bias` (ALiBi, T5 buckets).
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

    def encodings(self, seq_len: int) -> torch.Tensor:
        """``PE[:s]``: ``(s, d)``."""
        if seq_len > self.table.shape[0]:
            # extrapolate: the formula is defined for every position
            self.table = sinusoidal_table(seq_len, self.embed_dim, self.base).to(self.table.device)
        return self.table[:seq_len]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.encodings(x.shape[1]).to(x.dtype)  # (b, s, d) + (s, d)


class ScaledSinusoidalPositionalEncoding(SinusoidalPositionalEncoding):
    """``x (b, s, d) -> x + a * PE[:s]`` with one learned scalar ``a`` (init ``d^-1/2``)."""

    def __init__(self, embed_dim: int, max_seq_len: int = 512, base: float = 10000.0):
        super().__init__(embed_dim, max_seq_len, base)
        self.scale = nn.Parameter(torch.tensor(embed_dim**-0.5))

    def encodings(self, seq_len: int) -> torch.Tensor:
        return self.scale * super().encodings(seq_len)  # (s, d)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, base={self.base}"


class LearnedPositionalEmbedding(nn.Module):
    """``x (b, s, d) -> x + P[:s]`` with ``P`` a trained (max_seq_len, d) matrix."""

    def __init__(self, embed_dim: int, max_seq_len: int = 512, init_std: float = 0.02):
        super().__init__()
        self.max_seq_len = max_seq_len
        self.weight = nn.Parameter(torch.empty(max_seq_len, embed_dim))
        nn.init.normal_(self.weight, std=init_std)

    def encodings(self, seq_len: int) -> torch.Tensor:
        if seq_len > self.max_seq_len:
            raise ValueError(
                f"learned positions cover {self.max_seq_len} tokens, the input has {seq_len}; learned "
                "positional embeddings cannot extrapolate (use sinusoidal, rope, alibi or t5_bias, or "
                "truncate to data.max_seq_len)"
            )
        return self.weight[:seq_len]  # (s, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.encodings(x.shape[1])


class NoPositionalEncoding(nn.Module):
    """Identity: the encoder sees a bag of tokens (a baseline for ablations)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


ABSOLUTE_KINDS = ("sinusoidal", "scaled_sinusoidal", "learned")
"""Kinds that produce position vectors for the input layer (the ones ``combine`` applies to)."""


def build_positional(kind: str, embed_dim: int, max_seq_len: int, init_std: float = 0.02) -> nn.Module:
    """An absolute positional module (``ABSOLUTE_KINDS``, or ``none`` for the identity)."""
    if kind == "sinusoidal":
        return SinusoidalPositionalEncoding(embed_dim, max_seq_len)
    if kind == "scaled_sinusoidal":
        return ScaledSinusoidalPositionalEncoding(embed_dim, max_seq_len)
    if kind == "learned":
        return LearnedPositionalEmbedding(embed_dim, max_seq_len, init_std)
    if kind == "none":
        return NoPositionalEncoding()
    raise ValueError(
        f"unknown positional encoding {kind!r} for the input layer (absolute kinds: "
        f"{', '.join(ABSOLUTE_KINDS)}, none; rope, alibi and t5_bias act inside attention, see "
        "scratchlm.models.components.position_parts)"
    )
