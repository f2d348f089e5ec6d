"""Pooling (sequence -> one vector) and the classification head.

Shapes: ``h (b, s, d)``, ``padding_mask (b, s)`` True at real tokens, ``logits (b, C)``.
"""

from __future__ import annotations

import torch
from torch import nn


def cls_pool(h: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The vector at position 0 (the [CLS] token)."""
    return h[:, 0]


def mean_pool(h: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over real tokens only (padding never counts)."""
    if padding_mask is None:
        return h.mean(1)
    m = padding_mask.unsqueeze(-1).to(h.dtype)  # (b, s, 1)
    return (h * m).sum(1) / m.sum(1).clamp_min(1.0)


def max_pool(h: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Element-wise maximum over real tokens (padding never wins)."""
    if padding_mask is None:
        return h.amax(1)
    return h.masked_fill(~padding_mask.unsqueeze(-1), torch.finfo(h.dtype).min).amax(1)


def mean_max_pool(h: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
    """``[mean; max]`` over real tokens: ``(b, 2d)``."""
    return torch.cat([mean_pool(h, padding_mask), max_pool(h, padding_mask)], dim=-1)


POOLING = {"cls": cls_pool, "mean": mean_pool, "max": max_pool, "mean_max": mean_max_pool}
POOLED_WIDTH = {"cls": 1, "mean": 1, "max": 1, "mean_max": 2}


class ClassificationHead(nn.Module):
    """``pooled (b, d) -> dropout -> Linear -> logits (b, C)``."""

    def __init__(self, embed_dim: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(embed_dim, num_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(pooled))
