"""Pooling (sequence -> one vector) and the classification heads.

Shapes: ``h (b, s, d)``, ``padding_mask (b, s)`` True at real tokens, ``logits (b, C)``.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from scratchlm.modules.rnn import final_states


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


def last_pool(h: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The vector at each row's last real token (right padding; padding never counts): a left-to-right
    RNN's final state, Keras's ``LSTM(units)`` without ``return_sequences``."""
    return final_states(h, padding_mask)


POOLING = {
    "cls": cls_pool,
    "mean": mean_pool,
    "max": max_pool,
    "mean_max": mean_max_pool,
    "last": last_pool,
}
POOLED_WIDTH = {"cls": 1, "mean": 1, "max": 1, "mean_max": 2, "last": 1}


def pooling(name: str, *, bidirectional_rnn: bool = False):
    """``POOLING[name]``; ``last`` over a bidirectional RNN's outputs takes each direction's final state
    (left to right at the last real token, right to left at the first), not the right-to-left pass's
    first step."""
    if name == "last" and bidirectional_rnn:
        return partial(final_states, bidirectional=True)
    return POOLING[name]


class ClassificationHead(nn.Module):
    """``pooled (b, d) -> dropout -> Linear -> logits (b, C)``."""

    def __init__(self, embed_dim: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(embed_dim, num_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(pooled))


class SigmoidHead(nn.Module):
    """Two classes from one output unit: ``pooled (b, d) -> dropout -> Linear(d, 1) -> z (b, 1)``, and
    ``p(class 1) = sigmoid(z)`` (Keras's ``Dense(1, activation="sigmoid")``, trained with binary
    cross-entropy). It returns ``[0, z] (b, 2)``: softmax of those two logits is exactly ``(1 - sigmoid(z),
    sigmoid(z))`` and their cross-entropy is the binary cross-entropy of ``z``, so evaluation, prediction,
    serving and export read it like any two-class head. Half the head's weights of a two-unit softmax."""

    def __init__(self, embed_dim: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(embed_dim, 1)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        z = self.proj(self.dropout(pooled))  # (b, 1)
        return torch.cat((torch.zeros_like(z), z), -1)  # (b, 2)
