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


POOLING = {"cls": cls_pool, "mean": mean_pool}


class ClassificationHead(nn.Module):
    """``pooled (b, d) -> dropout -> Linear -> logits (b, C)``."""

    def __init__(self, embed_dim: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(embed_dim, num_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(pooled))
