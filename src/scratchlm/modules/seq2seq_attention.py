"""Attention of a recurrent decoder over the encoder's outputs (the source "memory").

Shapes: ``q (b, t, dq)`` decoder states (``t`` = 1 when decoding step by step), ``memory (b, s, dm)``,
``mask (b, s)`` True at real source tokens. Every module returns ``context (b, t, dm)`` and the weights
``(b, t, s)`` (zero at padding). The memory-side work that does not depend on the query (``U k`` for
additive, ``W k`` for general) is done once per source by :meth:`keys`, not at every decoder step.

- :class:`AdditiveAttention` — Bahdanau et al. 2015 (https://arxiv.org/abs/1409.0473):
  ``score = v . tanh(W q + U k)``.
- :class:`DotAttention` — Luong et al. 2015 (https://arxiv.org/abs/1508.04025) "dot": ``score = q . k``
  (needs ``dq == dm``).
- :class:`GeneralAttention` — Luong "general": ``score = q . (W k)``.
"""

from __future__ import annotations

import torch
from torch import nn


def _attend(
    scores: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``scores (b, t, s)`` -> softmax over real source positions -> ``(context (b, t, dm), weights)``."""
    weights = scores.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)  # (b, t, s)
    return weights @ memory, weights  # (b, t, dm)


class AdditiveAttention(nn.Module):
    def __init__(self, query_dim: int, memory_dim: int, attention_dim: int):
        super().__init__()
        self.query = nn.Linear(query_dim, attention_dim, bias=False)
        self.key = nn.Linear(memory_dim, attention_dim)
        self.v = nn.Linear(attention_dim, 1, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        return self.key(memory)  # (b, s, a)

    def forward(
        self, q: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = torch.tanh(self.query(q)[:, :, None, :] + keys[:, None, :, :])  # (b, t, s, a)
        return _attend(self.v(hidden).squeeze(-1), memory, mask)  # scores (b, t, s)


class DotAttention(nn.Module):
    def __init__(self, query_dim: int, memory_dim: int):
        super().__init__()
        if query_dim != memory_dim:
            raise ValueError(
                f"dot attention needs equal widths, got query {query_dim} and memory {memory_dim}"
            )

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        return memory

    def forward(
        self, q: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return _attend(q @ keys.transpose(1, 2), memory, mask)  # (b, t, dq) @ (b, dm, s)


class GeneralAttention(nn.Module):
    def __init__(self, query_dim: int, memory_dim: int):
        super().__init__()
        self.key = nn.Linear(memory_dim, query_dim, bias=False)  # W

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        return self.key(memory)  # (b, s, dq)

    def forward(
        self, q: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return _attend(q @ keys.transpose(1, 2), memory, mask)


def source_attention(kind: str, query_dim: int, memory_dim: int) -> nn.Module:
    """``bahdanau``, ``luong_dot`` or ``luong_general``."""
    if kind == "bahdanau":
        return AdditiveAttention(query_dim, memory_dim, query_dim)
    if kind == "luong_dot":
        return DotAttention(query_dim, memory_dim)
    if kind == "luong_general":
        return GeneralAttention(query_dim, memory_dim)
    raise ValueError(f"unknown attention {kind!r}; use bahdanau, luong_dot or luong_general")
